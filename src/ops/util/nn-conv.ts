/** Window geometry shared by Conv, ConvTranspose, the pools, Col2Im and DeformConv. */
import { Dim } from '../../ir/graph';
import { stridesOf } from '../../ir/tensor';
import { OpContext, ShapeContext } from '../types';
import { unknownDim } from './nn-common';
import { Attrs } from '../../ir/attrs';

type Ctx = OpContext | ShapeContext;

/** The window attributes of a Conv / pool node, defaults applied. */
export interface WindowAttrs {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Explicit pads [b1..bn, e1..en] (zeros when absent). */
  pads: number[];
  autoPad: string;
}

/**
 * Read kernel_shape, strides, dilations, pads and auto_pad for `n` spatial axes. `kernel` is the
 * kernel from the weight's shape where there is one (Conv); pools require kernel_shape.
 */
export function readWindow(ctx: Ctx, n: number, kernel?: readonly number[]): WindowAttrs {
  const a: Attrs = ctx.attrs;
  const ks = kernel ? a.ints('kernel_shape', kernel as number[]) : a.ints('kernel_shape');
  const ones = new Array<number>(n).fill(1);
  const strides = a.ints('strides', ones);
  const dilations = a.ints('dilations', ones);
  const pads = a.ints('pads', new Array<number>(2 * n).fill(0));
  const autoPad = a.string('auto_pad', 'NOTSET');
  if (ks.length !== n) ctx.fail(`kernel_shape has ${ks.length} values, expected ${n} (one per spatial axis)`);
  if (strides.length !== n) ctx.fail(`strides has ${strides.length} values, expected ${n}`);
  if (dilations.length !== n) ctx.fail(`dilations has ${dilations.length} values, expected ${n}`);
  if (pads.length !== 2 * n) ctx.fail(`pads has ${pads.length} values, expected ${2 * n}`);
  if (kernel && kernel.some((k, i) => typeof k === 'number' && k !== ks[i])) {
    ctx.fail(`kernel_shape [${ks.join(',')}] does not match the weight's spatial dims [${kernel.join(',')}]`);
  }
  for (const k of ks) if (!Number.isInteger(k) || k < 1) ctx.fail(`kernel_shape value ${k} must be positive`);
  if (ks.reduce((x, y) => x * y, 1) > 2 ** 24) ctx.fail(`kernel_shape [${ks.join(',')}] has more than 2^24 taps`);
  for (const v of [...strides, ...dilations, ...pads]) if (v > 2 ** 31) ctx.fail(`strides/dilations/pads value ${v} is too large`);
  for (const s of strides) if (!Number.isInteger(s) || s < 1) ctx.fail(`stride ${s} must be positive`);
  for (const d of dilations) if (!Number.isInteger(d) || d < 1) ctx.fail(`dilation ${d} must be positive`);
  for (const p of pads) if (!Number.isInteger(p) || p < 0) ctx.fail(`pad ${p} must be non-negative`);
  if (!['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'].includes(autoPad)) ctx.fail(`auto_pad '${autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
  return { kernel: ks, strides, dilations, pads, autoPad };
}

/** Output spatial dims and the effective pads of a sliding window (Conv or a pool). */
export function windowOutput(ctx: Ctx, inDims: readonly Dim[], w: WindowAttrs, ceilMode = false): { out: Dim[]; padsBegin: number[]; padsEnd: number[] } {
  const n = inDims.length;
  const out: Dim[] = [];
  const pb: number[] = [];
  const pe: number[] = [];
  for (let i = 0; i < n; i++) {
    const inD = inDims[i];
    const s = w.strides[i];
    const dk = (w.kernel[i] - 1) * w.dilations[i] + 1;
    if (w.autoPad === 'SAME_UPPER' || w.autoPad === 'SAME_LOWER') {
      if (typeof inD !== 'number') {
        out.push(s === 1 ? inD : unknownDim(ctx as ShapeContext, 2 + i));
        pb.push(0); pe.push(0);
        continue;
      }
      const o = Math.ceil(inD / s);
      const total = Math.max(0, (o - 1) * s + dk - inD);
      const small = Math.floor(total / 2);
      if (w.autoPad === 'SAME_UPPER') { pb.push(small); pe.push(total - small); } else { pb.push(total - small); pe.push(small); }
      out.push(o);
      continue;
    }
    const b = w.autoPad === 'VALID' ? 0 : w.pads[i];
    const e = w.autoPad === 'VALID' ? 0 : w.pads[i + n];
    pb.push(b); pe.push(e);
    if (typeof inD !== 'number') { out.push(unknownDim(ctx as ShapeContext, 2 + i)); continue; }
    const span = inD + b + e - dk;
    if (span < 0) ctx.fail(`the window (${dk} with dilation) is larger than the padded input (${inD + b + e}) on spatial axis ${i}`);
    let o = (ceilMode ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
    // a window may not start in the end padding
    if (ceilMode && (o - 1) * s >= inD + b) o -= 1;
    out.push(o);
  }
  return { out, padsBegin: pb, padsEnd: pe };
}

/** Static version of windowOutput for the references. */
export function windowOutputStatic(ctx: OpContext, inDims: readonly number[], w: WindowAttrs, ceilMode = false): { out: number[]; padsBegin: number[]; padsEnd: number[] } {
  const r = windowOutput(ctx, inDims, w, ceilMode);
  return { out: r.out as number[], padsBegin: r.padsBegin, padsEnd: r.padsEnd };
}

/**
 * Precomputed tap table of an n-D sliding window over an input of spatial dims `inDims`:
 * for each output position and each kernel tap, the flat input spatial offset, or -1 where the tap
 * falls into padding. Built per axis (small tables), combined on demand.
 */
export class WindowTaps {
  readonly outSize: number;
  readonly kSize: number;
  readonly inSize: number;
  /** per axis: [outIdx * k + kIdx] -> input index along that axis, or -1. */
  private readonly axisIdx: Int32Array[];
  private readonly inStrides: number[];
  private readonly outDims: readonly number[];
  private readonly kDims: readonly number[];

  constructor(inDims: readonly number[], outDims: readonly number[], kernel: readonly number[], strides: readonly number[], dilations: readonly number[], padsBegin: readonly number[]) {
    this.inStrides = stridesOf(inDims);
    this.outDims = outDims;
    this.kDims = kernel;
    this.outSize = outDims.reduce((a, b) => a * b, 1);
    this.kSize = kernel.reduce((a, b) => a * b, 1);
    this.inSize = inDims.reduce((a, b) => a * b, 1);
    this.axisIdx = inDims.map((inD, a) => {
      const t = new Int32Array(outDims[a] * kernel[a]);
      for (let o = 0; o < outDims[a]; o++) {
        for (let k = 0; k < kernel[a]; k++) {
          const p = o * strides[a] - padsBegin[a] + k * dilations[a];
          t[o * kernel[a] + k] = p >= 0 && p < inD ? p : -1;
        }
      }
      return t;
    });
  }

  /**
   * Fill `dst` (length kSize) with the flat input offsets of the taps of output position `o`
   * (row-major flat index over outDims); -1 for padding taps.
   */
  fill(o: number, dst: Int32Array): void {
    const n = this.outDims.length;
    // unravel o
    const oi = new Array<number>(n);
    for (let a = n - 1; a >= 0; a--) { oi[a] = o % this.outDims[a]; o = Math.floor(o / this.outDims[a]); }
    const kc = new Array<number>(n).fill(0);
    for (let t = 0; t < this.kSize; t++) {
      let off = 0;
      for (let a = 0; a < n; a++) {
        const p = this.axisIdx[a][oi[a] * this.kDims[a] + kc[a]];
        if (p < 0) { off = -1; break; }
        off += p * this.inStrides[a];
      }
      dst[t] = off;
      for (let a = n - 1; a >= 0; a--) {
        if (++kc[a] < this.kDims[a]) break;
        kc[a] = 0;
      }
    }
  }

  /** The full table [outSize * kSize] (only for moderate sizes; callers check). */
  table(): Int32Array {
    const t = new Int32Array(this.outSize * this.kSize);
    const row = new Int32Array(this.kSize);
    for (let o = 0; o < this.outSize; o++) {
      this.fill(o, row);
      t.set(row, o * this.kSize);
    }
    return t;
  }
}
