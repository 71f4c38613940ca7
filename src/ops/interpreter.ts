import { GraphError, UnsupportedError } from '../errors';
import { FunctionDef, Graph, Model, Node } from '../ir/graph';
import { Tensor, rounderFor } from '../ir/tensor';
import { registry as defaultRegistry } from './index';
import { OpRegistry } from './registry';
import { OpContext, RuntimeValue } from './types';
import { Attrs } from '../ir/attrs';

export interface InterpretOptions {
  registry?: OpRegistry;
  /** Called after every node with its inputs and outputs (debugging, calibration histograms). */
  onNode?(node: Node, inputs: readonly (RuntimeValue | undefined)[], outputs: readonly RuntimeValue[]): void;
  /** Also return every intermediate value, not just the graph outputs. */
  keepAll?: boolean;
}

/** A chain of name -> value maps: a subgraph sees its enclosing graphs' values. */
class Scope {
  private readonly vals = new Map<string, RuntimeValue>();
  constructor(private readonly parent?: Scope) {}
  get(name: string): RuntimeValue | undefined {
    if (this.vals.has(name)) return this.vals.get(name);
    return this.parent?.get(name);
  }
  has(name: string): boolean {
    return this.vals.has(name) || (this.parent?.has(name) ?? false);
  }
  set(name: string, v: RuntimeValue): void {
    this.vals.set(name, v);
  }
  entries(): IterableIterator<[string, RuntimeValue]> {
    return this.vals.entries();
  }
}

/**
 * The reference interpreter: runs a model on the CPU through each op's `reference`.
 * Returns the graph outputs by name (all values with `keepAll`).
 */
export function interpret(model: Model, feeds: Record<string, RuntimeValue> | Map<string, RuntimeValue>, options: InterpretOptions = {}): Map<string, RuntimeValue> {
  const it = new Interpreter(model, options);
  return it.run(feeds);
}

export class Interpreter {
  private readonly reg: OpRegistry;
  private readonly functions = new Map<string, FunctionDef>();

  constructor(private readonly model: Model, private readonly options: InterpretOptions = {}) {
    this.reg = options.registry ?? defaultRegistry;
    for (const f of model.functions) this.functions.set(`${f.domain}::${f.name}`, f);
  }

  run(feeds: Record<string, RuntimeValue> | Map<string, RuntimeValue>): Map<string, RuntimeValue> {
    const g = this.model.graph;
    if (!g.isSorted()) g.topoSort(); // ONNX requires sorted nodes; some exporters' cut models are not
    const scope = new Scope();
    const feedMap = feeds instanceof Map ? feeds : new Map(Object.entries(feeds));
    for (const [name, t] of g.initializers) scope.set(name, t);
    for (const name of g.inputs) {
      const v = feedMap.get(name);
      // float16 feeds given as half bits become float32 values, the reference's host representation
      if (v !== undefined) scope.set(name, v instanceof Tensor ? v.normalized() : v);
      else if (!g.initializers.has(name)) throw new GraphError(`graph input '${name}' was not given a value`);
    }
    this.runNodes(g.nodes, scope, this.model.opsets);
    const out = new Map<string, RuntimeValue>();
    if (this.options.keepAll) for (const [k, v] of scope.entries()) out.set(k, v);
    for (const o of g.outputs) {
      if (!scope.has(o)) throw new GraphError(`graph output '${o}' was not computed`);
      out.set(o, scope.get(o)!);
    }
    return out;
  }

  private runNodes(nodes: readonly Node[], scope: Scope, opsets: Map<string, number>): void {
    for (const node of nodes) this.runNode(node, scope, opsets);
  }

