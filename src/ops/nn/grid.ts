/** GridSample (2-D and N-D) and AffineGrid. */
import { isFloat } from '../../ir/dtype';
import { Dim } from '../../ir/graph';
import { sizeOf, stridesOf } from '../../ir/tensor';
import { OpDef } from '../types';
import { checkOutDims, checkWork, f64, floatTensor, need, rint, unknownDim } from '../util/nn-common';
import { affineGridKernel, gridSampleKernel } from './gpu/grid';

/** Reflect x into [lo, hi] (as the ONNX reference's _gs_reflect). */
function reflect(x: number, lo: number, hi: number): number {
  const range = hi - lo;
  if (range <= 0) return lo;
  if (x < lo) {
    const dx = lo - x;
    const n = Math.trunc(dx / range);
    const r = dx - n * range;
    return n % 2 === 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    const dx = x - hi;
    const n = Math.trunc(dx / range);
    const r = dx - n * range;
    return n % 2 === 0 ? hi - r : lo + r;
  }
  return x;
}

function cubicCoeffs(t: number): number[] {
  const A = -0.75;
  const x = Math.abs(t);
  return [
    ((A * (x + 1) - 5 * A) * (x + 1) + 8 * A) * (x + 1) - 4 * A,
    ((A + 2) * x - (A + 3)) * x * x + 1,
    ((A + 2) * (1 - x) - (A + 3)) * (1 - x) * (1 - x) + 1,
    ((A * (2 - x) - 5 * A) * (2 - x) + 8 * A) * (2 - x) - 4 * A,
  ];
}

export const GridSample: OpDef = {
  opType: 'GridSample',
  kernel: gridSampleKernel,
  sinceVersion: 16,
  inferShape(ctx, [x, grid]) {
    const dtype = x?.dtype ?? 'float32';
    if (!x?.shape && !grid?.shape) return [{ dtype, shape: undefined }];
    const r = x?.shape ? x.shape.length - 2 : grid!.shape!.length - 2;
    const n: Dim = x?.shape?.[0] ?? grid?.shape?.[0] ?? unknownDim(ctx, 0);
    const c: Dim = x?.shape?.[1] ?? unknownDim(ctx, 1);
    const sp: Dim[] = grid?.shape ? grid.shape.slice(1, 1 + r) : Array.from({ length: r }, (_, i) => unknownDim(ctx, 2 + i));
    return [{ dtype, shape: [n, c, ...sp] }];
  },
  reference(ctx, inputs) {
    const X = need(ctx, inputs, 0, 'X');
    const G = need(ctx, inputs, 1, 'grid');
    if (!isFloat(X.dtype) || !isFloat(G.dtype)) ctx.fail(`X and grid must be floating-point, got ${X.dtype} and ${G.dtype}`);
    const alignCorners = ctx.attrs.int('align_corners', 0) !== 0;
    let mode = ctx.attrs.string('mode', ctx.opset >= 20 ? 'linear' : 'bilinear');
    const padding = ctx.attrs.string('padding_mode', 'zeros');
    mode = mode === 'bilinear' ? 'linear' : mode === 'bicubic' ? 'cubic' : mode;
    if (!['linear', 'nearest', 'cubic'].includes(mode)) ctx.fail(`mode '${mode}' is not one of linear/bilinear, nearest, cubic/bicubic`);
    if (!['zeros', 'border', 'reflection'].includes(padding)) ctx.fail(`padding_mode '${padding}' is not one of zeros, border, reflection`);
    const r = X.rank - 2;
    if (r < 1) ctx.fail(`X must have rank >= 3, got [${X.dims.join(',')}]`);
    if (ctx.opset < 20 && r !== 2) ctx.fail(`opset ${ctx.opset} GridSample takes 4-D X only`);
    if (mode === 'cubic' && r !== 2) ctx.unsupported('cubic mode is only defined for 2-D (4-D X) inputs');
    if (G.rank !== r + 2 || G.dims[0] !== X.dims[0] || G.dims[r + 1] !== r) ctx.fail(`grid [${G.dims.join(',')}] must be [N, out spatial (${r} dims), ${r}] for X [${X.dims.join(',')}]`);
    const [N, C] = X.dims;
    const inSp = X.dims.slice(2);
    const outSp = G.dims.slice(1, 1 + r);
    const dims = [N, C, ...outSp];
    checkOutDims(ctx, dims);
    const T = mode === 'nearest' ? 1 : mode === 'linear' ? 2 : 4;
    checkWork(ctx, sizeOf(dims) * T ** r, 'grid sampling');
    const x = f64(X);
    const g = f64(G);
    const inSize = sizeOf(inSp);
    const outSize = sizeOf(outSp);
    const inStr = stridesOf(inSp);
    const lo = inSp.map(() => (alignCorners ? 0 : -0.5));
    const hi = inSp.map((d) => (alignCorners ? d - 1 : d - 0.5));
    /** input index along axis a for integer position i, or -1 for a zero (padding) value */
    const pixel = (a: number, i: number): number => {
      const L = inSp[a];
      if (padding === 'zeros') return i >= 0 && i < L ? i : -1;
      if (padding === 'border') return Math.min(Math.max(i, 0), L - 1);
      const j = Math.trunc(reflect(i, lo[a], hi[a]));
      return Math.min(Math.max(j, 0), L - 1);
    };
    const out = new Float64Array(sizeOf(dims));
    const idx: number[][] = Array.from({ length: r }, () => new Array<number>(T));
    const wts: number[][] = Array.from({ length: r }, () => new Array<number>(T));
    const combos = T ** r;
    for (let n = 0; n < N; n++) {
      for (let p = 0; p < outSize; p++) {
        const gb = (n * outSize + p) * r;
        for (let a = 0; a < r; a++) {
          const L = inSp[a];
          const v = g[gb + (r - 1 - a)]; // the grid's last dim is (x, y, z...): reversed axes
          let c = alignCorners ? ((v + 1) / 2) * (L - 1) : ((v + 1) * L - 1) / 2;
          if (mode === 'nearest') c = rint(c);
          if (c < lo[a] || c > hi[a]) {
            if (padding === 'border') c = Math.min(Math.max(c, 0), L - 1);
            else if (padding === 'reflection') c = reflect(c, lo[a], hi[a]);
          }
          if (mode === 'nearest') {
            idx[a][0] = Number.isFinite(c) ? pixel(a, Math.trunc(c)) : -1;
            wts[a][0] = 1;
          } else if (mode === 'linear') {
            const f = Math.floor(c);
            idx[a][0] = pixel(a, f); idx[a][1] = pixel(a, f + 1);
            wts[a][0] = 1 - (c - f); wts[a][1] = c - f;
          } else {
            const f = Math.floor(c);
            const cc = cubicCoeffs(c - f);
            for (let t = 0; t < 4; t++) { idx[a][t] = pixel(a, f - 1 + t); wts[a][t] = cc[t]; }
          }
        }
        for (let ch = 0; ch < C; ch++) {
          const xb = (n * C + ch) * inSize;
          let acc = 0;
          for (let k = 0; k < combos; k++) {
            let rem = k;
            let w = 1;
            let off = 0;
            for (let a = r - 1; a >= 0; a--) {
              const t = rem % T;
              rem = Math.floor(rem / T);
              const i = idx[a][t];
              if (i < 0) { off = -1; break; }
              w *= wts[a][t];
              off += i * inStr[a];
            }
            if (off >= 0) acc += w * x[xb + off];
          }
          out[(n * C + ch) * outSize + p] = acc;
        }
      }
    }
    return [floatTensor(X.dtype, dims, out)];
  },
};

