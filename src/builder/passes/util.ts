/**
 * Small pattern helpers shared by the rule tables: constants as numbers, attribute access,
 * running an op's reference on constants (so rules compute folded weights with the same code the
 * interpreter uses).
 */
import { GraphError } from '../../errors';
import { Attr, Node } from '../../ir/graph';
import { Tensor } from '../../ir/tensor';
import { OpContext } from '../../ops/types';
import { GraphView } from './rule';
import { Attrs } from '../../ir/attrs';

export const float = (v: number): Attr => ({ type: 'float', value: v });
export const int = (v: number): Attr => ({ type: 'int', value: v });
export const ints = (v: readonly number[]): Attr => ({ type: 'ints', value: v.slice() });
export const str = (v: string): Attr => ({ type: 'string', value: v });

/** The node's attributes, typed and defaulted. */
export function attrsOf(node: Node): Attrs {
  return new Attrs(node);
}

/** The value of a constant holding one element (any rank), else undefined. */
export function scalarOf(g: GraphView, name: string | undefined): number | undefined {
  if (!name) return undefined;
  const t = g.constant(name);
  if (!t || t.size !== 1 || t.dtype === 'string') return undefined;
  return Number(t.get(0));
}

/** Is `name` a constant whose every element equals `v` (within a relative `tol`)? */
export function isConstEqual(g: GraphView, name: string | undefined, v: number, tol = 1e-6): boolean {
  if (!name) return false;
  const t = g.constant(name);
  if (!t || t.dtype === 'string' || t.size === 0) return false;
  for (let i = 0; i < t.size; i++) if (Math.abs(Number(t.get(i)) - v) > tol * Math.max(1, Math.abs(v))) return false;
  return true;
}

/** The producer of `name` if its op type is one of `ops` (or it passes the predicate), in the ONNX domain or vkrt's, and `name` feeds `user` only. */
export function producerIf(g: GraphView, name: string | undefined, ops: string | readonly string[] | ((n: Node, g: GraphView) => boolean), user?: Node): Node | undefined {
  if (!name) return undefined;
  const p = g.producer(name);
  if (!p) return undefined;
  if (typeof ops === 'function' ? !ops(p, g) : !(typeof ops === 'string' ? [ops] : ops).includes(p.opType)) return undefined;
  if (p.domain !== '' && p.domain !== 'vkrt') return undefined;
  if (user && !g.usedOnlyBy(name, user)) return undefined;
  return p;
}

/** The other input of a binary node, given one of them. */
export function otherInput(node: Node, name: string): string | undefined {
  if (node.inputs.length !== 2) return undefined;
  if (node.inputs[0] === name) return node.inputs[1];
  if (node.inputs[1] === name) return node.inputs[0];
  return undefined;
}

/** Run an ONNX op's reference on constants (the folding and weight-rewriting workhorse). */
export function evalOp(g: GraphView, opType: string, inputs: (Tensor | undefined)[], attrs: Record<string, Attr> = {}, opset?: number): Tensor[] {
  const node = new Node({ name: `vkrt.eval.${opType}`, opType, attrs });
  const def = g.registry.get('', opType);
  if (!def) throw new GraphError(`no reference for ${opType}`, node);
  const ctx: OpContext = {
    node, opset: opset ?? Math.max(13, g.opset('')), attrs: new Attrs(node), values: inputs, outputCount: 1,
    runGraph: () => { throw new GraphError('no subgraphs here', node); },
    fail: (m) => { throw new GraphError(m, node); },
    unsupported: (m) => { throw new GraphError(m, node); },
  };
  return def.reference(ctx, inputs) as Tensor[];
}

/** A float32 tensor from numbers. */
export function f32(dims: readonly number[], values: ArrayLike<number>): Tensor {
  return new Tensor('float32', dims, Float32Array.from(values as ArrayLike<number>));
}

/** Values of a constant as a number array. */
export function valuesOf(t: Tensor): number[] {
  const out = new Array<number>(t.size);
  for (let i = 0; i < t.size; i++) out[i] = Number(t.get(i));
  return out;
}

/** Is the element type a float the GPU computes in f32? */
export function isF32(g: GraphView, name: string): boolean {
  const dt = g.type(name)?.dtype;
  return dt === 'float32';
}

/**
 * A per-channel constant for an NCHW-like output of `rank` with `channels` channels: returns the
 * C values when `t` broadcasts as [C,1,...] (or [1,C,1,...], or one value for all), else undefined.
 */
export function perChannel(t: Tensor, rank: number, channels: number, axis = 1): number[] | undefined {
  const v = valuesOf(t);
  if (t.size === 1) return new Array<number>(channels).fill(v[0]);
  if (t.dims.length > rank) return undefined;
  const dims = [...new Array<number>(rank - t.dims.length).fill(1), ...t.dims];
  for (let i = 0; i < rank; i++) if (i !== axis && dims[i] !== 1) return undefined;
  return dims[axis] === channels ? v : undefined;
}
