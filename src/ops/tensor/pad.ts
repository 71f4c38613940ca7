/** Pad (constant, reflect, edge, wrap; negative pads crop) and CenterCropPad. */
import { Dim } from '../../ir/graph';
import { Tensor } from '../../ir/tensor';
import { OpDef, ShapeContext } from '../types';
import { axisOf, checkDims, freshDim, intsOf, need, needT, takeIndices } from '../util/tensor-common';

type Ctx = { opset: number; attrs: ShapeContext['attrs']; fail(m: string): never; unsupported(m: string): never };

/** Full-rank [begin..., end...] pads, or undefined when not known at build time. */
export function padsOf(ctx: Ctx, rank: number, get: (i: number) => Tensor | undefined, given: (i: number) => boolean): number[] | undefined {
  let pads: number[];
  let axes: number[] | undefined;
  if (ctx.opset < 11) {
    pads = ctx.opset < 2 ? ctx.attrs.ints('paddings') : ctx.attrs.ints('pads');
  } else {
    const p = get(1);
    if (!p) {
      if (!given(1)) ctx.fail('input pads is required');
      return undefined;
    }
    pads = intsOf(p);
    if (ctx.opset >= 18 && given(3)) {
      const a = get(3);
      if (!a) return undefined;
      axes = intsOf(a);
    }
  }
  const ax = (axes ?? Array.from({ length: rank }, (_, i) => i)).map((a) => axisOf(ctx, a, rank, 'axes entry'));
  if (pads.length !== 2 * ax.length) ctx.fail(`pads has ${pads.length} entries, expected ${2 * ax.length}`);
  const full = new Array<number>(2 * rank).fill(0);
  ax.forEach((a, i) => {
    full[a] = pads[i];
    full[rank + a] = pads[ax.length + i];
  });
  return full;
}

export function padMode(ctx: Ctx): string {
  const mode = ctx.attrs.string('mode', 'constant');
  if (mode === 'wrap' && ctx.opset < 19) ctx.fail("mode 'wrap' needs opset 19");
  if (mode !== 'constant' && mode !== 'reflect' && mode !== 'edge' && mode !== 'wrap') ctx.fail(`mode '${mode}' is not constant, reflect, edge or wrap`);
  return mode;
}

/** Index along an axis of size d for padded position i (before offset), or -1 for the constant. */
function srcIndex(mode: string, i: number, d: number): number {
  if (i >= 0 && i < d) return i;
  switch (mode) {
    case 'edge': return i < 0 ? 0 : d - 1;
    case 'wrap': return ((i % d) + d) % d;
    case 'reflect': {
      if (d === 1) return 0;
      const period = 2 * (d - 1);
      let m = ((i % period) + period) % period;
      if (m >= d) m = period - m;
      return m;
    }
    default: return -1;
  }
}

export const Pad: OpDef = {
  opType: 'Pad',
  inferShape(ctx, inputs) {
    const x = need(ctx, inputs, 0);
    if (!x.shape) return [{ dtype: x.dtype, shape: undefined }];
    const rank = x.shape.length;
    const pads = padsOf(ctx, rank, (i) => ctx.constant(i), (i) => inputs[i] !== undefined);
    if (!pads) return [{ dtype: x.dtype, shape: x.shape.map((_, i) => freshDim(ctx, 0, i)) }];
    const shape: Dim[] = x.shape.map((d, a) => {
      const add = pads[a] + pads[rank + a];
      if (typeof d !== 'number') return add === 0 ? d : freshDim(ctx, 0, a);
      if (d + add < 0) ctx.fail(`pads [${pads.join(',')}] crop more than dim ${a} (${d}) holds`);
      return d + add;
    });
    return [{ dtype: x.dtype, shape }];
  },
  reference(ctx, inputs) {
    const x = needT(ctx, inputs, 0);
    const rank = x.rank;
    const pads = padsOf(ctx, rank, (i) => inputs[i], (i) => inputs[i] !== undefined)!;
    const mode = padMode(ctx);
    let fill: number | bigint | string | boolean = 0;
    if (ctx.opset < 11) fill = ctx.attrs.float('value', 0);
    else if (inputs[2] && inputs[2].size > 0) fill = inputs[2].data[0];
    const dims = x.dims.map((d, a) => d + pads[a] + pads[rank + a]);
    if (dims.some((d) => d < 0)) ctx.fail(`pads [${pads.join(',')}] crop more than the input [${x.dims.join(',')}] holds`);
    const n = checkDims(ctx, dims);
    if (mode !== 'constant' && n > 0) {
      for (let a = 0; a < rank; a++) {
        if (x.dims[a] === 0 && dims[a] > 0) ctx.fail(`mode '${mode}' cannot pad an empty axis ${a}`);
      }
    }
    // per-axis source index for each output coordinate
    const maps = dims.map((d, a) => {
      const m = new Int32Array(d);
      for (let o = 0; o < d; o++) m[o] = srcIndex(mode, o - pads[a], x.dims[a]);
      return m;
    });
    const inStr = new Array<number>(rank);
    let acc = 1;
    for (let a = rank - 1; a >= 0; a--) { inStr[a] = acc; acc *= x.dims[a]; }
    const idx = new Int32Array(n);
    const ctr = new Array<number>(rank).fill(0);
    for (let k = 0; k < n; k++) {
      let off = 0;
      for (let a = 0; a < rank; a++) {
        const s = maps[a][ctr[a]];
        if (s < 0) { off = -1; break; }
        off += s * inStr[a];
      }
      idx[k] = off;
      for (let a = rank - 1; a >= 0; a--) {
        if (++ctr[a] < dims[a]) break;
        ctr[a] = 0;
      }
    }
    return [takeIndices(x, dims, idx, fill)];
  },
};

