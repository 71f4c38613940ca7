/** Concat and Split along one axis. */
import { isComplex } from '../../ir/dtype';
import { Dim, ValueType } from '../../ir/graph';
import { sizeOf, Tensor } from '../../ir/tensor';
import { OpContext, OpDef, ShapeContext } from '../types';
import { axisOf, checkDims, freshDim, intsOf, need, takeIndices } from '../util/tensor-common';

/** Concat's axis: optional with default 1 before opset 4, required since. */
function concatAxis(ctx: { opset: number; attrs: ShapeContext['attrs'] }): number {
  return ctx.opset < 4 ? ctx.attrs.int('axis', 1) : ctx.attrs.int('axis');
}

export const Concat: OpDef = {
  opType: 'Concat',
  inferShape(ctx, inputs) {
    const ins = inputs.filter((t): t is ValueType => !!t);
    if (!ins.length) ctx.fail('needs at least one input');
    const dtype = ins[0].dtype;
    const known = ins.filter((t) => t.shape);
    if (!known.length) return [{ dtype, shape: undefined }];
    const rank = known[0].shape!.length;
    const axis = axisOf(ctx, concatAxis(ctx), rank);
    if (known.length < ins.length) {
      const s: Dim[] = known[0].shape!.slice();
      s[axis] = freshDim(ctx, 0, axis);
      return [{ dtype, shape: s }];
    }
    const out: Dim[] = [];
    for (let a = 0; a < rank; a++) {
      if (a === axis) {
        let n = 0;
        const syms: Dim[] = [];
        for (const t of ins) {
          const d = t.shape![a];
          if (typeof d === 'number') n += d;
          else syms.push(d);
        }
        out.push(syms.length === 0 ? n : syms.length === 1 && n === 0 ? syms[0] : freshDim(ctx, 0, a));
      } else {
        let d: Dim = ins[0].shape![a];
        for (const t of ins) {
          if (t.shape!.length !== rank) ctx.fail(`inputs have different ranks (${rank} and ${t.shape!.length})`);
          const e = t.shape![a];
          if (typeof e === 'number') {
            if (typeof d === 'number' && d !== e) ctx.fail(`inputs differ in dim ${a} (${d} and ${e}) off the concat axis`);
            d = e;
          }
        }
        out.push(d);
      }
    }
    return [{ dtype, shape: out }];
  },
  reference(ctx, inputs) {
    const ins = inputs.filter((t): t is Tensor => !!t);
    if (!ins.length) ctx.fail('needs at least one input');
    const rank = ins[0].rank;
    if (rank === 0) ctx.fail('cannot concatenate scalars');
    const axis = axisOf(ctx, concatAxis(ctx), rank);
    for (const t of ins) {
      if (t.rank !== rank) ctx.fail(`inputs have different ranks (${rank} and ${t.rank})`);
      if (t.dtype !== ins[0].dtype) ctx.fail(`inputs have different dtypes (${ins[0].dtype} and ${t.dtype})`);
      for (let a = 0; a < rank; a++) {
        if (a !== axis && t.dims[a] !== ins[0].dims[a]) ctx.fail(`inputs differ in dim ${a} ([${ins[0].dims.join(',')}] and [${t.dims.join(',')}])`);
      }
    }
    const dims = ins[0].dims.slice();
    dims[axis] = ins.reduce((s, t) => s + t.dims[axis], 0);
    const n = checkDims(ctx, dims);
    const outer = sizeOf(dims.slice(0, axis));
    const inner = sizeOf(dims.slice(axis + 1));
    // Build one source tensor by stacking data, then an index map into it.
    const offsets: number[] = [];
    let total = 0;
    for (const t of ins) { offsets.push(total); total += t.size; }
    const all = ins.length === 1 ? ins[0] : stack(ins, total);
    const idx = new Int32Array(n);
    let k = 0;
    for (let o = 0; o < outer; o++) {
      ins.forEach((t, j) => {
        const len = t.dims[axis] * inner;
        const base = offsets[j] + o * len;
        for (let i = 0; i < len; i++) idx[k++] = base + i;
      });
    }
    return [takeIndices(all, dims, idx)];
  },
};

