/**
 * Signal processing: DFT (opset 17 attribute axis, opset 20 axis input), STFT, the Hann/Hamming/
 * Blackman windows and MelWeightMatrix. Transforms are the plain O(n^2) sum in float64: obviously
 * correct, and the oracle a GPU FFT is checked against.
 */
import { DType, dtypeFromOnnx, isFloat } from '../../ir/dtype';
import { Dim } from '../../ir/graph';
import { sizeOf, Tensor } from '../../ir/tensor';
import { OpContext, OpDef, ShapeContext } from '../types';
import { checkDims, scalarOf, toF64 } from '../util/control-tensor';
import { dftKernel, stftKernel, windowKernel } from './gpu-signal';

/**
 * One DFT of length n over complex data: out[k] = sum_t in[t] e^{-+2 pi i k t / n}, for k < nOut.
 * re/im are read with stride `st` from offset `o` (nIn values available, zero beyond).
 */
function dft1(re: Float64Array, im: Float64Array, nIn: number, n: number, nOut: number, inverse: boolean): [Float64Array, Float64Array] {
  const oRe = new Float64Array(nOut), oIm = new Float64Array(nOut);
  const sign = inverse ? 1 : -1;
  const m = Math.min(nIn, n);
  for (let k = 0; k < nOut; k++) {
    let sr = 0, si = 0;
    for (let t = 0; t < m; t++) {
      // reduce k*t mod n first so the angle stays small and exact
      const ang = (sign * 2 * Math.PI * ((k * t) % n)) / n;
      const c = Math.cos(ang), s = Math.sin(ang);
      sr += re[t] * c - im[t] * s;
      si += re[t] * s + im[t] * c;
    }
    if (inverse) { sr /= n; si /= n; }
    oRe[k] = sr;
    oIm[k] = si;
  }
  return [oRe, oIm];
}

function floatOut(ctx: { fail(m: string): never }, code: number): DType {
  const dt = dtypeFromOnnx(code);
  if (!dt) ctx.fail(`unknown output_datatype ${code}`);
  return dt;
}

function dftParams(ctx: OpContext, inputs: readonly (Tensor | undefined)[]): { axis: number; len?: number } {
  const x = inputs[0]!;
  const r = x.dims.length;
  let axis: number;
  if (ctx.opset >= 20) axis = inputs[2] ? scalarOf(inputs[2], 'axis', ctx.fail) : -2;
  else axis = ctx.attrs.int('axis', 1);
  const a = axis < 0 ? axis + r : axis;
  if (a < 0 || a >= r - 1) ctx.fail(`axis ${axis} is out of range for an input of rank ${r} (the last axis holds real/imaginary parts)`);
  const len = inputs[1] ? scalarOf(inputs[1], 'dft_length', ctx.fail) : undefined;
  if (len !== undefined && !(Number.isInteger(len) && len >= 1)) ctx.fail(`dft_length must be a positive integer, got ${len}`);
  return { axis: a, len };
}

