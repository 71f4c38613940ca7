/** Ops that make tensors from attributes or shapes: Constant, ConstantOfShape, EyeLike, Range, Shape, Size. */
import { DType, dtypeFromOnnx, isBigInt } from '../../ir/dtype';
import { allocData, Tensor } from '../../ir/tensor';
import { OpDef, ShapeContext } from '../types';
import { checkDims, constInts, fillValue, freshDim, intsOf, need, needT } from '../util/tensor-common';

/** The one value attribute of a Constant node, as a tensor. */
function constantValue(ctx: { attrs: ShapeContext['attrs']; fail(m: string): never }): Tensor {
  const a = ctx.attrs;
  const set = ['value', 'sparse_value', 'value_float', 'value_floats', 'value_int', 'value_ints', 'value_string', 'value_strings'].filter((n) => a.has(n));
  if (set.length !== 1) ctx.fail(`exactly one value attribute must be set, got ${set.length ? set.join(', ') : 'none'}`);
  switch (set[0]) {
    case 'value': case 'sparse_value': {
      const t = a.tensor(set[0]);
      if (!t) ctx.fail(`attribute '${set[0]}' must be a tensor`);
      return t;
    }
    case 'value_float': return Tensor.scalar('float32', a.float('value_float'));
    case 'value_floats': { const v = a.floats('value_floats'); return Tensor.from('float32', [v.length], v); }
    case 'value_int': return Tensor.scalar('int64', a.int('value_int'));
    case 'value_ints': { const v = a.ints('value_ints'); return Tensor.from('int64', [v.length], v); }
    case 'value_string': return Tensor.scalar('string', a.string('value_string'));
    default: { const v = a.strings('value_strings'); return Tensor.from('string', [v.length], v); }
  }
}

export const Constant: OpDef = {
  opType: 'Constant',
  inferShape(ctx) {
    const t = constantValue(ctx);
    return [{ dtype: t.dtype, shape: t.dims.slice() }];
  },
  reference(ctx) {
    return [constantValue(ctx)];
  },
};

/** The value attribute of ConstantOfShape (ONNX default: a float32 zero). */
export function fillOf(ctx: { attrs: ShapeContext['attrs']; fail(m: string): never }): Tensor {
  const v = ctx.attrs.tensor('value') ?? Tensor.scalar('float32', 0);
  if (v.size !== 1) ctx.fail(`attribute 'value' must hold exactly one element, got ${v.size}`);
  return v;
}

export const ConstantOfShape: OpDef = {
  opType: 'ConstantOfShape',
  sinceVersion: 9,
  inferShape(ctx, inputs) {
    const dtype = fillOf(ctx).dtype;
    const dims = constInts(ctx, 0);
    if (dims) return [{ dtype, shape: dims }];
    const s = need(ctx, inputs, 0).shape;
    if (s && s.length === 1 && typeof s[0] === 'number') return [{ dtype, shape: Array.from({ length: s[0] }, (_, i) => freshDim(ctx, 0, i)) }];
    return [{ dtype, shape: undefined }];
  },
  reference(ctx, inputs) {
    const shapeT = needT(ctx, inputs, 0);
    if (shapeT.rank > 1) ctx.fail(`input 'input' must be 1-D, got rank ${shapeT.rank}`);
    const dims = intsOf(shapeT);
    const v = fillOf(ctx);
    const n = checkDims(ctx, dims);
    const data = allocData(v.dtype, n) as unknown as { [k: number]: unknown };
    const fv = v.data[0];
    for (let i = 0; i < n; i++) data[i] = fv;
    return [new Tensor(v.dtype, dims, data as never)];
  },
};

export const EyeLike: OpDef = {
  opType: 'EyeLike',
  sinceVersion: 9,
  inferShape(ctx, inputs) {
    const x = need(ctx, inputs, 0);
    return [{ dtype: eyeDtype(ctx, x.dtype), shape: x.shape?.slice() }];
  },
  reference(ctx, inputs) {
    const x = needT(ctx, inputs, 0);
    if (x.rank !== 2) ctx.fail(`input must be 2-D, got rank ${x.rank}`);
    const dtype = eyeDtype(ctx, x.dtype);
    const k = ctx.attrs.int('k', 0);
    const [r, c] = x.dims;
    const out = Tensor.zeros(dtype, [r, c]);
    const one = fillValue(dtype, 1);
    const d = out.data as unknown as unknown[];
    for (let i = 0; i < r; i++) {
      const j = i + k;
      if (j >= 0 && j < c) d[i * c + j] = one;
    }
    return [out];
  },
};