function cropAxes(ctx: Ctx, rank: number, n: number): number[] {
  const axes = ctx.attrs.optInts('axes') ?? Array.from({ length: rank }, (_, i) => i);
  if (axes.length !== n) ctx.fail(`shape has ${n} entries for ${axes.length} axes`);
  const seen = new Set<number>();
  return axes.map((a) => {
    const v = axisOf(ctx, a, rank, 'axes entry');
    if (seen.has(v)) ctx.fail(`axes [${axes.join(',')}] repeats axis ${a}`);
    seen.add(v);
    return v;
  });
}

export const CenterCropPad: OpDef = {
  opType: 'CenterCropPad',
  sinceVersion: 18,
  inferShape(ctx, inputs) {
    const x = need(ctx, inputs, 0);
    if (!x.shape) return [{ dtype: x.dtype, shape: undefined }];
    const st = ctx.constant(1);
    const shape = x.shape.slice();
    if (!st) {
      const axes = ctx.attrs.optInts('axes');
      return [{ dtype: x.dtype, shape: shape.map((d, i) => (axes && !axes.some((a) => (a < 0 ? a + shape.length : a) === i) ? d : freshDim(ctx, 0, i))) }];
    }
    const target = intsOf(st);
    cropAxes(ctx, shape.length, target.length).forEach((a, i) => { shape[a] = target[i]; });
    return [{ dtype: x.dtype, shape }];
  },
  reference(ctx, inputs) {
    const x = needT(ctx, inputs, 0);
    const target = intsOf(needT(ctx, inputs, 1));
    const rank = x.rank;
    const axes = cropAxes(ctx, rank, target.length);
    const dims = x.dims.slice();
    const shift = new Array<number>(rank).fill(0); // input index = output index + shift
    axes.forEach((a, i) => {
      const t = target[i];
      if (t < 0) ctx.fail(`shape entry ${t} is negative`);
      const d = x.dims[a];
      shift[a] = t <= d ? Math.floor((d - t) / 2) : -Math.floor((t - d) / 2);
      dims[a] = t;
    });
    const n = checkDims(ctx, dims);
    const inStr = new Array<number>(rank);
    let acc = 1;
    for (let a = rank - 1; a >= 0; a--) { inStr[a] = acc; acc *= x.dims[a]; }
    const idx = new Int32Array(n);
    const ctr = new Array<number>(rank).fill(0);
    for (let k = 0; k < n; k++) {
      let off = 0;
      for (let a = 0; a < rank; a++) {
        const s = ctr[a] + shift[a];
        if (s < 0 || s >= x.dims[a]) { off = -1; break; }
        off += s * inStr[a];
      }
      idx[k] = off;
      for (let a = rank - 1; a >= 0; a--) {
        if (++ctr[a] < dims[a]) break;
        ctr[a] = 0;
      }
    }
    return [takeIndices(x, dims, idx, 0)];
  },
};