export const AffineGrid: OpDef = {
  opType: 'AffineGrid',
  sinceVersion: 20,
  kernel: affineGridKernel,
  inferShape(ctx, [theta]) {
    const dtype = theta?.dtype ?? 'float32';
    const size = ctx.constant(1);
    if (!size) return [{ dtype, shape: undefined }];
    const s = Array.from(size.toNumbers());
    return [{ dtype, shape: [s[0], ...s.slice(2), s.length - 2] }];
  },
  reference(ctx, inputs) {
    const TH = need(ctx, inputs, 0, 'theta');
    const S = need(ctx, inputs, 1, 'size');
    if (!isFloat(TH.dtype)) ctx.fail(`theta must be floating-point, got ${TH.dtype}`);
    const align = ctx.attrs.int('align_corners', 0) !== 0;
    const size = Array.from(S.toNumbers());
    const r = size.length - 2;
    if (r !== 2 && r !== 3) ctx.fail(`size must have 4 or 5 values, got ${size.length}`);
    const N = size[0];
    if (TH.rank !== 3 || TH.dims[0] !== N || TH.dims[1] !== r || TH.dims[2] !== r + 1) ctx.fail(`theta must be [${N}, ${r}, ${r + 1}], got [${TH.dims.join(',')}]`);
    const sp = size.slice(2);
    const dims = [N, ...sp, r];
    checkOutDims(ctx, dims);
    const th = f64(TH);
    // base coordinates per axis, in the grid's (x, y, z) order = reversed spatial axes
    const base = sp.map((L) => Array.from({ length: L }, (_, i) => (align ? (L === 1 ? -1 : -1 + (2 * i) / (L - 1)) : (2 * i + 1) / L - 1)));
    const outSize = sizeOf(sp);
    const out = new Float64Array(N * outSize * r);
    const f = Math.fround;
    for (let n = 0; n < N; n++) {
      for (let p = 0; p < outSize; p++) {
        let rem = p;
        const coord = new Array<number>(r);
        for (let a = r - 1; a >= 0; a--) { coord[a] = base[a][rem % sp[a]]; rem = Math.floor(rem / sp[a]); }
        const v = [...coord.reverse().map(f), 1];
        for (let i = 0; i < r; i++) {
          let acc = 0;
          for (let j = 0; j <= r; j++) acc += th[(n * r + i) * (r + 1) + j] * v[j];
          out[(n * outSize + p) * r + i] = acc;
        }
      }
    }
    return [floatTensor(TH.dtype, dims, out)];
  },
};