export function eyeDtype(ctx: ShapeContext | { attrs: ShapeContext['attrs']; fail(m: string): never }, input: DType): DType {
  const code = ctx.attrs.optInt('dtype');
  if (code === undefined) return input;
  const dt = dtypeFromOnnx(code);
  if (!dt || dt === 'string') return ctx.fail(`attribute dtype=${code} is not a valid output type`);
  return dt;
}

export const Range: OpDef = {
  opType: 'Range',
  sinceVersion: 11,
  inferShape(ctx, inputs) {
    const dtype = need(ctx, inputs, 0).dtype;
    const s = ctx.constant(0), l = ctx.constant(1), d = ctx.constant(2);
    if (s && l && d) return [{ dtype, shape: [rangeCount(ctx, s.get(0), l.get(0), d.get(0))] }];
    return [{ dtype, shape: [freshDim(ctx, 0, 0)] }];
  },
  reference(ctx, inputs) {
    const [s, l, d] = [0, 1, 2].map((i) => needT(ctx, inputs, i));
    for (const t of [s, l, d]) if (t.size !== 1) ctx.fail(`start, limit and delta must be scalars, got dims [${t.dims.join(',')}]`);
    const dtype = s.dtype;
    if (isBigInt(dtype)) {
      // exact integer arithmetic for 64-bit ranges
      const a = s.data[0] as bigint, b = l.data[0] as bigint, st = d.data[0] as bigint;
      if (st === 0n) ctx.fail('delta must not be zero');
      const span = b - a;
      let n = span / st + (span % st !== 0n && (span > 0n) === (st > 0n) ? 1n : 0n);
      if (n < 0n) n = 0n;
      const count = checkDims(ctx, [Number(n)]);
      const out = allocData(dtype, count) as BigInt64Array | BigUint64Array;
      for (let i = 0; i < count; i++) out[i] = a + BigInt(i) * st;
      return [new Tensor(dtype, [count], out)];
    }
    const a = s.get(0), b = l.get(0), st = d.get(0);
    const n = rangeCount(ctx, a, b, st);
    const vals = new Float64Array(n);
    // numpy.arange semantics (the ONNX reference): element i is start + i * delta
    for (let i = 0; i < n; i++) vals[i] = a + i * st;
    return [Tensor.from(dtype, [n], vals)];
  },
};

function rangeCount(ctx: { fail(m: string): never }, start: number, limit: number, delta: number): number {
  if (delta === 0 || !Number.isFinite(delta) || !Number.isFinite(start) || !Number.isFinite(limit)) ctx.fail(`invalid range start=${start} limit=${limit} delta=${delta}`);
  const n = Math.max(Math.ceil((limit - start) / delta), 0);
  checkDims(ctx, [n]);
  return n;
}

/** Shape's [start, end) window of axes, clamped as ONNX opset 15 says. */
function shapeWindow(ctx: { opset: number; attrs: ShapeContext['attrs'] }, rank: number): [number, number] {
  if (ctx.opset < 15) return [0, rank];
  let start = ctx.attrs.int('start', 0);
  let end = ctx.attrs.optInt('end') ?? rank;
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = Math.min(Math.max(start, 0), rank);
  end = Math.min(Math.max(end, 0), rank);
  return [start, Math.max(start, end)];
}

export const Shape: OpDef = {
  opType: 'Shape',
  traits: { shapeOnly: true, rangeResetting: true },
  inferShape(ctx, inputs) {
    const s = need(ctx, inputs, 0).shape;
    if (!s) return [{ dtype: 'int64', shape: [freshDim(ctx, 0, 0)] }];
    const [a, b] = shapeWindow(ctx, s.length);
    return [{ dtype: 'int64', shape: [b - a] }];
  },
  reference(ctx, inputs) {
    const x = needT(ctx, inputs, 0);
    const [a, b] = shapeWindow(ctx, x.rank);
    const dims = x.dims.slice(a, b);
    return [Tensor.from('int64', [dims.length], dims)];
  },
};

export const Size: OpDef = {
  opType: 'Size',
  traits: { shapeOnly: true, rangeResetting: true },
  inferShape() {
    return [{ dtype: 'int64', shape: [] }];
  },
  reference(ctx, inputs) {
    return [Tensor.scalar('int64', needT(ctx, inputs, 0).size)];
  },
};
