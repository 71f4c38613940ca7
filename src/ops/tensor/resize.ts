/**
 * Resize (opset 10..19+) and Upsample (7..9): nearest (four rounding modes), linear and cubic
 * interpolation with every coordinate_transformation_mode, antialias, exclude_outside, axes,
 * keep_aspect_ratio_policy and tf_crop_and_resize's extrapolation_value.
 *
 * The arithmetic follows the ONNX reference implementation (onnx/reference/ops/op_resize.py),
 * which produced the golden data: each axis is interpolated on its own (the filter is separable),
 * neighbours come from an edge-padded copy of the line, and the "output width" used by the
 * coordinate transforms is scale * input width (a real number), not the rounded output size.
 */
import { Dim } from '../../ir/graph';
import { sizeOf, Tensor } from '../../ir/tensor';
import { OpContext, OpDef, ShapeContext } from '../types';
import { axisOf, checkDims, freshDim, need, needT } from '../util/tensor-common';

export type ResizeCtx = { opset: number; attrs: ShapeContext['attrs']; node: OpContext['node']; fail(m: string): never; unsupported(m: string): never };

export interface ResizeArgs {
  scales?: number[];
  sizes?: number[];
  roi?: number[];
}

interface Plan {
  /** Output dims. */
  dims: number[];
  /** Per input axis: the scale factor (1 where the axis is not resized). */
  scales: number[];
  /** Per input axis: [roi_start, roi_end] for tf_crop_and_resize. */
  roi: [number, number][];
}

/** True for the old Upsample-style semantics (Upsample, Resize-10). */
export function legacy(ctx: { opset: number; node: { opType: string } }): boolean {
  return ctx.node.opType === 'Upsample' || ctx.opset < 11;
}

/** The scales/sizes/roi inputs by opset; an empty tensor counts as absent. */
export function readArgs(ctx: ResizeCtx, get: (i: number) => Tensor | undefined, given: (i: number) => boolean): ResizeArgs | undefined {
  const nums = (t: Tensor) => Array.from(t.toNumbers());
  if (ctx.node.opType === 'Upsample') {
    if (ctx.opset < 9) return { scales: ctx.attrs.floats('scales') };
    const s = get(1);
    if (!s) return undefined;
    return { scales: nums(s) };
  }
  if (ctx.opset < 11) {
    const s = get(1);
    if (!s) return undefined;
    return { scales: nums(s) };
  }
  const out: ResizeArgs = {};
  for (const [i, key] of [[1, 'roi'], [2, 'scales'], [3, 'sizes']] as const) {
    if (!given(i)) continue;
    const t = get(i);
    if (!t) {
      if (key === 'roi') continue; // roi only matters for tf_crop_and_resize; checked later
      return undefined;
    }
    if (t.size > 0) out[key] = nums(t);
  }
  if (out.scales && out.sizes) ctx.fail('only one of scales and sizes may be given');
  if (!out.scales && !out.sizes) ctx.fail('one of scales and sizes must be given');
  return out;
}

function axesOf(ctx: ResizeCtx, rank: number): number[] {
  const axes = ctx.opset >= 18 ? ctx.attrs.optInts('axes') : undefined;
  if (!axes) return Array.from({ length: rank }, (_, i) => i);
  const seen = new Set<number>();
  return axes.map((a) => {
    const v = axisOf(ctx, a, rank, 'axes entry');
    if (seen.has(v)) ctx.fail(`axes [${axes.join(',')}] repeats axis ${a}`);
    seen.add(v);
    return v;
  });
}