/** The elements of several same-dtype tensors, one after another, as a 1-D tensor. */
function stack(ts: Tensor[], total: number): Tensor {
  const first = ts[0];
  if (Array.isArray(first.data)) {
    const out: string[] = [];
    for (const t of ts) out.push(...(t.data as string[]));
    return new Tensor(first.dtype, [total], out);
  }
  const Ctor = (first.data as unknown as { constructor: new (n: number) => { set(a: ArrayLike<unknown>, o: number): void } }).constructor;
  const per = isComplex(first.dtype) ? 2 : 1;
  const out = new Ctor(total * per);
  let off = 0;
  for (const t of ts) { out.set(t.data as ArrayLike<unknown>, off); off += t.data.length; }
  return new Tensor(first.dtype, [total], out as never);
}

/** The split sizes along the axis: from the attribute (< 13) or input (>= 13), num_outputs (>= 18), or equal parts. */
function splitSizes(ctx: { opset: number; attrs: ShapeContext['attrs']; outputCount: number; fail(m: string): never }, dim: number | undefined, splitT: Tensor | undefined, splitGiven: boolean): number[] | undefined {
  let split: number[] | undefined;
  if (ctx.opset < 13) split = ctx.attrs.optInts('split');
  else if (splitT) split = intsOf(splitT);
  else if (splitGiven) return undefined; // an input not known at build time
  const numOutputs = ctx.opset >= 18 ? ctx.attrs.optInt('num_outputs') : undefined;
  if (split) {
    if (numOutputs !== undefined) ctx.fail('split and num_outputs cannot both be given');
    if (split.length !== ctx.outputCount) ctx.fail(`split has ${split.length} entries for ${ctx.outputCount} outputs`);
    if (split.some((s) => s < 0)) ctx.fail(`split [${split.join(',')}] has a negative size`);
    if (dim !== undefined && split.reduce((a, b) => a + b, 0) !== dim) ctx.fail(`split [${split.join(',')}] does not add up to the dim ${dim}`);
    return split;
  }
  if (dim === undefined) return undefined;
  if (numOutputs !== undefined) {
    if (numOutputs < 1) ctx.fail(`num_outputs must be positive, got ${numOutputs}`);
    if (numOutputs !== ctx.outputCount) ctx.fail(`num_outputs=${numOutputs} but the node has ${ctx.outputCount} outputs`);
    // chunks of ceil(dim / n), the last one smaller (opset 18)
    const chunk = Math.ceil(dim / numOutputs);
    const out: number[] = [];
    let left = dim;
    for (let i = 0; i < numOutputs; i++) { const c = Math.max(0, Math.min(chunk, left)); out.push(c); left -= c; }
    return out;
  }
  const n = ctx.outputCount;
  if (n < 1) ctx.fail('needs at least one output');
  if (dim % n !== 0) ctx.fail(`dim ${dim} cannot be split into ${n} equal parts; give split or num_outputs`);
  return new Array<number>(n).fill(dim / n);
}

export const Split: OpDef = {
  opType: 'Split',
  inferShape(ctx, inputs) {
    const x = need(ctx, inputs, 0);
    const n = ctx.outputCount;
    if (!x.shape) return new Array(n).fill(0).map(() => ({ dtype: x.dtype, shape: undefined }));
    const axis = axisOf(ctx, ctx.attrs.int('axis', 0), x.shape.length);
    const d = x.shape[axis];
    const sizes = splitSizes(ctx, typeof d === 'number' ? d : undefined, ctx.opset >= 13 ? ctx.constant(1) : undefined, inputs[1] !== undefined);
    return new Array(n).fill(0).map((_, i) => {
      const s = x.shape!.slice();
      s[axis] = sizes ? sizes[i] : freshDim(ctx, i, axis);
      return { dtype: x.dtype, shape: s };
    });
  },
  reference(ctx: OpContext, inputs) {
    const x = inputs[0];
    if (!x) ctx.fail('input 0 is required');
    if (x.rank === 0) ctx.fail('cannot split a scalar');
    const axis = axisOf(ctx, ctx.attrs.int('axis', 0), x.rank);
    const sizes = splitSizes(ctx, x.dims[axis], ctx.opset >= 13 ? inputs[1] : undefined, false)!;
    const outer = sizeOf(x.dims.slice(0, axis));
    const inner = sizeOf(x.dims.slice(axis + 1));
    const d = x.dims[axis];
    let start = 0;
    return sizes.map((len) => {
      const dims = x.dims.slice();
      dims[axis] = len;
      const idx = new Int32Array(outer * len * inner);
      let k = 0;
      for (let o = 0; o < outer; o++) {
        const base = (o * d + start) * inner;
        for (let i = 0; i < len * inner; i++) idx[k++] = base + i;
      }
      start += len;
      return takeIndices(x, dims, idx);
    });
  },
};
