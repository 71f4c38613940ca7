/** ScatterElements, Scatter (deprecated alias), ScatterND and TensorScatter: a copy of data with updates written in. */
import { DType, isBigInt } from '../../ir/dtype';
import { sizeOf, stridesOf, Tensor } from '../../ir/tensor';
import { OpContext, OpDef } from '../types';
import { axisOf, cloneData, need, needT } from '../util/tensor-common';

type Reduction = 'none' | 'add' | 'mul' | 'max' | 'min';

function reductionOf(ctx: OpContext): Reduction {
  if (ctx.opset < 16) return 'none';
  const r = ctx.attrs.string('reduction', 'none');
  if (r !== 'none' && r !== 'add' && r !== 'mul' && r !== 'max' && r !== 'min') ctx.fail(`reduction '${r}' is not none, add, mul, max or min`);
  if ((r === 'max' || r === 'min') && ctx.opset < 18) ctx.fail(`reduction '${r}' needs opset 18`);
  return r;
}

/** Combine an existing element with an update, in the arithmetic of the dtype. */
function combiner(ctx: OpContext, dtype: DType, r: Reduction): (a: unknown, b: unknown) => unknown {
  if (r === 'none') return (_a, b) => b;
  if (dtype === 'string') ctx.fail(`reduction '${r}' is not defined for strings`);
  if (dtype === 'bool') {
    // add/max behave as or, mul/min as and
    return r === 'add' || r === 'max' ? (a, b) => ((a as number) || (b as number) ? 1 : 0) : (a, b) => ((a as number) && (b as number) ? 1 : 0);
  }
  if (isBigInt(dtype)) {
    const wrap = dtype === 'uint64' ? (v: bigint) => BigInt.asUintN(64, v) : (v: bigint) => BigInt.asIntN(64, v);
    switch (r) {
      case 'add': return (a, b) => wrap((a as bigint) + (b as bigint));
      case 'mul': return (a, b) => wrap((a as bigint) * (b as bigint));
      case 'max': return (a, b) => ((a as bigint) > (b as bigint) ? a : b);
      default: return (a, b) => ((a as bigint) < (b as bigint) ? a : b);
    }
  }
  switch (r) {
    case 'add': return (a, b) => (a as number) + (b as number);
    case 'mul': return (a, b) => (a as number) * (b as number);
    case 'max': return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a as number, b as number));
    default: return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a as number, b as number));
  }
}

function checkedIndex(ctx: { fail(m: string): never }, v: number, dim: number): number {
  if (!(v >= -dim && v < dim)) ctx.fail(`index ${v} is out of range for a dim of size ${dim}`);
  return v < 0 ? v + dim : v;
}

function sameAsData(ctx: Parameters<NonNullable<OpDef['inferShape']>>[0], inputs: Parameters<NonNullable<OpDef['inferShape']>>[1]) {
  const d = need(ctx, inputs, 0);
  return [{ dtype: d.dtype, shape: d.shape?.slice() }];
}

function scatterElements(ctx: OpContext, inputs: readonly (Tensor | undefined)[], reduction: Reduction): Tensor[] {
  const data = needT(ctx, inputs, 0);
  const ind = needT(ctx, inputs, 1);
  const upd = needT(ctx, inputs, 2);
  if (ind.dtype !== 'int32' && ind.dtype !== 'int64') ctx.fail(`indices must be int32 or int64, got ${ind.dtype}`);
  if (upd.dtype !== data.dtype) ctx.fail(`updates dtype ${upd.dtype} differs from data dtype ${data.dtype}`);
  const rank = data.rank;
  if (ind.rank !== rank || upd.rank !== rank) ctx.fail('data, indices and updates must have the same rank');
  if (ind.dims.some((d, i) => d !== upd.dims[i])) ctx.fail(`indices [${ind.dims.join(',')}] and updates [${upd.dims.join(',')}] differ in shape`);
  const axis = axisOf(ctx, ctx.attrs.int('axis', 0), rank);
  for (let a = 0; a < rank; a++) if (a !== axis && ind.dims[a] > data.dims[a]) ctx.fail(`indices dim ${a} (${ind.dims[a]}) exceeds data dim (${data.dims[a]})`);
  const out = cloneData(data) as unknown as unknown[];
  const u = upd.data as unknown as unknown[];
  const f = combiner(ctx, data.dtype, reduction);
  const str = stridesOf(data.dims);
  const ctr = new Array<number>(rank).fill(0);
  for (let k = 0; k < ind.size; k++) {
    let off = 0;
    for (let a = 0; a < rank; a++) off += (a === axis ? checkedIndex(ctx, Number(ind.data[k]), data.dims[a]) : ctr[a]) * str[a];
    out[off] = f(out[off], u[k]);
    for (let a = rank - 1; a >= 0; a--) {
      if (++ctr[a] < ind.dims[a]) break;
      ctr[a] = 0;
    }
  }
  return [new Tensor(data.dtype, data.dims, out as never)];
}