/** Output dims, per-axis scales and roi, from input dims (symbolic dims allowed: they yield fresh names). */
export function plan(ctx: ResizeCtx, inDims: readonly Dim[], args: ResizeArgs, fresh: (axis: number) => Dim): { dims: Dim[]; scales: number[]; roi: [number, number][] } {
  const rank = inDims.length;
  const axes = legacy(ctx) ? Array.from({ length: rank }, (_, i) => i) : axesOf(ctx, rank);
  const scales = new Array<number>(rank).fill(1);
  const dims: Dim[] = inDims.slice();
  const roi: [number, number][] = Array.from({ length: rank }, () => [0, 1] as [number, number]);
  if (args.roi) {
    if (args.roi.length !== 2 * axes.length) ctx.fail(`roi has ${args.roi.length} entries, expected ${2 * axes.length}`);
    axes.forEach((a, i) => { roi[a] = [args.roi![i], args.roi![axes.length + i]]; });
  }
  if (args.scales) {
    if (args.scales.length !== axes.length) ctx.fail(`scales has ${args.scales.length} entries, expected ${axes.length}`);
    axes.forEach((a, i) => {
      const s = args.scales![i];
      if (!(s > 0) || !Number.isFinite(s)) ctx.fail(`scale ${s} must be positive and finite`);
      scales[a] = s;
      const d = inDims[a];
      dims[a] = typeof d === 'number' ? Math.floor(d * s) : s === 1 ? d : fresh(a);
    });
    return { dims, scales, roi };
  }
  const sizes = args.sizes!;
  if (sizes.length !== axes.length) ctx.fail(`sizes has ${sizes.length} entries, expected ${axes.length}`);
  if (sizes.some((s) => !Number.isSafeInteger(s) || s < 0)) ctx.fail(`sizes [${sizes.join(',')}] has an invalid entry`);
  const policy = ctx.opset >= 18 ? ctx.attrs.string('keep_aspect_ratio_policy', 'stretch') : 'stretch';
  if (policy !== 'stretch' && policy !== 'not_larger' && policy !== 'not_smaller') ctx.fail(`keep_aspect_ratio_policy '${policy}' is not stretch, not_larger or not_smaller`);
  if (axes.some((a) => typeof inDims[a] !== 'number')) {
    // scales depend on unknown dims: sizes still give the dims where the policy is stretch
    axes.forEach((a, i) => { dims[a] = policy === 'stretch' ? sizes[i] : fresh(a); scales[a] = NaN; });
    return { dims, scales, roi };
  }
  const inN = inDims as number[];
  const ratios = axes.map((a, i) => sizes[i] / inN[a]);
  if (policy === 'stretch') {
    axes.forEach((a, i) => { scales[a] = ratios[i]; dims[a] = sizes[i]; });
  } else {
    const s = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
    axes.forEach((a) => { scales[a] = s; dims[a] = Math.floor(s * inN[a] + 0.5); });
  }
  return { dims, scales, roi };
}

/** One axis's filter taps: for each output coordinate, source indices and weights (or extrapolate). */
interface Taps { idx: Int32Array[]; w: Float64Array[]; extrapolate: Uint8Array }

function coefficients(ctx: ResizeCtx, mode: string, ratio: number, scale: number, o: { nearestMode: string; a: number; antialias: boolean }): number[] {
  if (mode === 'nearest') {
    if (ratio === 1) return [0, 1];
    switch (o.nearestMode) {
      case 'round_prefer_floor': return ratio <= 0.5 ? [1, 0] : [0, 1];
      case 'round_prefer_ceil': return ratio < 0.5 ? [1, 0] : [0, 1];
      case 'floor': return [1, 0];
      case 'ceil': return [0, 1];
      default: return ctx.fail(`nearest_mode '${o.nearestMode}' is not round_prefer_floor, round_prefer_ceil, floor or ceil`);
    }
  }
  if (mode === 'linear') {
    if (!o.antialias) return [1 - ratio, ratio];
    const s = Math.min(scale, 1);
    const start = Math.floor(-1 / s) + 1;
    const footprint = 2 - 2 * start;
    const c: number[] = [];
    for (let i = 0; i < footprint; i++) c.push(Math.min(Math.max(1 - Math.abs((start + i - ratio) * s), 0), 1));
    const sum = c.reduce((p, q) => p + q, 0);
    return c.map((v) => v / sum);
  }
  // cubic
  const A = o.a;
  if (!o.antialias) {
    const r1 = ratio + 1, q = 1 - ratio, q1 = q + 1;
    return [
      ((A * r1 - 5 * A) * r1 + 8 * A) * r1 - 4 * A,
      ((A + 2) * ratio - (A + 3)) * ratio * ratio + 1,
      ((A + 2) * q - (A + 3)) * q * q + 1,
      ((A * q1 - 5 * A) * q1 + 8 * A) * q1 - 4 * A,
    ];
  }
  const s = Math.min(scale, 1);
  const kernel = (x: number) => {
    x = Math.abs(x);
    if (x <= 1) return (A + 2) * x * x * x - (A + 3) * x * x + 1;
    if (x < 2) return A * x * x * x - 5 * A * x * x + 8 * A * x - 4 * A;
    return 0;
  };
  const iStart = Math.floor(-2 / s) + 1;
  const iEnd = 2 - iStart;
  const c: number[] = [];
  for (let i = iStart; i < iEnd; i++) c.push(kernel(s * (i - ratio)));
  const sum = c.reduce((p, q) => p + q, 0);
  return c.map((v) => v / sum);
}

