/** DeformConv (2-D), Col2Im (N-D) and CausalConvWithState. */
import { isFloat } from '../../ir/dtype';
import { Dim } from '../../ir/graph';
import { sizeOf, stridesOf } from '../../ir/tensor';
import { OpDef } from '../types';
import { checkOutDims, checkWork, f64, floatTensor, need, unknownDim } from '../util/nn-common';
import { readWindow, windowOutput, windowOutputStatic } from '../util/nn-conv';
import { causalConvKernel } from './gpu/causal-conv';
import { col2imKernel } from './gpu/col2im';
import { deformConvKernel } from './gpu/deform';

export const DeformConv: OpDef = {
  opType: 'DeformConv',
  sinceVersion: 19,
  kernel: deformConvKernel,
  inferShape(ctx, [x, w, offset]) {
    const dtype = x?.dtype ?? 'float32';
    if (!x?.shape) return [{ dtype, shape: undefined }];
    const m: Dim = w?.shape?.[0] ?? unknownDim(ctx, 1);
    if (offset?.shape && offset.shape.length === x.shape.length) return [{ dtype, shape: [x.shape[0], m, ...offset.shape.slice(2)] }];
    const wk = w?.shape?.slice(2);
    if (!wk || !wk.every((d) => typeof d === 'number')) return [{ dtype, shape: [x.shape[0], m, ...x.shape.slice(2).map((_, i) => unknownDim(ctx, 2 + i))] }];
    const { out } = windowOutput(ctx, x.shape.slice(2), readWindow(ctx, x.shape.length - 2, wk as number[]));
    return [{ dtype, shape: [x.shape[0], m, ...out] }];
  },
  reference(ctx, inputs) {
    const X = need(ctx, inputs, 0, 'X');
    const W = need(ctx, inputs, 1, 'W');
    const O = need(ctx, inputs, 2, 'offset');
    const B = inputs[3];
    const MK = inputs[4];
    if (!isFloat(X.dtype)) ctx.fail(`X must be floating-point, got ${X.dtype}`);
    if (X.rank !== 4 || W.rank !== 4) ctx.unsupported(`only 2-D DeformConv (4-D X and W) is supported, got X [${X.dims.join(',')}]`);
    const group = ctx.attrs.int('group', 1);
    const og = ctx.attrs.int('offset_group', 1);
    const [N, C, H, Wd] = X.dims;
    const [M, Cg, kH, kW] = W.dims;
    if (group < 1 || C !== Cg * group || M % group !== 0) ctx.fail(`channels do not match groups: X has ${C}, W [${W.dims.join(',')}], group ${group}`);
    if (og < 1 || C % og !== 0) ctx.fail(`offset_group ${og} must divide the ${C} channels`);
    const win = readWindow(ctx, 2, [kH, kW]);
    if (win.autoPad !== 'NOTSET') ctx.fail('DeformConv has no auto_pad');
    const { out: [oH, oW], padsBegin } = windowOutputStatic(ctx, [H, Wd], win);
    const K = kH * kW;
    if (O.rank !== 4 || O.dims[0] !== N || O.dims[1] !== og * K * 2 || O.dims[2] !== oH || O.dims[3] !== oW) ctx.fail(`offset must be [${N}, ${og * K * 2}, ${oH}, ${oW}], got [${O.dims.join(',')}]`);
    if (MK && (MK.rank !== 4 || MK.dims[1] !== og * K || MK.dims[2] !== oH || MK.dims[3] !== oW)) ctx.fail(`mask must be [${N}, ${og * K}, ${oH}, ${oW}], got [${MK.dims.join(',')}]`);
    if (B && B.size !== M) ctx.fail(`B has ${B.size} elements, expected ${M}`);
    const dims = [N, M, oH, oW];
    checkOutDims(ctx, dims);
    checkWork(ctx, N * M * oH * oW * Cg * K * 4, 'deformable convolution');
    const x = f64(X), w = f64(W), off = f64(O);
    const mask = MK ? f64(MK) : undefined;
    const P = oH * oW;
    const sample = (base: number, h: number, ww: number): number => {
      if (h <= -1 || h >= H || ww <= -1 || ww >= Wd) return 0;
      const h0 = Math.floor(h), w0 = Math.floor(ww);
      const lh = h - h0, lw = ww - w0;
      const at = (r: number, c: number) => (r >= 0 && r < H && c >= 0 && c < Wd ? x[base + r * Wd + c] : 0);
      return (1 - lh) * (1 - lw) * at(h0, w0) + (1 - lh) * lw * at(h0, w0 + 1) + lh * (1 - lw) * at(h0 + 1, w0) + lh * lw * at(h0 + 1, w0 + 1);
    };
    const out = new Float64Array(N * M * P);
    const col = new Float64Array(C * K * P);
    const cPerOg = C / og;
    const Mg = M / group;
    for (let n = 0; n < N; n++) {
      // sampled columns: col[c, k, p]
      for (let c = 0; c < C; c++) {
        const g = Math.floor(c / cPerOg);
        const base = (n * C + c) * H * Wd;
        for (let ki = 0; ki < kH; ki++) {
          for (let kj = 0; kj < kW; kj++) {
            const k = ki * kW + kj;
            for (let oh = 0; oh < oH; oh++) {
              for (let ow = 0; ow < oW; ow++) {
                const p = oh * oW + ow;
                const ob = ((n * og + g) * K + k) * 2;
                const dh = off[(ob * oH + oh) * oW + ow];
                const dw = off[((ob + 1) * oH + oh) * oW + ow];
                const h = oh * win.strides[0] - padsBegin[0] + ki * win.dilations[0] + dh;
                const ww = ow * win.strides[1] - padsBegin[1] + kj * win.dilations[1] + dw;
                let v = sample(base, h, ww);
                if (mask) v *= mask[(((n * og + g) * K + k) * oH + oh) * oW + ow];
                col[(c * K + k) * P + p] = v;
              }
            }
          }
        }
      }
      for (let m = 0; m < M; m++) {
        const g = Math.floor(m / Mg);
        const ob = (n * M + m) * P;
        if (B) out.fill(B.get(m), ob, ob + P);
        for (let cg = 0; cg < Cg; cg++) {
          const c = g * Cg + cg;
          for (let k = 0; k < K; k++) {
            const wv = w[(m * Cg + cg) * K + k];
            const cb = (c * K + k) * P;
            for (let p = 0; p < P; p++) out[ob + p] += wv * col[cb + p];
          }
        }
      }
    }
    return [floatTensor(X.dtype, dims, out)];
  },
};