export const ScatterElements: OpDef = {
  opType: 'ScatterElements',
  sinceVersion: 11,
  inferShape: sameAsData,
  reference(ctx, inputs) {
    return scatterElements(ctx, inputs, reductionOf(ctx));
  },
};

export const Scatter: OpDef = {
  opType: 'Scatter',
  sinceVersion: 9,
  inferShape: sameAsData,
  reference(ctx, inputs) {
    return scatterElements(ctx, inputs, 'none');
  },
};

export const ScatterND: OpDef = {
  opType: 'ScatterND',
  sinceVersion: 11,
  inferShape: sameAsData,
  reference(ctx, inputs) {
    const data = needT(ctx, inputs, 0);
    const ind = needT(ctx, inputs, 1);
    const upd = needT(ctx, inputs, 2);
    if (ind.dtype !== 'int64') ctx.fail(`indices must be int64, got ${ind.dtype}`);
    if (upd.dtype !== data.dtype) ctx.fail(`updates dtype ${upd.dtype} differs from data dtype ${data.dtype}`);
    if (ind.rank < 1) ctx.fail('indices must have rank >= 1');
    const m = ind.dims[ind.rank - 1];
    if (m < 1 || m > data.rank) ctx.fail(`indices last dim ${m} must be in [1, ${data.rank}]`);
    const expect = [...ind.dims.slice(0, -1), ...data.dims.slice(m)];
    if (expect.length !== upd.rank || expect.some((d, i) => d !== upd.dims[i])) ctx.fail(`updates must have dims [${expect.join(',')}], got [${upd.dims.join(',')}]`);
    const out = cloneData(data) as unknown as unknown[];
    const u = upd.data as unknown as unknown[];
    const f = combiner(ctx, data.dtype, reductionOf(ctx));
    const str = stridesOf(data.dims);
    const slice = sizeOf(data.dims.slice(m));
    const tuples = sizeOf(ind.dims.slice(0, -1));
    for (let t = 0; t < tuples; t++) {
      let off = 0;
      for (let j = 0; j < m; j++) off += checkedIndex(ctx, Number(ind.data[t * m + j]), data.dims[j]) * str[j];
      for (let q = 0; q < slice; q++) out[off + q] = f(out[off + q], u[t * slice + q]);
    }
    return [new Tensor(data.dtype, data.dims, out as never)];
  },
};

export const TensorScatter: OpDef = {
  opType: 'TensorScatter',
  sinceVersion: 24,
  inferShape: sameAsData,
  reference(ctx, inputs) {
    const past = needT(ctx, inputs, 0);
    const upd = needT(ctx, inputs, 1);
    const wi = inputs[2];
    const rank = past.rank;
    if (rank < 2) ctx.fail('past_cache must have rank >= 2');
    const axis = axisOf(ctx, ctx.attrs.int('axis', -2), rank);
    if (axis === 0) ctx.fail('axis must not be the batch axis 0');
    const mode = ctx.attrs.string('mode', 'linear');
    if (mode !== 'linear' && mode !== 'circular') ctx.fail(`mode '${mode}' is not linear or circular`);
    if (upd.dtype !== past.dtype) ctx.fail(`update dtype ${upd.dtype} differs from past_cache dtype ${past.dtype}`);
    if (upd.rank !== rank || upd.dims.some((d, a) => a !== axis && d !== past.dims[a])) ctx.fail(`update [${upd.dims.join(',')}] must match past_cache [${past.dims.join(',')}] off the sequence axis`);
    const maxSeq = past.dims[axis];
    const seq = upd.dims[axis];
    if (seq > maxSeq) ctx.fail(`update sequence length ${seq} exceeds max_sequence_length ${maxSeq}`);
    const batch = past.dims[0];
    if (wi && (wi.rank !== 1 || wi.dims[0] !== batch)) ctx.fail(`write_indices must have dims [${batch}]`);
    const out = cloneData(past) as unknown as unknown[];
    const u = upd.data as unknown as unknown[];
    const outer = sizeOf(past.dims.slice(0, axis)); // prefix positions (batch first)
    const perBatch = outer / Math.max(batch, 1);
    const inner = sizeOf(past.dims.slice(axis + 1));
    for (let p = 0; p < outer; p++) {
      const b = Math.floor(p / perBatch);
      const w = wi ? Number(wi.data[b]) : 0;
      for (let s = 0; s < seq; s++) {
        let pos = w + s;
        if (mode === 'circular') pos = ((pos % maxSeq) + maxSeq) % maxSeq;
        else if (pos < 0 || pos >= maxSeq) ctx.fail(`write index ${w} + ${s} is outside the cache of length ${maxSeq}`);
        const dst = (p * maxSeq + pos) * inner;
        const src = (p * seq + s) * inner;
        for (let q = 0; q < inner; q++) out[dst + q] = u[src + q];
      }
    }
    return [new Tensor(past.dtype, past.dims, out as never)];
  },
};
