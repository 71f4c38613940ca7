/** AveragePool, MaxPool, LpPool, the Global pools, MaxUnpool. */
import { isFloat } from '../../ir/dtype';
import { ValueType } from '../../ir/graph';
import { Tensor, sizeOf } from '../../ir/tensor';
import { OpContext, OpDef, ShapeContext } from '../types';
import { checkOutDims, checkWork, f64, need, numberTensor, unknownDim } from '../util/nn-common';
import { WindowAttrs, WindowTaps, readWindow, windowOutput, windowOutputStatic } from '../util/nn-conv';
import { globalPoolKernel, maxUnpoolKernel, poolKernel } from './gpu/pool';

function poolInfer(ctx: ShapeContext, x: ValueType | undefined, withIndices = false): ValueType[] {
  const dtype = x?.dtype ?? 'float32';
  const res = (shape: ValueType['shape']): ValueType[] => {
    const r: ValueType[] = [{ dtype, shape }];
    if (withIndices && ctx.outputCount > 1) r.push({ dtype: 'int64', shape: shape?.slice() });
    return r;
  };
  if (!x?.shape) return res(undefined);
  const n = x.shape.length - 2;
  if (n < 1) ctx.fail(`input X must have rank >= 3, got ${x.shape.length}`);
  const win = readWindow(ctx, n);
  const { out } = windowOutput(ctx, x.shape.slice(2), win, ctx.attrs.int('ceil_mode', 0) !== 0);
  return res([x.shape[0], x.shape[1], ...out]);
}

interface PoolPlan {
  N: number; C: number; inSize: number; outSize: number; kSize: number;
  dims: number[]; win: WindowAttrs; inSp: number[]; outSp: number[];
  padsBegin: number[]; padsEnd: number[];
  /** flat input offsets of each output position's taps, -1 for padding */
  tapsOf(p: number): { tab: Int32Array; base: number };
}

function planPool(ctx: OpContext, X: Tensor): PoolPlan {
  if (X.rank < 3) ctx.fail(`input X must have rank >= 3 (N, C, spatial...), got [${X.dims.join(',')}]`);
  const n = X.rank - 2;
  const win = readWindow(ctx, n);
  const inSp = X.dims.slice(2);
  const { out: outSp, padsBegin, padsEnd } = windowOutputStatic(ctx, inSp, win, ctx.attrs.int('ceil_mode', 0) !== 0);
  const dims = [X.dims[0], X.dims[1], ...outSp];
  checkOutDims(ctx, dims);
  const taps = new WindowTaps(inSp, outSp, win.kernel, win.strides, win.dilations, padsBegin);
  checkWork(ctx, sizeOf(dims) * taps.kSize, 'pooling');
  const table = taps.outSize * taps.kSize <= 1 << 24 ? taps.table() : undefined;
  const row = new Int32Array(taps.kSize);
  return {
    N: X.dims[0], C: X.dims[1], inSize: taps.inSize, outSize: taps.outSize, kSize: taps.kSize,
    dims, win, inSp, outSp, padsBegin, padsEnd,
    tapsOf(p) {
      if (table) return { tab: table, base: p * taps.kSize };
      taps.fill(p, row);
      return { tab: row, base: 0 };
    },
  };
}

/** For each output position, how many taps fall within the explicitly padded input. */
function paddedCounts(pl: PoolPlan): Float64Array {
  const n = pl.inSp.length;
  const perAxis = pl.inSp.map((inD, a) => {
    const c = new Float64Array(pl.outSp[a]);
    for (let o = 0; o < pl.outSp[a]; o++) {
      for (let k = 0; k < pl.win.kernel[a]; k++) {
        const q = o * pl.win.strides[a] - pl.padsBegin[a] + k * pl.win.dilations[a];
        if (q >= -pl.padsBegin[a] && q < inD + pl.padsEnd[a]) c[o]++;
      }
    }
    return c;
  });
  const out = new Float64Array(pl.outSize);
  for (let p = 0; p < pl.outSize; p++) {
    let r = p;
    let cnt = 1;
    for (let a = n - 1; a >= 0; a--) {
      cnt *= perAxis[a][r % pl.outSp[a]];
      r = Math.floor(r / pl.outSp[a]);
    }
    out[p] = cnt;
  }
  return out;
}

