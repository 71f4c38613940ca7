/**
 * Shape inference with constant propagation over a graph. For each node in order: when every input
 * is known at build time, the op's reference computes the outputs (constant folding; this is how
 * Shape -> Gather -> Concat -> Reshape chains disappear); otherwise the op's inferShape gives the
 * output types. Shape and Size fold from a static input shape alone, whatever the input's size.
 */
import { GraphError, UnsupportedError } from '../errors';
import { Dim, Graph, Node, ValueType } from '../ir/graph';
import { Tensor } from '../ir/tensor';
import { registry as defaultRegistry } from './index';
import { OpRegistry } from './registry';
import { OpContext, RuntimeValue, ShapeContext } from './types';
import { Attrs } from '../ir/attrs';

/** Largest constant (in elements) the folder will materialize. */
export const FOLD_LIMIT = 1 << 24;

export interface InferOptions {
  registry?: OpRegistry;
  /** Types for graph inputs that override the model's (e.g. concrete batch size). */
  inputTypes?: Map<string, ValueType>;
  /** Fold constants (default true). */
  fold?: boolean;
  /** Types and constants of enclosing graphs (for subgraphs). */
  outerTypes?: Map<string, ValueType>;
  outerConstants?: Map<string, Tensor>;
  /** Called for nodes that could be neither folded nor inferred. */
  onUnknown?(node: Node, reason: string): void;
}

export interface InferResult {
  types: Map<string, ValueType>;
  /** Values known at build time: initializers and folded results. */
  constants: Map<string, Tensor>;
  /** Nodes whose outputs were folded into constants. */
  folded: Set<Node>;
}

export function typeOf(t: Tensor): ValueType {
  return { kind: 'tensor', dtype: t.dtype, shape: [...t.dims] };
}

export function isStatic(shape: readonly Dim[] | undefined): shape is number[] {
  return !!shape && shape.every((d) => typeof d === 'number');
}

export function inferShapes(graph: Graph, opsets: Map<string, number>, options: InferOptions = {}): InferResult {
  const reg = options.registry ?? defaultRegistry;
  const fold = options.fold ?? true;
  const types = new Map<string, ValueType>([...(options.outerTypes ?? []), ...graph.types]);
  const constants = new Map<string, Tensor>(options.outerConstants ?? []);
  const folded = new Set<Node>();
  for (const [name, t] of graph.initializers) {
    constants.set(name, t);
    types.set(name, typeOf(t));
  }
  for (const [name, t] of options.inputTypes ?? []) {
    types.set(name, t);
    constants.delete(name);
  }
  for (const node of graph.nodes) {
    const opset = opsets.get(node.domain) ?? 0;
    const def = reg.get(node.domain, node.opType);
    if (!def) {
      options.onUnknown?.(node, 'operator not implemented');
      continue;
    }
    const inTypes = node.inputs.map((i) => (i ? types.get(i) : undefined));
    const inConsts = node.inputs.map((i) => (i ? constants.get(i) : undefined));
    const attrs = new Attrs(node);
    const fail = (m: string): never => { throw new GraphError(m, node); };
    const unsupported = (m: string): never => { throw new UnsupportedError(m, node); };
    const hasSubgraph = [...node.attrs.values()].some((a) => a.type === 'graph' || a.type === 'graphs');
    const allConst = node.inputs.every((i, k) => !i || inConsts[k] !== undefined);
    let outs: RuntimeValue[] | undefined;
    if (fold && !def.traits?.nondeterministic && !hasSubgraph && node.domain === '') {
      let args: (Tensor | undefined)[] | undefined;
      if (allConst) args = inConsts;
      else if (def.traits?.shapeOnly) {
        const t = inTypes[0];
        // the reference reads only the dims: no data is made, so no size limit applies to the input
        if (t && isStatic(t.shape)) args = [Tensor.shapeOnly(t.dtype, t.shape)];
      }
      if (args) {
        const ctx: OpContext = {
          node, opset, attrs, values: args, outputCount: node.outputs.length,
          runGraph: () => fail('subgraphs are not folded'), fail, unsupported,
        };
        outs = def.reference(ctx, args);
        if (outs.some((o) => o instanceof Tensor && o.size > FOLD_LIMIT)) outs = undefined;
      }
    }
    if (outs && outs.every((o) => o instanceof Tensor)) {
      folded.add(node);
      node.outputs.forEach((name, k) => {
        if (!name) return;
        const t = outs![k] as Tensor;
        constants.set(name, t);
        types.set(name, typeOf(t));
      });
      continue;
    }
    if (!def.inferShape) {
      options.onUnknown?.(node, 'no shape inference for this operator and its inputs are not constant');
      continue;
    }
    const sctx: ShapeContext = {
      node, opset, attrs, outputCount: node.outputs.length,
      constant: (i) => inConsts[i], fail, unsupported,
      inferGraph: (sub, ins) => {
        const inputTypes = new Map<string, ValueType>();
        sub.inputs.forEach((n, k) => { const t = ins[k]; if (t) inputTypes.set(n, t); });
        const r = inferShapes(sub, opsets, { registry: reg, inputTypes, outerTypes: types, outerConstants: constants, fold });
        return sub.outputs.map((o) => r.types.get(o));
      },
    };
    const res = def.inferShape(sctx, inTypes);
    node.outputs.forEach((name, k) => {
      if (name && res[k]) types.set(name, mergeType(types.get(name), res[k]));
    });
  }
  propagateBack(graph, reg, types, constants);
  return { types, constants, folded };
}

/**
 * Shapes carried backwards through shape-preserving ops (OpTraits.sameShape): where forward
 * inference left an input's shape open (a reduction over axes given at run time, say) and the op's
 * output shape is static (declared by the model, as graph outputs are), the input has that shape.
 * Walks the nodes last to first, so a chain (ReduceSum -> Log -> Cast -> output) resolves in one pass.
 */
function propagateBack(graph: Graph, reg: OpRegistry, types: Map<string, ValueType>, constants: Map<string, Tensor>): void {
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const node = graph.nodes[k];
    if (!reg.get(node.domain, node.opType)?.traits?.sameShape) continue;
    const [i0] = node.inputs, [o0] = node.outputs;
    if (!i0 || !o0 || constants.has(i0)) continue;
    const out = types.get(o0), inp = types.get(i0);
    if (!out?.shape || !isStatic(out.shape) || !inp || isStatic(inp.shape)) continue;
    if (inp.shape && (inp.shape.length !== out.shape.length || inp.shape.some((d, a) => typeof d === 'number' && d !== out.shape![a]))) continue;
    types.set(i0, { ...inp, shape: [...out.shape] });
  }
}

/** Combine a declared type (value_info) with an inferred one: inferred static dims win. */
function mergeType(declared: ValueType | undefined, inferred: ValueType): ValueType {
  if (!declared || !declared.shape) return inferred;
  if (!inferred.shape) return { ...inferred, shape: declared.shape };
  if (declared.shape.length !== inferred.shape.length) return inferred;
  return { ...inferred, shape: inferred.shape.map((d, i) => (typeof d === 'number' ? d : declared.shape![i])) };
}