  private runNode(node: Node, scope: Scope, opsets: Map<string, number>): void {
    const values = node.inputs.map((i) => {
      if (!i) return undefined;
      if (!scope.has(i)) throw new GraphError(`input '${i}' has no value`, node);
      return scope.get(i);
    });
    const fn = this.functions.get(`${node.domain}::${node.opType}`);
    let outputs: RuntimeValue[];
    if (fn && !this.reg.get(node.domain, node.opType)) {
      outputs = this.runFunction(fn, node, values, scope);
    } else {
      const opset = opsets.get(node.domain) ?? (node.domain === '' ? opsets.get('ai.onnx') : undefined);
      if (opset === undefined) throw new UnsupportedError(`the model imports no opset for domain '${node.domain || 'ai.onnx'}'`, node);
      const def = this.reg.resolve(node, opset);
      const ctx: OpContext = {
        node,
        opset,
        attrs: new Attrs(node),
        values,
        outputCount: node.outputs.length,
        runGraph: (graph: Graph, inputs: (RuntimeValue | undefined)[]) => this.runGraph(graph, inputs, scope, opsets),
        fail: (m: string) => { throw new GraphError(m, node); },
        unsupported: (m: string) => { throw new UnsupportedError(m, node); },
      };
      const tensors = values.map((v) => (v instanceof Tensor ? v : undefined));
      try {
        outputs = def.reference(ctx, tensors);
      } catch (e) {
        if (e instanceof GraphError || e instanceof UnsupportedError) throw e;
        if (e instanceof RangeError && /Array buffer allocation|Invalid typed array length|Invalid array length/.test(e.message)) {
          throw new GraphError(`output too large to allocate (${e.message})`, node);
        }
        throw new GraphError(`reference failed: ${(e as Error).message}`, node);
      }
    }
    node.outputs.forEach((name, k) => {
      if (!name) return;
      const v = outputs[k];
      if (v === undefined) throw new GraphError(`produced no value for output ${k} ('${name}')`, node);
      if (v instanceof Tensor) roundNarrow(v);
      scope.set(name, v);
    });
    this.options.onNode?.(node, values, outputs);
  }

  /** Run a subgraph with positional inputs; returns its outputs in order. */
  private runGraph(graph: Graph, inputs: (RuntimeValue | undefined)[], outer: Scope, opsets: Map<string, number>): RuntimeValue[] {
    const scope = new Scope(outer);
    for (const [name, t] of graph.initializers) scope.set(name, t);
    graph.inputs.forEach((name, k) => {
      const v = inputs[k];
      if (v !== undefined) scope.set(name, v);
    });
    this.runNodes(graph.nodes, scope, opsets);
    return graph.outputs.map((o) => {
      if (!scope.has(o)) throw new GraphError(`subgraph '${graph.name}' did not compute its output '${o}'`);
      return scope.get(o)!;
    });
  }

  /** Run a model-local function: bind inputs, substitute attribute references, run its body. */
  private runFunction(fn: FunctionDef, call: Node, values: (RuntimeValue | undefined)[], outer: Scope): RuntimeValue[] {
    const scope = new Scope();
    fn.inputs.forEach((name, k) => {
      const v = values[k];
      if (v !== undefined) scope.set(name, v);
    });
    const body = fn.nodes.map((n) => {
      const attrs = new Map(n.attrs);
      for (const [k, a] of n.attrs) {
        if (!a.refAttrName) continue;
        const given = call.attrs.get(a.refAttrName) ?? fn.attributeDefaults.get(a.refAttrName);
        if (given) attrs.set(k, given); else attrs.delete(k);
      }
      return new Node({ name: n.name, opType: n.opType, domain: n.domain, inputs: n.inputs, outputs: n.outputs, attrs });
    });
    const opsets = new Map([...this.model.opsets, ...fn.opsets]);
    void outer;
    this.runNodes(body, scope, opsets);
    return fn.outputs.map((o) => {
      if (!scope.has(o)) throw new GraphError(`function '${fn.name}' did not compute '${o}'`, call);
      return scope.get(o)!;
    });
  }
}

/** Keep narrow-float tensors exactly representable in their type, whatever the op wrote. */
function roundNarrow(t: Tensor): void {
  if (t.dtype === 'float32' || t.dtype === 'float64' || !(t.data instanceof Float32Array)) return;
  // Not saturating: values the op already rounded stay as they are (Cast's saturate=0 keeps Inf).
  const r = rounderFor(t.dtype, false);
  if (!r) return;
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = r(d[i]);
}