export const AveragePool: OpDef = {
  opType: 'AveragePool',
  kernel: poolKernel('AveragePool'),
  traits: { batchIndependent: true },
  sinceVersion: 1,
  inferShape(ctx, [x]) {
    return poolInfer(ctx, x);
  },
  reference(ctx, inputs) {
    const X = need(ctx, inputs, 0, 'X');
    if (!isFloat(X.dtype)) ctx.fail(`AveragePool takes floating-point X, got ${X.dtype}`);
    const includePad = ctx.attrs.int('count_include_pad', 0) !== 0;
    const pl = planPool(ctx, X);
    const counts = includePad ? paddedCounts(pl) : undefined;
    const x = f64(X);
    const out = new Float64Array(sizeOf(pl.dims));
    for (let p = 0; p < pl.outSize; p++) {
      const { tab, base } = pl.tapsOf(p);
      for (let nc = 0; nc < pl.N * pl.C; nc++) {
        const xb = nc * pl.inSize;
        let s = 0;
        let cnt = 0;
        for (let t = 0; t < pl.kSize; t++) {
          const off = tab[base + t];
          if (off >= 0) { s += x[xb + off]; cnt++; }
        }
        out[nc * pl.outSize + p] = s / (counts ? counts[p] : cnt);
      }
    }
    return [numberTensor(X.dtype, pl.dims, out)];
  },
};

export const MaxPool: OpDef = {
  opType: 'MaxPool',
  kernel: poolKernel('MaxPool'),
  traits: { byteStorage: { inputs: [0], outputs: [0] }, batchIndependent: true },
  sinceVersion: 1,
  inferShape(ctx, [x]) {
    return poolInfer(ctx, x, true);
  },
  reference(ctx, inputs) {
    const X = need(ctx, inputs, 0, 'X');
    if (!isFloat(X.dtype) && X.dtype !== 'int8' && X.dtype !== 'uint8') ctx.fail(`MaxPool takes floating-point, int8 or uint8 X, got ${X.dtype}`);
    const storageOrder = ctx.attrs.int('storage_order', 0);
    if (storageOrder !== 0 && storageOrder !== 1) ctx.fail(`storage_order must be 0 or 1, got ${storageOrder}`);
    const pl = planPool(ctx, X);
    const x = f64(X);
    const total = sizeOf(pl.dims);
    const out = new Float64Array(total);
    const wantIdx = ctx.outputCount > 1 && ctx.node.outputs[1] !== '';
    const idx = wantIdx ? new Float64Array(total) : undefined;
    // column-major spatial offsets for storage_order = 1
    const n = pl.inSp.length;
    const colMajor = (off: number): number => {
      let r = off;
      let res = 0;
      let mul = 1;
      const coords = new Array<number>(n);
      for (let a = n - 1; a >= 0; a--) { coords[a] = r % pl.inSp[a]; r = Math.floor(r / pl.inSp[a]); }
      for (let a = 0; a < n; a++) { res += coords[a] * mul; mul *= pl.inSp[a]; }
      return res;
    };
    for (let p = 0; p < pl.outSize; p++) {
      const { tab, base } = pl.tapsOf(p);
      for (let nc = 0; nc < pl.N * pl.C; nc++) {
        const xb = nc * pl.inSize;
        let best = -Infinity;
        let bi = -1;
        // a NaN anywhere in the window gives NaN (its index: the first NaN), as GlobalMaxPool,
        // ReduceMax and numpy's max; ties keep the first maximum
        for (let t = 0; t < pl.kSize; t++) {
          const off = tab[base + t];
          if (off >= 0 && (bi < 0 || (!Number.isNaN(best) && (x[xb + off] > best || Number.isNaN(x[xb + off]))))) { best = x[xb + off]; bi = off; }
        }
        out[nc * pl.outSize + p] = best;
        if (idx) idx[nc * pl.outSize + p] = bi < 0 ? -1 : xb + (storageOrder ? colMajor(bi) : bi);
      }
    }
    const res: Tensor[] = [numberTensor(X.dtype, pl.dims, out)];
    if (idx) res.push(Tensor.from('int64', pl.dims, idx));
    return res;
  },
};