export const Col2Im: OpDef = {
  opType: 'Col2Im',
  sinceVersion: 18,
  kernel: col2imKernel,
  inferShape(ctx, [input]) {
    const dtype = input?.dtype ?? 'float32';
    const img = ctx.constant(1);
    const blk = ctx.constant(2);
    if (!input?.shape || !img) return [{ dtype, shape: undefined }];
    const c: Dim = blk && typeof input.shape[1] === 'number' ? input.shape[1] / sizeOf(Array.from(blk.toNumbers())) : unknownDim(ctx, 1);
    return [{ dtype, shape: [input.shape[0], c, ...Array.from(img.toNumbers())] }];
  },
  reference(ctx, inputs) {
    const I = need(ctx, inputs, 0, 'input');
    const img = Array.from(need(ctx, inputs, 1, 'image_shape').toNumbers());
    const blk = Array.from(need(ctx, inputs, 2, 'block_shape').toNumbers());
    const r = img.length;
    if (blk.length !== r || r < 1) ctx.fail(`image_shape (${img.length}) and block_shape (${blk.length}) must have the same non-zero length`);
    if (I.rank !== 3) ctx.fail(`input must be [N, C*prod(block), L], got [${I.dims.join(',')}]`);
    const ones = new Array<number>(r).fill(1);
    const strides = ctx.attrs.ints('strides', ones);
    const dil = ctx.attrs.ints('dilations', ones);
    const pads = ctx.attrs.ints('pads', new Array<number>(2 * r).fill(0));
    if (strides.length !== r || dil.length !== r || pads.length !== 2 * r) ctx.fail(`strides/dilations need ${r} values and pads ${2 * r}`);
    if (blk.some((b) => !Number.isInteger(b) || b < 1) || img.some((d) => !Number.isInteger(d) || d < 0)) ctx.fail('block_shape must be positive and image_shape non-negative');
    if (strides.some((s) => s < 1) || dil.some((d) => d < 1) || pads.some((p) => p < 0)) ctx.fail('strides and dilations must be positive, pads non-negative');
    const [N, CK, L] = I.dims;
    const K = sizeOf(blk);
    if (CK % K !== 0) ctx.fail(`input dim 1 (${CK}) is not a multiple of prod(block_shape) = ${K}`);
    const C = CK / K;
    const nb = img.map((d, a) => Math.floor((d + pads[a] + pads[a + r] - ((blk[a] - 1) * dil[a] + 1)) / strides[a]) + 1);
    if (nb.some((b) => b < 0) || sizeOf(nb) !== L) ctx.fail(`input has ${L} blocks but image_shape, block_shape, strides, pads and dilations give ${nb.join('x')}`);
    const dims = [N, C, ...img];
    checkOutDims(ctx, dims);
    checkWork(ctx, I.size, 'Col2Im');
    const x = f64(I);
    const imgSize = sizeOf(img);
    const imgStr = stridesOf(img);
    const out = new Float64Array(N * C * imgSize);
    const kc = new Array<number>(r);
    const lc = new Array<number>(r);
    for (let k = 0; k < K; k++) {
      let rem = k;
      for (let a = r - 1; a >= 0; a--) { kc[a] = rem % blk[a]; rem = Math.floor(rem / blk[a]); }
      for (let l = 0; l < L; l++) {
        rem = l;
        for (let a = r - 1; a >= 0; a--) { lc[a] = rem % nb[a]; rem = Math.floor(rem / nb[a]); }
        let off = 0;
        for (let a = 0; a < r && off >= 0; a++) {
          const p = lc[a] * strides[a] - pads[a] + kc[a] * dil[a];
          off = p >= 0 && p < img[a] ? off + p * imgStr[a] : -1;
        }
        if (off < 0) continue;
        for (let n = 0; n < N; n++) {
          for (let c = 0; c < C; c++) out[(n * C + c) * imgSize + off] += x[(n * CK + c * K + k) * L + l];
        }
      }
    }
    return [floatTensor(I.dtype, dims, out)];
  },
};