export const DFT: OpDef = {
  opType: 'DFT',
  sinceVersion: 17,
  kernel: dftKernel,
  inferShape(ctx: ShapeContext, [x]) {
    if (!x?.shape) return [{ dtype: x?.dtype ?? 'float32', shape: undefined }];
    const r = x.shape.length;
    const onesided = ctx.attrs.int('onesided', 0);
    const inverse = ctx.attrs.int('inverse', 0);
    let axis: number | undefined;
    if (ctx.opset >= 20) {
      const c = ctx.constant(2);
      axis = c ? Number(c.data[0]) : ctx.node.inputs[2] ? undefined : -2;
    } else axis = ctx.attrs.int('axis', 1);
    const lenT = ctx.constant(1);
    if (axis === undefined || (ctx.node.inputs[1] && !lenT)) return [{ dtype: x.dtype, shape: undefined }];
    const a = axis < 0 ? axis + r : axis;
    const shape: Dim[] = x.shape.slice();
    const dimIn = shape[a];
    let n: Dim = lenT ? Number(lenT.data[0]) : dimIn;
    if (onesided && inverse && !lenT) n = typeof dimIn === 'number' ? 2 * (dimIn - 1) : `${dimIn}_irfft`;
    shape[a] = onesided && !inverse ? (typeof n === 'number' ? Math.floor(n / 2) + 1 : `${n}_rfft`) : n;
    shape[r - 1] = onesided && inverse ? 1 : 2;
    return [{ dtype: x.dtype, shape }];
  },
  reference(ctx: OpContext, inputs) {
    const x = inputs[0];
    if (!x) ctx.fail('input is required');
    if (!isFloat(x.dtype)) ctx.fail(`input must be a float tensor, got ${x.dtype}`);
    const r = x.dims.length;
    const last = x.dims[r - 1];
    if (r < 2 || (last !== 1 && last !== 2)) ctx.fail(`the last axis must be 1 (real) or 2 (complex), got [${x.dims.join(',')}]`);
    const onesided = ctx.attrs.int('onesided', 0);
    const inverse = ctx.attrs.int('inverse', 0);
    const { axis, len } = dftParams(ctx, inputs);
    const dimIn = x.dims[axis];
    const irfft = onesided && inverse;
    const n = len ?? (irfft ? 2 * (dimIn - 1) : dimIn);
    if (n < 1) ctx.fail(`DFT length ${n} must be positive`);
    const nOut = irfft ? n : onesided ? Math.floor(n / 2) + 1 : n;
    const outDims = x.dims.slice();
    outDims[axis] = nOut;
    outDims[r - 1] = irfft ? 1 : 2;
    checkDims(outDims, ctx.fail);
    const outer = sizeOf(x.dims.slice(0, axis));
    const inner = sizeOf(x.dims.slice(axis + 1, r - 1));
    // The reference is the plain O(n^2) sum: bound its total work rather than hang on a long signal.
    if (outer * inner * nOut * (irfft ? n : Math.min(dimIn, n)) > 2 ** 34) ctx.unsupported(`a DFT of length ${n} over ${outer * inner} signals is too much work for the O(n^2) reference`);
    const xv = toF64(x);
    const out = new Float64Array(sizeOf(outDims));
    const oc = outDims[r - 1];
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const at = (t: number) => ((o * dimIn + t) * inner + i) * last;
        let re: Float64Array, im: Float64Array, m: number;
        if (irfft) {
          // Rebuild the full Hermitian spectrum of length n from the first n/2+1 bins.
          re = new Float64Array(n); im = new Float64Array(n);
          const half = Math.floor(n / 2);
          for (let k = 0; k <= half; k++) {
            if (k < dimIn) { re[k] = xv[at(k)]; im[k] = last === 2 ? xv[at(k) + 1] : 0; }
          }
          for (let k = half + 1; k < n; k++) { re[k] = re[n - k]; im[k] = -im[n - k]; }
          m = n;
        } else {
          m = Math.min(dimIn, n);
          re = new Float64Array(m); im = new Float64Array(m);
          for (let t = 0; t < m; t++) { re[t] = xv[at(t)]; im[t] = last === 2 ? xv[at(t) + 1] : 0; }
        }
        const [fr, fi] = dft1(re, im, m, n, nOut, !!inverse);
        for (let k = 0; k < nOut; k++) {
          const p = ((o * nOut + k) * inner + i) * oc;
          out[p] = fr[k];
          if (oc === 2) out[p + 1] = fi[k];
        }
      }
    }
    return [Tensor.from(x.dtype, outDims, out)];
  },
};