export function axisTaps(ctx: ResizeCtx, inW: number, outW: number, scale: number, roi: [number, number], o: {
  mode: string; coord: string; nearestMode: string; a: number; antialias: boolean; excludeOutside: boolean;
}): Taps {
  const taps: Taps = { idx: [], w: [], extrapolate: new Uint8Array(outW) };
  const outWidth = scale * inW; // the reference's real-valued output width
  for (let x = 0; x < outW; x++) {
    let xo: number;
    switch (o.coord) {
      case 'align_corners': xo = outWidth === 1 ? 0 : (x * (inW - 1)) / (outWidth - 1); break;
      case 'asymmetric': xo = x / scale; break;
      case 'tf_crop_and_resize':
        xo = outWidth === 1 ? ((roi[1] - roi[0]) * (inW - 1)) / 2 : (x * (roi[1] - roi[0]) * (inW - 1)) / (outWidth - 1);
        xo += roi[0] * (inW - 1);
        break;
      case 'pytorch_half_pixel': xo = outWidth === 1 ? -0.5 : (x + 0.5) / scale - 0.5; break;
      case 'half_pixel': xo = (x + 0.5) / scale - 0.5; break;
      case 'half_pixel_symmetric': {
        const adjustment = outW / outWidth;
        const offset = (inW / 2) * (1 - adjustment);
        xo = offset + (x + 0.5) / scale - 0.5;
        break;
      }
      default: return ctx.fail(`coordinate_transformation_mode '${o.coord}' is not supported`);
    }
    if (o.coord === 'tf_crop_and_resize' && (xo < 0 || xo > inW - 1)) {
      taps.extrapolate[x] = 1;
      taps.idx.push(new Int32Array(0));
      taps.w.push(new Float64Array(0));
      continue;
    }
    const xi = Math.floor(xo);
    const ratio = xo === xi ? 1 : xo - xi;
    const c = coefficients(ctx, o.mode, ratio, scale, o);
    const n = c.length;
    // the n nearest positions of an edge-padded line, preferring the lower ones (even n)
    const pad = Math.ceil(n / 2);
    const len = inW + 2 * pad;
    let start = Math.ceil(xo + pad) - n / 2;
    start = Math.min(Math.max(start, 0), len - n);
    const idx = new Int32Array(n);
    const w = new Float64Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) {
      const p = start + k - pad;
      w[k] = c[k];
      if (o.excludeOutside && (p < 0 || p >= inW)) w[k] = 0;
      sum += w[k];
      idx[k] = Math.min(Math.max(p, 0), inW - 1);
    }
    if (o.excludeOutside) for (let k = 0; k < n; k++) w[k] /= sum;
    taps.idx.push(idx);
    taps.w.push(w);
  }
  return taps;
}

export function options(ctx: ResizeCtx) {
  const old = legacy(ctx);
  let mode = ctx.attrs.string('mode', 'nearest');
  if (old && mode === 'bilinear') mode = 'linear';
  if (mode !== 'nearest' && mode !== 'linear' && mode !== 'cubic') ctx.fail(`mode '${mode}' is not nearest, linear or cubic`);
  if (old && mode === 'cubic') ctx.fail(`mode 'cubic' needs Resize opset 11`);
  const coord = old ? 'asymmetric' : ctx.attrs.string('coordinate_transformation_mode', 'half_pixel');
  if (coord === 'tf_half_pixel_for_nn') ctx.unsupported("coordinate_transformation_mode 'tf_half_pixel_for_nn' (Resize-11 only) is not supported; re-export with half_pixel");
  if (coord === 'half_pixel_symmetric' && ctx.opset < 19) ctx.fail("coordinate_transformation_mode 'half_pixel_symmetric' needs opset 19");
  const antialias = !old && ctx.opset >= 18 && ctx.attrs.int('antialias', 0) !== 0;
  if (antialias && mode === 'nearest') ctx.fail('antialias applies to linear and cubic modes only');
  return {
    mode,
    coord,
    nearestMode: old ? 'floor' : ctx.attrs.string('nearest_mode', 'round_prefer_floor'),
    a: old ? -0.75 : ctx.attrs.float('cubic_coeff_a', -0.75),
    antialias,
    excludeOutside: !old && ctx.attrs.int('exclude_outside', 0) !== 0,
    extrapolation: old ? 0 : ctx.attrs.float('extrapolation_value', 0),
  };
}

