/** Slice: starts/ends/axes/steps (attributes before opset 10, inputs since), clamped as ONNX says. */
import { Dim } from '../../ir/graph';
import { Tensor } from '../../ir/tensor';
import { OpDef, ShapeContext } from '../types';
import { axisOf, checkDims, freshDim, intsOf, need, needT, takeIndices } from '../util/tensor-common';

interface SliceParams { starts: number[]; ends: number[]; axes?: number[]; steps?: number[] }

type Ctx = { opset: number; attrs: ShapeContext['attrs']; fail(m: string): never };

/** The parameters, or undefined when an input is not known (at build time). */
export function sliceParams(ctx: Ctx, get: (i: number) => Tensor | undefined, given: (i: number) => boolean): SliceParams | undefined {
  if (ctx.opset < 10) {
    return { starts: ctx.attrs.ints('starts'), ends: ctx.attrs.ints('ends'), axes: ctx.attrs.optInts('axes') };
  }
  const read = (i: number): number[] | undefined | null => {
    if (!given(i)) return undefined;
    const t = get(i);
    if (!t) return null;
    if (t.rank !== 1) ctx.fail(`input ${i} must be 1-D, got rank ${t.rank}`);
    return intsOf(t);
  };
  const starts = read(1), ends = read(2), axes = read(3), steps = read(4);
  if (starts === undefined || ends === undefined) ctx.fail('starts and ends are required');
  if (starts === null || ends === null || axes === null || steps === null) return undefined;
  return { starts, ends, axes, steps };
}

/** Per axis of the input: [start, step, count] after normalizing and clamping. */
export function sliceRanges(ctx: { fail(m: string): never }, dims: readonly Dim[], p: SliceParams): Map<number, { start: number; step: number; count: number } | null> {
  const rank = dims.length;
  const n = p.starts.length;
  if (p.ends.length !== n) ctx.fail(`starts (${n}) and ends (${p.ends.length}) differ in length`);
  const axes = p.axes ?? Array.from({ length: n }, (_, i) => i);
  const steps = p.steps ?? new Array<number>(n).fill(1);
  if (axes.length !== n || steps.length !== n) ctx.fail('starts, ends, axes and steps must have the same length');
  const out = new Map<number, { start: number; step: number; count: number } | null>();
  for (let i = 0; i < n; i++) {
    const a = axisOf(ctx, axes[i], rank, 'axes entry');
    if (out.has(a)) ctx.fail(`axes [${axes.join(',')}] repeats axis ${axes[i]}`);
    const step = steps[i];
    if (step === 0) ctx.fail('steps must not be 0');
    const d = dims[a];
    if (typeof d !== 'number') { out.set(a, null); continue; }
    let s = p.starts[i], e = p.ends[i];
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (step > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
    } else {
      s = Math.min(Math.max(s, 0), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
    }
    const count = Math.max(0, Math.ceil((e - s) / step));
    out.set(a, { start: s, step, count });
  }
  return out;
}

export const Slice: OpDef = {
  opType: 'Slice',
  inferShape(ctx, inputs) {
    const x = need(ctx, inputs, 0);
    if (!x.shape) return [{ dtype: x.dtype, shape: undefined }];
    const p = sliceParams(ctx, (i) => ctx.constant(i), (i) => inputs[i] !== undefined);
    const shape = x.shape;
    if (!p) {
      // axes known: only those dims change
      const axesT = inputs[3] ? ctx.constant(3) : undefined;
      if (axesT || !inputs[3]) {
        const axes = axesT ? intsOf(axesT).map((a) => axisOf(ctx, a, shape.length, 'axes entry')) : undefined;
        return [{ dtype: x.dtype, shape: shape.map((d, i) => (axes && !axes.includes(i) ? d : freshDim(ctx, 0, i))) }];
      }
      return [{ dtype: x.dtype, shape: shape.map((_, i) => freshDim(ctx, 0, i)) }];
    }
    const r = sliceRanges(ctx, shape, p);
    const out: Dim[] = shape.map((d, a) => {
      if (!r.has(a)) return d;
      const e = r.get(a);
      if (e) return e.count;
      // a symbolic dim: the full range (start 0, end >= 2^31, step 1) keeps it
      const i = (p.axes ?? p.starts.map((_, k) => k)).findIndex((x) => (x < 0 ? x + shape.length : x) === a);
      const full = p.starts[i] === 0 && p.ends[i] >= 2 ** 31 - 1 && (p.steps?.[i] ?? 1) === 1;
      return full ? d : freshDim(ctx, 0, a);
    });
    return [{ dtype: x.dtype, shape: out }];
  },
  reference(ctx, inputs) {
    const x = needT(ctx, inputs, 0);
    const p = sliceParams(ctx, (i) => inputs[i], (i) => inputs[i] !== undefined)!;
    const r = sliceRanges(ctx, x.dims, p);
    const rank = x.rank;
    const starts = x.dims.map((_, a) => r.get(a)?.start ?? 0);
    const steps = x.dims.map((_, a) => r.get(a)?.step ?? 1);
    const dims = x.dims.map((d, a) => r.get(a)?.count ?? d);
    const n = checkDims(ctx, dims);
    const inStr = new Array<number>(rank);
    let acc = 1;
    for (let a = rank - 1; a >= 0; a--) { inStr[a] = acc; acc *= x.dims[a]; }
    const idx = new Int32Array(n);
    const ctr = new Array<number>(rank).fill(0);
    let base = 0;
    for (let a = 0; a < rank; a++) base += starts[a] * inStr[a];
    let off = base;
    for (let k = 0; k < n; k++) {
      idx[k] = off;
      for (let a = rank - 1; a >= 0; a--) {
        ctr[a]++;
        off += steps[a] * inStr[a];
        if (ctr[a] < dims[a]) break;
        off -= steps[a] * inStr[a] * ctr[a];
        ctr[a] = 0;
      }
    }
    return [takeIndices(x, dims, idx)];
  },
};
