/**
 * Pointwise fusion: an elementwise op whose input comes from another elementwise op (used only
 * there, same output shape) merges with it into one vkrt::FusedElementwise node; to a fixpoint
 * this turns every chain or small single-output DAG of float elementwise ops into one generated
 * kernel. Scalar constants are inlined into the program; other inputs (any broadcastable shape)
 * stay bound. Runs after vertical fusion, so activations that fit a Conv/Gemm epilogue go there.
 */
import { Node } from '../../../ir/graph';
import { MAX_FUSED_INPUTS, MAX_FUSED_STEPS } from '../../../ops/fused';
import { isFusableOp, Program, programAttr, readProgram, PROGRAM_ATTR, Ref, Step } from '../../../ops/fused/program';
import { FUSED_ATTR, fusedNode, GraphView, Rule, VKRT_DOMAIN } from '../rule';
import { isF32, scalarOf } from '../util';

/** Ops of the vkrt domain that are elementwise (pattern-recognised activations). */
const VKRT_POINTWISE = new Set(['Gelu', 'HardSwish', 'Mish']);

interface Fragment { program: Program; inputs: string[] }

/** A node as a program over its non-scalar inputs, or undefined when it cannot join one. */
export function fragmentOf(node: Node, g: GraphView): Fragment | undefined {
  if (node.domain === VKRT_DOMAIN && node.opType === 'FusedElementwise') return { program: readProgram(node), inputs: node.inputs.slice() };
  const vk = node.domain === VKRT_DOMAIN && VKRT_POINTWISE.has(node.opType);
  if ((node.domain !== '' && !vk) || !isFusableOp(node.opType) || node.opType === 'PRelu') return undefined;
  if (node.outputs.length !== 1 || !isF32(g, node.outputs[0]) || !g.shape(node.outputs[0])) return undefined;
  const opset = g.opset('');
  if (node.inputs.length > 1 && opset < 7) return undefined; // legacy broadcast attributes
  const inputs: string[] = [];
  const args: Ref[] = [];
  for (const [k, name] of node.inputs.entries()) {
    if (!name) {
      if (node.opType !== 'Clip') return undefined;
      args.push({ const: k === 1 ? -Infinity : Infinity });
      continue;
    }
    const c = scalarOf(g, name);
    if (c !== undefined && g.type(name)?.dtype === 'float32') { args.push({ const: c }); continue; }
    if (node.opType === 'Clip' && k > 0) return undefined; // run-time bounds: keep the op's own kernel
    if (!isF32(g, name)) return undefined;
    let j = inputs.indexOf(name);
    if (j < 0) { inputs.push(name); j = inputs.length - 1; }
    args.push({ in: j });
  }
  const attrs = Object.fromEntries([...node.attrs].filter(([k, a]) => k !== FUSED_ATTR && (a.type === 'float' || a.type === 'int' || a.type === 'string')));
  const step: Step = { op: node.opType, args, attrs, from: node.name || undefined };
  return { program: { opset: vk ? Math.max(opset, 20) : opset, steps: [step] }, inputs };
}

/** The producer's program feeding the consumer's input `v`, as one program. */
export function compose(prod: Fragment, cons: Fragment, v: string): Fragment {
  const inputs = prod.inputs.slice();
  const idx = (name: string) => {
    let k = inputs.indexOf(name);
    if (k < 0) { inputs.push(name); k = inputs.length - 1; }
    return k;
  };
  const steps: Step[] = prod.program.steps.slice();
  const off = steps.length;
  for (const s of cons.program.steps) {
    steps.push({
      ...s,
      args: s.args.map((r): Ref => ('in' in r ? (cons.inputs[r.in] === v ? { step: off - 1 } : { in: idx(cons.inputs[r.in]) }) : 'step' in r ? { step: r.step + off } : r)),
    });
  }
  // a program's attributes follow one opset: steps recorded at different opsets stay apart
  return { program: { opset: prod.program.opset, steps }, inputs };
}

/** How many inputs a fused kernel of this output rank can bind (params: n, dims, strides). */
function inputBudget(rank: number): number {
  const r = Math.max(1, rank);
  return Math.min(MAX_FUSED_INPUTS, Math.floor((32 - 1 - r) / r));
}

export const pointwiseFusion: Rule = {
  name: 'pointwise-fusion',
  ops: ['*'],
  match(cons, g) {
    const cf = fragmentOf(cons, g);
    if (!cf) return undefined;
    const shape = g.shape(cons.outputs[0])!;
    for (const v of cf.inputs) {
      const prod = g.producer(v);
      if (!prod || !g.usedOnlyBy(v, cons)) continue;
      const pf = fragmentOf(prod, g);
      if (!pf || g.shape(v)?.join(',') !== shape.join(',') || pf.program.opset !== cf.program.opset) continue;
      if (pf.program.steps.length + cf.program.steps.length > MAX_FUSED_STEPS) continue;
      const merged = compose(pf, cf, v);
      if (merged.inputs.length > inputBudget(shape.length)) continue;
      const node = fusedNode(cons, [prod, cons], { opType: 'FusedElementwise', domain: VKRT_DOMAIN, inputs: merged.inputs });
      for (const k of [...node.attrs.keys()]) if (k !== FUSED_ATTR) node.attrs.delete(k);
      node.attrs.set(PROGRAM_ATTR, programAttr(merged.program));
      return { remove: [prod, cons], add: [node] };
    }
    return undefined;
  },
};

export const POINTWISE_RULES: readonly Rule[] = [pointwiseFusion];