export const STFT: OpDef = {
  opType: 'STFT',
  sinceVersion: 17,
  kernel: stftKernel,
  inferShape(ctx: ShapeContext, [sig, , win]) {
    const dtype = sig?.dtype ?? 'float32';
    const step = ctx.constant(1);
    const fl = ctx.constant(3);
    const onesided = ctx.attrs.int('onesided', 1);
    const L: Dim | undefined = fl ? Number(fl.data[0]) : win?.shape?.[0];
    if (!sig?.shape || typeof L !== 'number' || !step || typeof sig.shape[1] !== 'number') {
      return [{ dtype, shape: sig?.shape ? [sig.shape[0], 'frames', typeof L === 'number' ? (onesided ? Math.floor(L / 2) + 1 : L) : 'bins', 2] : undefined }];
    }
    const frames = Math.floor((sig.shape[1] - L) / Number(step.data[0])) + 1;
    return [{ dtype, shape: [sig.shape[0], frames, onesided ? Math.floor(L / 2) + 1 : L, 2] }];
  },
  reference(ctx: OpContext, [sig, stepT, win, flT]) {
    if (!sig || !stepT) ctx.fail('signal and frame_step are required');
    if (sig.dims.length !== 3 || (sig.dims[2] !== 1 && sig.dims[2] !== 2)) ctx.fail(`signal must be [batch, length, 1|2], got [${sig.dims.join(',')}]`);
    const onesided = ctx.attrs.int('onesided', 1);
    const step = scalarOf(stepT, 'frame_step', ctx.fail);
    if (!(Number.isInteger(step) && step >= 1)) ctx.fail(`frame_step must be a positive integer, got ${step}`);
    if (win && win.dims.length !== 1) ctx.fail('window must be 1-D');
    const L = flT ? scalarOf(flT, 'frame_length', ctx.fail) : win ? win.dims[0] : ctx.fail('either window or frame_length is required');
    if (win && win.dims[0] !== L) ctx.fail(`window length ${win.dims[0]} differs from frame_length ${L}`);
    const [batch, length, c] = sig.dims;
    if (!(Number.isInteger(L) && L >= 1 && L <= length)) ctx.fail(`frame_length ${L} must be in [1, ${length}]`);
    if (onesided && c === 2) ctx.fail('onesided output needs a real signal');
    const frames = Math.floor((length - L) / step) + 1;
    const bins = onesided ? Math.floor(L / 2) + 1 : L;
    const outDims = [batch, frames, bins, 2];
    checkDims(outDims, ctx.fail);
    if (frames * bins * L > 2 ** 32) ctx.unsupported('the STFT is too large for the O(n^2) reference');
    const s = toF64(sig);
    const w = win ? toF64(win) : undefined;
    const out = new Float64Array(sizeOf(outDims));
    const re = new Float64Array(L), im = new Float64Array(L);
    for (let b = 0; b < batch; b++) {
      for (let f = 0; f < frames; f++) {
        for (let t = 0; t < L; t++) {
          const p = (b * length + f * step + t) * c;
          const wt = w ? w[t] : 1;
          re[t] = s[p] * wt;
          im[t] = c === 2 ? s[p + 1] * wt : 0;
        }
        const [fr, fi] = dft1(re, im, L, L, bins, false);
        for (let k = 0; k < bins; k++) {
          const o = ((b * frames + f) * bins + k) * 2;
          out[o] = fr[k];
          out[o + 1] = fi[k];
        }
      }
    }
    return [Tensor.from(sig.dtype, outDims, out)];
  },
};

function windowOp(opType: string, fn: (n: number, N: number) => number, coef: [number, number, number]): OpDef {
  return {
    opType,
    sinceVersion: 17,
    kernel: windowKernel(...coef),
    inferShape(ctx: ShapeContext) {
      const dtype = floatOut(ctx, ctx.attrs.int('output_datatype', 1));
      const size = ctx.constant(0);
      return [{ dtype, shape: [size ? Number(size.data[0]) : 'window_length'] }];
    },
    reference(ctx: OpContext, [sizeT]) {
      const dtype = floatOut(ctx, ctx.attrs.int('output_datatype', 1));
      const periodic = ctx.attrs.int('periodic', 1);
      if (!sizeT) ctx.fail('size is required');
      const size = scalarOf(sizeT, 'size', ctx.fail);
      if (!(Number.isInteger(size) && size >= 0)) ctx.fail(`size must be a non-negative integer, got ${size}`);
      checkDims([size], ctx.fail);
      const N = periodic ? size : size - 1;
      const v = new Float64Array(size);
      for (let n = 0; n < size; n++) v[n] = N === 0 ? 1 : fn(n, N);
      return [Tensor.from(dtype, [size], v)];
    },
  };
}