export const LpPool: OpDef = {
  opType: 'LpPool',
  kernel: poolKernel('LpPool'),
  sinceVersion: 1,
  inferShape(ctx, [x]) {
    return poolInfer(ctx, x);
  },
  reference(ctx, inputs) {
    const X = need(ctx, inputs, 0, 'X');
    if (!isFloat(X.dtype)) ctx.fail(`LpPool takes floating-point X, got ${X.dtype}`);
    const pNorm = ctx.opset >= 11 ? ctx.attrs.int('p', 2) : ctx.attrs.float('p', 2.0);
    const pl = planPool(ctx, X);
    const x = f64(X);
    const out = new Float64Array(sizeOf(pl.dims));
    for (let p = 0; p < pl.outSize; p++) {
      const { tab, base } = pl.tapsOf(p);
      for (let nc = 0; nc < pl.N * pl.C; nc++) {
        const xb = nc * pl.inSize;
        let s = 0;
        for (let t = 0; t < pl.kSize; t++) {
          const off = tab[base + t];
          if (off >= 0) s += Math.abs(x[xb + off]) ** pNorm;
        }
        out[nc * pl.outSize + p] = s ** (1 / pNorm);
      }
    }
    return [numberTensor(X.dtype, pl.dims, out)];
  },
};

function globalInfer(ctx: ShapeContext, x: ValueType | undefined): ValueType[] {
  const dtype = x?.dtype ?? 'float32';
  if (!x?.shape) return [{ dtype, shape: undefined }];
  if (x.shape.length < 2) ctx.fail(`input X must have rank >= 2, got ${x.shape.length}`);
  return [{ dtype, shape: [x.shape[0], x.shape[1], ...x.shape.slice(2).map(() => 1)] }];
}

function globalPool(ctx: OpContext, X: Tensor, fold: (vals: Float64Array, start: number, len: number) => number): Tensor {
  if (X.rank < 2) ctx.fail(`input X must have rank >= 2, got [${X.dims.join(',')}]`);
  if (!isFloat(X.dtype)) ctx.fail(`X must be floating-point, got ${X.dtype}`);
  const x = f64(X);
  const nc = X.dims[0] * X.dims[1];
  const sp = sizeOf(X.dims.slice(2));
  const out = new Float64Array(nc);
  for (let i = 0; i < nc; i++) out[i] = fold(x, i * sp, sp);
  return numberTensor(X.dtype, [X.dims[0], X.dims[1], ...X.dims.slice(2).map(() => 1)], out);
}

export const GlobalAveragePool: OpDef = {
  opType: 'GlobalAveragePool',
  kernel: globalPoolKernel('GlobalAveragePool'),
  traits: { batchIndependent: true },
  sinceVersion: 1,
  inferShape: (ctx, [x]) => globalInfer(ctx, x),
  reference(ctx, inputs) {
    return [globalPool(ctx, need(ctx, inputs, 0, 'X'), (v, s, n) => {
      let a = 0;
      for (let i = 0; i < n; i++) a += v[s + i];
      return a / n;
    })];
  },
};

export const GlobalMaxPool: OpDef = {
  opType: 'GlobalMaxPool',
  kernel: globalPoolKernel('GlobalMaxPool'),
  traits: { batchIndependent: true },
  sinceVersion: 1,
  inferShape: (ctx, [x]) => globalInfer(ctx, x),
  reference(ctx, inputs) {
    return [globalPool(ctx, need(ctx, inputs, 0, 'X'), (v, s, n) => {
      let a = -Infinity;
      for (let i = 0; i < n; i++) if (v[s + i] > a || Number.isNaN(v[s + i])) a = v[s + i];
      return a;
    })];
  },
};