function inferResize(ctx: ShapeContext, inputs: Parameters<NonNullable<OpDef['inferShape']>>[1]) {
  const x = need(ctx, inputs, 0);
  if (!x.shape) return [{ dtype: x.dtype, shape: undefined }];
  const c = ctx as unknown as ResizeCtx;
  const args = readArgs(c, (i) => ctx.constant(i), (i) => inputs[i] !== undefined);
  if (!args) {
    const axes = legacy(c) ? undefined : ctx.attrs.optInts('axes');
    const rank = x.shape.length;
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (axes && !axes.some((a) => (a < 0 ? a + rank : a) === i) ? d : freshDim(ctx, 0, i))) }];
  }
  return [{ dtype: x.dtype, shape: plan(c, x.shape, args, (a) => freshDim(ctx, 0, a)).dims }];
}

function runResize(ctx: OpContext, inputs: readonly (Tensor | undefined)[]): Tensor[] {
  const x = needT(ctx, inputs, 0);
  if (x.dtype === 'string' || x.dtype === 'bool' || x.dtype.startsWith('complex')) ctx.fail(`cannot resize a ${x.dtype} tensor`);
  const c = ctx as unknown as ResizeCtx;
  const args = readArgs(c, (i) => inputs[i], (i) => inputs[i] !== undefined)!;
  const o = options(c);
  if (o.coord === 'tf_crop_and_resize' && !args.roi) ctx.fail("coordinate_transformation_mode 'tf_crop_and_resize' needs the roi input");
  const p = plan(c, x.dims, args, () => 0) as Plan;
  checkDims(ctx, p.dims);
  const rank = x.rank;
  let cur = Float64Array.from(x.toNumbers());
  let curDims = x.dims.slice();
  let extrap: Uint8Array | undefined; // positions that take extrapolation_value
  // Innermost axis first, as the reference nests axis 0 outermost; but shrinking axes before
  // growing ones, so that no intermediate is larger than the input or the output.
  const order = Array.from({ length: rank }, (_, k) => rank - 1 - k);
  order.sort((u, v) => Number(p.dims[u] > x.dims[u]) - Number(p.dims[v] > x.dims[v]));
  for (const a of order) {
    const inW = curDims[a], outW = p.dims[a];
    const identity = inW === outW && p.scales[a] === 1 && o.coord !== 'tf_crop_and_resize';
    if (identity) continue;
    if (inW === 0 && outW > 0) ctx.fail(`cannot resize an empty axis ${a} to ${outW}`);
    const taps = axisTaps(c, inW, outW, p.scales[a], p.roi[a], o);
    const outer = sizeOf(curDims.slice(0, a));
    const inner = sizeOf(curDims.slice(a + 1));
    const nextDims = curDims.slice();
    nextDims[a] = outW;
    const next = new Float64Array(outer * outW * inner);
    const nextEx = extrap || taps.extrapolate.some((v) => v) ? new Uint8Array(next.length) : undefined;
    for (let q = 0; q < outer; q++) {
      for (let x2 = 0; x2 < outW; x2++) {
        const ti = taps.idx[x2], tw = taps.w[x2];
        const ex = taps.extrapolate[x2];
        for (let r = 0; r < inner; r++) {
          const dst = (q * outW + x2) * inner + r;
          if (ex) { nextEx![dst] = 1; continue; }
          let s = 0;
          let anyEx = 0;
          for (let k = 0; k < ti.length; k++) {
            const src = (q * inW + ti[k]) * inner + r;
            if (tw[k] !== 0) s += tw[k] * cur[src];
            if (extrap && extrap[src]) anyEx = 1;
          }
          next[dst] = s;
          if (nextEx && anyEx) nextEx[dst] = 1;
        }
      }
    }
    cur = next;
    curDims = nextDims;
    extrap = nextEx;
  }
  if (extrap) for (let i = 0; i < cur.length; i++) if (extrap[i]) cur[i] = o.extrapolation;
  return [Tensor.from(x.dtype, p.dims, cur)];
}

export const Resize: OpDef = {
  opType: 'Resize',
  sinceVersion: 10,
  inferShape: inferResize,
  reference: runResize,
};

export const Upsample: OpDef = {
  opType: 'Upsample',
  sinceVersion: 7,
  inferShape: inferResize,
  reference: runResize,
};