export const HannWindow = windowOp('HannWindow', (n, N) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / N), [0.5, 0.5, 0]);
export const HammingWindow = windowOp('HammingWindow', (n, N) => 25 / 46 - (21 / 46) * Math.cos((2 * Math.PI * n) / N), [25 / 46, 21 / 46, 0]);
export const BlackmanWindow = windowOp('BlackmanWindow', (n, N) => 0.42 - 0.5 * Math.cos((2 * Math.PI * n) / N) + 0.08 * Math.cos((4 * Math.PI * n) / N), [0.42, 0.5, 0.08]);

/** MelWeightMatrix, following the ONNX specification's reference algorithm (integer bin edges). */
export const MelWeightMatrix: OpDef = {
  opType: 'MelWeightMatrix',
  sinceVersion: 17,
  inferShape(ctx: ShapeContext) {
    const dtype = floatOut(ctx, ctx.attrs.int('output_datatype', 1));
    const mel = ctx.constant(0), dft = ctx.constant(1);
    return [{ dtype, shape: [dft ? Math.floor(Number(dft.data[0]) / 2) + 1 : 'spectrogram_bins', mel ? Number(mel.data[0]) : 'mel_bins'] }];
  },
  reference(ctx: OpContext, inputs) {
    const dtype = floatOut(ctx, ctx.attrs.int('output_datatype', 1));
    const names = ['num_mel_bins', 'dft_length', 'sample_rate', 'lower_edge_hertz', 'upper_edge_hertz'];
    const v = names.map((n, i) => scalarOf(inputs[i] ?? ctx.fail(`${n} is required`), n, ctx.fail));
    const [numMel, dftLen, rate, lo, hi] = v;
    if (!(Number.isInteger(numMel) && numMel >= 1 && Number.isInteger(dftLen) && dftLen >= 1)) ctx.fail('num_mel_bins and dft_length must be positive integers');
    if (!(rate > 0) || !(lo >= 0) || !(hi > lo)) ctx.fail('need sample_rate > 0 and 0 <= lower_edge_hertz < upper_edge_hertz');
    const specBins = Math.floor(dftLen / 2) + 1;
    checkDims([specBins, numMel], ctx.fail);
    const lowMel = 2595 * Math.log10(1 + lo / 700);
    const highMel = 2595 * Math.log10(1 + hi / 700);
    const step = (highMel - lowMel) / (numMel + 2);
    const edges: number[] = [];
    for (let i = 0; i < numMel + 2; i++) {
      const hz = 700 * (10 ** ((i * step + lowMel) / 2595) - 1);
      edges.push(Math.floor(((dftLen + 1) * hz) / rate));
    }
    const out = new Float64Array(specBins * numMel);
    const set = (j: number, i: number, val: number) => { if (j >= 0 && j < specBins) out[j * numMel + i] = val; };
    for (let i = 0; i < numMel; i++) {
      const [l, c, h] = [edges[i], edges[i + 1], edges[i + 2]];
      // loops clamped to the output rows: hostile edge frequencies cannot make them long
      if (c === l) set(c, i, 1);
      else for (let j = Math.max(l, 0); j <= Math.min(c, specBins - 1); j++) set(j, i, (j - l) / (c - l));
      if (h > c) for (let j = Math.max(c, 0); j < Math.min(h, specBins); j++) set(j, i, (h - j) / (h - c));
    }
    return [Tensor.from(dtype, [specBins, numMel], out)];
  },
};

export const SIGNAL_OPS: OpDef[] = [DFT, STFT, HannWindow, HammingWindow, BlackmanWindow, MelWeightMatrix];