export const GlobalLpPool: OpDef = {
  opType: 'GlobalLpPool',
  kernel: globalPoolKernel('GlobalLpPool'),
  sinceVersion: 1,
  inferShape: (ctx, [x]) => globalInfer(ctx, x),
  reference(ctx, inputs) {
    const p = ctx.opset >= 2 ? ctx.attrs.int('p', 2) : ctx.attrs.float('p', 2.0);
    return [globalPool(ctx, need(ctx, inputs, 0, 'X'), (v, s, n) => {
      let a = 0;
      for (let i = 0; i < n; i++) a += Math.abs(v[s + i]) ** p;
      return a ** (1 / p);
    })];
  },
};

export const MaxUnpool: OpDef = {
  opType: 'MaxUnpool',
  sinceVersion: 9,
  kernel: maxUnpoolKernel,
  inferShape(ctx, [x]) {
    const dtype = x?.dtype ?? 'float32';
    const os = ctx.constant(2);
    if (os) return [{ dtype, shape: Array.from(os.toNumbers()) }];
    if (ctx.node.inputs[2]) return [{ dtype, shape: x?.shape ? x.shape.map((_, i) => unknownDim(ctx, i)) : undefined }];
    if (!x?.shape) return [{ dtype, shape: undefined }];
    const n = x.shape.length - 2;
    const win = readWindow(ctx, n);
    return [{
      dtype,
      shape: [x.shape[0], x.shape[1], ...x.shape.slice(2).map((d, i) => (typeof d === 'number' ? (d - 1) * win.strides[i] + win.kernel[i] - win.pads[i] - win.pads[i + n] : unknownDim(ctx, 2 + i)))],
    }];
  },
  reference(ctx, inputs) {
    const X = need(ctx, inputs, 0, 'X');
    const I = need(ctx, inputs, 1, 'I');
    const OS = inputs[2];
    if (X.rank < 3) ctx.fail(`X must have rank >= 3, got [${X.dims.join(',')}]`);
    if (I.size !== X.size) ctx.fail(`I has ${I.size} elements but X has ${X.size}`);
    const n = X.rank - 2;
    const win = readWindow(ctx, n);
    // indices address the default output layout (N, C, (in-1)*s + k - pads); an explicit
    // output_shape keeps each element's coordinates (the extra room is at the end)
    const inferred = [X.dims[0], X.dims[1], ...X.dims.slice(2).map((d, i) => (d - 1) * win.strides[i] + win.kernel[i] - win.pads[i] - win.pads[i + n])];
    checkOutDims(ctx, inferred);
    let dims = inferred;
    if (OS) {
      dims = Array.from(OS.toNumbers());
      if (dims.length !== X.rank) ctx.fail(`output_shape has ${dims.length} values, expected ${X.rank}`);
      checkOutDims(ctx, dims);
    }
    const total = sizeOf(dims);
    const inferredTotal = sizeOf(inferred);
    const out = new Float64Array(total);
    const x = f64(X);
    const idx = I.toNumbers();
    for (let i = 0; i < x.length; i++) {
      const j = idx[i];
      if (!Number.isInteger(j) || j < 0 || j >= inferredTotal) ctx.fail(`index ${j} is outside the unpooled tensor of ${inferredTotal} elements`);
      let r = j;
      let off = 0;
      let mul = 1;
      for (let a = X.rank - 1; a >= 0; a--) {
        const c = r % inferred[a];
        r = Math.floor(r / inferred[a]);
        if (c >= dims[a]) ctx.fail(`index ${j} falls outside output_shape [${dims.join(',')}]`);
        off += c * mul;
        mul *= dims[a];
      }
      out[off] = x[i];
    }
    return [numberTensor(X.dtype, dims, out)];
  },
};