/**
 * CausalConvWithState: a depthwise causal 1-D convolution over [B, C, L] with a carried state.
 * The state [B, C, K-1] (zeros when absent) is prepended to the input; out[b,c,t] =
 * bias[c] + sum_k w[c,0,k] * padded[b,c,t+k], then the activation; present_state is the last
 * K-1 columns of the padded sequence.
 */
export const CausalConvWithState: OpDef = {
  opType: 'CausalConvWithState',
  sinceVersion: 1,
  kernel: causalConvKernel,
  inferShape(ctx, [x, w]) {
    const dtype = x?.dtype ?? 'float32';
    const k = w?.shape?.[w.shape.length - 1];
    const state: Dim[] | undefined = x?.shape ? [x.shape[0], x.shape[1], typeof k === 'number' ? k - 1 : unknownDim(ctx, 2, 1)] : undefined;
    return [{ dtype, shape: x?.shape?.slice() }, { dtype, shape: state }];
  },
  reference(ctx, inputs) {
    const X = need(ctx, inputs, 0, 'input');
    const W = need(ctx, inputs, 1, 'weight');
    const B = inputs[2];
    const S = inputs[3];
    if (!isFloat(X.dtype)) ctx.fail(`input must be floating-point, got ${X.dtype}`);
    const act = ctx.attrs.string('activation', 'none');
    if (!['none', 'silu', 'swish'].includes(act)) ctx.unsupported(`activation '${act}' is not supported (none, silu, swish)`);
    if (X.rank !== 3) ctx.fail(`input must be [batch, channels, length], got [${X.dims.join(',')}]`);
    const [Bn, C, L] = X.dims;
    const K = W.dims[W.rank - 1];
    if (!(W.rank === 3 && W.dims[0] === C && W.dims[1] === 1) && !(W.rank === 2 && W.dims[0] === C)) ctx.fail(`weight must be [${C}, 1, K] (depthwise), got [${W.dims.join(',')}]`);
    if (K < 1) ctx.fail('kernel size must be >= 1');
    if (B && B.size !== C) ctx.fail(`bias has ${B.size} elements, expected ${C}`);
    if (S && (S.rank !== 3 || S.dims[0] !== Bn || S.dims[1] !== C || S.dims[2] !== K - 1)) ctx.fail(`past_state must be [${Bn}, ${C}, ${K - 1}], got [${S.dims.join(',')}]`);
    checkOutDims(ctx, [Bn, C, L + K]);
    const x = f64(X), w = f64(W);
    const s = S ? f64(S) : undefined;
    const T = L + K - 1;
    const out = new Float64Array(Bn * C * L);
    const state = new Float64Array(Bn * C * (K - 1));
    const padded = new Float64Array(T);
    for (let b = 0; b < Bn; b++) {
      for (let c = 0; c < C; c++) {
        const bc = b * C + c;
        for (let t = 0; t < K - 1; t++) padded[t] = s ? s[bc * (K - 1) + t] : 0;
        for (let t = 0; t < L; t++) padded[K - 1 + t] = x[bc * L + t];
        for (let t = 0; t < L; t++) {
          let acc = B ? B.get(c) : 0;
          for (let k = 0; k < K; k++) acc += w[c * K + k] * padded[t + k];
          if (act !== 'none') acc = acc / (1 + Math.exp(-acc));
          out[bc * L + t] = acc;
        }
        for (let t = 0; t < K - 1; t++) state[bc * (K - 1) + t] = padded[L + t];
      }
    }
    return [floatTensor(X.dtype, X.dims, out), floatTensor(X.dtype, [Bn, C, K - 1], state)];
  },
};
