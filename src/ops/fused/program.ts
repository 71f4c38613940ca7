/**
 * The program of a fused pointwise node (vkrt::FusedElementwise): a list of elementwise ONNX ops
 * over the node's inputs, earlier steps' results and inlined scalar constants; the last step is the
 * output. The same program runs on the CPU (each step through the op's own reference, so a fused
 * node stays its own oracle) and becomes one GLSL expression list for the pointwise generator.
 */
import { GraphError } from '../../errors';
import { Attr, Node } from '../../ir/graph';
import { Tensor } from '../../ir/tensor';
import { ELEMENTWISE_GLSL_EXTRA, ELEMENTWISE_SCALAR } from '../elementwise/scalar-table';
import { OpRegistry } from '../registry';
import { OpContext } from '../types';
import { Attrs } from '../../ir/attrs';

/** An operand: the fused node's input k, step j's result, or an inlined scalar. */
export type Ref = { in: number } | { step: number } | { const: number };

export interface Step {
  /** ONNX op type (ai.onnx domain). */
  op: string;
  args: Ref[];
  /** The op's scalar attributes, as they were on the original node. */
  attrs: Record<string, Attr>;
  /** The original node's name (for messages). */
  from?: string;
}

export interface Program {
  /** ai.onnx opset the steps' attributes follow. */
  opset: number;
  steps: Step[];
}

/** Name of the node attribute holding the program (JSON). */
export const PROGRAM_ATTR = 'vkrt_program';

/** Ops a program may hold: float elementwise ops with a GLSL expression and the input's dtype as output. */
export function isFusableOp(op: string): boolean {
  if (op === 'Pow' || op === 'Clip') return true;
  const d = ELEMENTWISE_SCALAR[op];
  return !!d && !!d.glsl && d.out === 'same' && d.types.includes('float32') && op !== 'Mod' && op !== 'Max' && op !== 'Min';
}

/** Programs already parsed, by attribute (the optimizer reads each fused node's program many times). */
const parsed = new WeakMap<Attr, { json: string; program: Program }>();

/** The node's program. Treat it as read-only: it may be shared with other readers. */
export function readProgram(node: Node): Program {
  const a = node.attrs.get(PROGRAM_ATTR);
  if (!a || a.type !== 'string') throw new GraphError(`attribute ${PROGRAM_ATTR} is missing`, node);
  const hit = parsed.get(a);
  if (hit && hit.json === a.value) return hit.program;
  try {
    const program = JSON.parse(a.value as string) as Program;
    parsed.set(a, { json: a.value as string, program });
    return program;
  } catch (e) {
    throw new GraphError(`attribute ${PROGRAM_ATTR} is not valid JSON: ${(e as Error).message}`, node);
  }
}

export function programAttr(p: Program): Attr {
  const a: Attr = { type: 'string', value: JSON.stringify(p) };
  parsed.set(a, { json: a.value as string, program: p });
  return a;
}

/** Evaluate a program on the CPU: every step through its op's reference. */
export function evaluateProgram(p: Program, inputs: readonly Tensor[], registry: OpRegistry, where: Node): Tensor {
  const results: Tensor[] = [];
  const dtype = inputs[0]?.dtype ?? 'float32';
  for (const s of p.steps) {
    const def = registry.get('', s.op);
    if (!def) throw new GraphError(`fused step ${s.op} has no definition`, where);
    const args = s.args.map((r) => ('in' in r ? inputs[r.in] : 'step' in r ? results[r.step] : Tensor.scalar(dtype, r.const)));
    const node = new Node({ name: s.from ?? where.name, opType: s.op, inputs: args.map((_, k) => `a${k}`), outputs: ['y'], attrs: s.attrs });
    const ctx: OpContext = {
      node, opset: Math.max(p.opset, ELEMENTWISE_SCALAR[s.op]?.since ?? 1), attrs: new Attrs(node), values: args, outputCount: 1,
      runGraph: () => { throw new GraphError('no subgraphs in a fused step', where); },
      fail: (m) => { throw new GraphError(`fused step ${s.op}: ${m}`, where); },
      unsupported: (m) => { throw new GraphError(`fused step ${s.op}: ${m}`, where); },
    };
    results.push(def.reference(ctx, args)[0] as Tensor);
  }
  return results[results.length - 1];
}

/** An exact GLSL float literal. */
export function glslFloat(v: number): string {
  if (Number.isNaN(v)) return 'uintBitsToFloat(0x7fc00000u)';
  if (v === Infinity) return 'uintBitsToFloat(0x7f800000u)';
  if (v === -Infinity) return 'uintBitsToFloat(0xff800000u)';
  const f = new Float32Array([v]);
  return `uintBitsToFloat(0x${new Uint32Array(f.buffer)[0].toString(16)}u)`;
}

/**
 * GLSL statements computing the program: `float t<j> = ...;` per step; the result is the last t.
 * `operand(k)` names the shader variable of input k.
 */
export function programGlsl(p: Program, operand: (k: number) => string, where: Node): string[] {
  const lines: string[] = [];
  p.steps.forEach((s, j) => {
    const args = s.args.map((r) => ('in' in r ? operand(r.in) : 'step' in r ? `t${r.step}` : glslFloat(r.const)));
    const node = new Node({ name: s.from ?? where.name, opType: s.op, attrs: s.attrs });
    const attrs = new Attrs(node);
    const fail = (m: string): never => { throw new GraphError(`fused step ${s.op}: ${m}`, where); };
    let expr: string;
    let params: Record<string, number> = {};
    if (s.op === 'Clip') {
      // bounds: inlined constants (inputs 1, 2) or, before opset 11, attributes
      const lo = p.opset < 11 ? glslFloat(attrs.float('min', -Infinity)) : args[1] ?? glslFloat(-Infinity);
      const hi = p.opset < 11 ? glslFloat(attrs.float('max', Infinity)) : args[2] ?? glslFloat(Infinity);
      expr = `vkrt_clip(a, ${lo}, ${hi})`; // NaN stays NaN, as in the reference
    } else {
      const d = ELEMENTWISE_SCALAR[s.op];
      expr = d?.glsl ?? ELEMENTWISE_GLSL_EXTRA[s.op] ?? fail('no GLSL expression');
      if (d?.params) params = { ...d.params(attrs, fail, Math.max(p.opset, d.since ?? 1)) };
    }
    for (const [name, v] of Object.entries(params)) expr = expr.replace(new RegExp(`\\b${name}\\b`, 'g'), glslFloat(v));
    expr = expr.replace(/\b([ab])\b/g, (m) => `(${args[m === 'a' ? 0 : 1]})`);
    lines.push(`  float t${j} = ${expr};`);
  });
  return lines;
}
