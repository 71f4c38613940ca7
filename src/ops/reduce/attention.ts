/**
 * ai.onnx Attention (opset 23, 24). Semantics follow the op's ONNX function body:
 *   present_key/value = concat(past, K/V) along the sequence axis;
 *   qk = (Q * sqrt(scale)) @ (K * sqrt(scale))^T    scale defaults to 1/sqrt(head_size)
 *   qk = softcap * tanh(qk / softcap)                when softcap > 0
 *   qk = qk + bias                                    bias = attn_mask (bool: true -> 0, false -> -inf;
 *        a mask shorter than the total sequence is padded with -inf) + causal (-inf where
 *        row + offset < col; offset = past length, or nonpad_kv_seqlen[b] - q_len with padding)
 *        + padding (-inf where col >= nonpad_kv_seqlen[b], opset 24)
 *   p  = softmax(qk) over the last axis; rows whose bias is -inf everywhere give p = 0 (no NaN)
 *   Y  = p @ V, with GQA: query head h reads kv head floor(h / (q_heads / kv_heads)).
 * qk_matmul_output_mode picks which stage is output: 0 raw qk, 1 after softcap, 2 after the bias,
 * 3 after softmax. 3-D inputs [B, S, heads*D] need q_num_heads/kv_num_heads and give a 3-D Y;
 * present_* are always 4-D. All arithmetic is float64; outputs are rounded to the input type
 * (softmax_precision is therefore met or exceeded).
 */
import { Dim, ValueType } from '../../ir/graph';
import { Tensor } from '../../ir/tensor';
import { OpContext, OpDef } from '../types';
import { attentionKernel } from './gpu-attention';
import { checkDType, checkSize, FLOATS } from '../util/reduce-common';

/** A [B, H, S, D] float64 view of a 3-D ([B, S, H*D]) or 4-D tensor. */
interface Heads {
  B: number; H: number; S: number; D: number;
  data: Float64Array;
}

function toHeads(ctx: OpContext, t: Tensor, heads: number | undefined, what: string): Heads {
  const src = t.toNumbers();
  if (t.rank === 4) {
    const [B, H, S, D] = t.dims;
    return { B, H, S, D, data: src };
  }
  if (t.rank !== 3) return ctx.fail(`${what} must be 3-D or 4-D, got rank ${t.rank}`);
  if (!heads || heads <= 0) return ctx.fail(`3-D ${what} needs a positive ${what === 'Q' ? 'q_num_heads' : 'kv_num_heads'} attribute`);
  const [B, S, hidden] = t.dims;
  if (hidden % heads !== 0) return ctx.fail(`${what} hidden size ${hidden} is not a multiple of ${heads} heads`);
  const D = hidden / heads;
  const data = new Float64Array(src.length);
  for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) for (let h = 0; h < heads; h++) for (let d = 0; d < D; d++) {
    data[((b * heads + h) * S + s) * D + d] = src[(b * S + s) * hidden + h * D + d];
  }
  return { B, H: heads, S, D, data };
}

/** Concatenate past and new along the sequence axis (both [B, H, *, D]). */
function concatSeq(ctx: OpContext, past: Heads | undefined, cur: Heads, what: string): Heads {
  if (!past) return cur;
  if (past.B !== cur.B || past.H !== cur.H || past.D !== cur.D) {
    ctx.fail(`past_${what} [${past.B},${past.H},${past.S},${past.D}] does not fit ${what} [${cur.B},${cur.H},${cur.S},${cur.D}]`);
  }
  const S = past.S + cur.S;
  const data = new Float64Array(cur.B * cur.H * S * cur.D);
  for (let bh = 0; bh < cur.B * cur.H; bh++) {
    data.set(past.data.subarray(bh * past.S * past.D, (bh + 1) * past.S * past.D), bh * S * cur.D);
    data.set(cur.data.subarray(bh * cur.S * cur.D, (bh + 1) * cur.S * cur.D), bh * S * cur.D + past.S * cur.D);
  }
  return { B: cur.B, H: cur.H, S, D: cur.D, data };
}

/** Element offset into a mask of dims `md` broadcast (right-aligned) to [B, H, S, Tm]; checks fit. */
function maskIndexer(ctx: OpContext, md: readonly number[], target: number[]): (b: number, h: number, i: number, j: number) => number {
  if (md.length > 4) ctx.fail(`attn_mask must have rank <= 4, got ${md.length}`);
  const dims = [...new Array<number>(4 - md.length).fill(1), ...md];
  const strides = [0, 0, 0, 0];
  let acc = 1;
  for (let k = 3; k >= 0; k--) {
    if (dims[k] !== 1 && dims[k] !== target[k]) ctx.fail(`attn_mask dims [${md.join(',')}] do not broadcast to [${target.join(',')}]`);
    strides[k] = dims[k] === 1 ? 0 : acc;
    acc *= dims[k];
  }
  return (b, h, i, j) => b * strides[0] + h * strides[1] + i * strides[2] + j * strides[3];
}

export const ATTENTION_DEF: OpDef = {
  opType: 'Attention',
  kernel: attentionKernel,
  sinceVersion: 23,
  inferShape(ctx, inputs): ValueType[] {
    const [q, k, v, , pk] = inputs;
    const dt = q!.dtype;
    const qs = q!.shape, ks = k?.shape, vs = v?.shape;
    const name = ctx.node.outputs[0] || ctx.node.name || 'attention';
    const qH = ctx.attrs.optInt('q_num_heads'), kvH = ctx.attrs.optInt('kv_num_heads');
    const div = (a: Dim | undefined, n: number | undefined, tag: string): Dim =>
      typeof a === 'number' && n ? a / n : `${name}_${tag}`;
    const add = (a: Dim | undefined, b: Dim | undefined, tag: string): Dim =>
      typeof a === 'number' && typeof b === 'number' ? a + b : `${name}_${tag}`;
    if (!qs || !ks || !vs) return [{ dtype: dt }, { dtype: k?.dtype ?? dt }, { dtype: v?.dtype ?? dt }, { dtype: dt }];
    const is3d = qs.length === 3;
    const B = qs[0];
    const S = is3d ? qs[1] : qs[2];
    const heads = is3d ? (qH ?? `${name}_qheads`) : qs[1];
    const kvHeads = is3d ? (kvH ?? `${name}_kvheads`) : ks[1];
    const Dk = is3d ? div(ks[2], kvH, 'dk') : ks[3];
    const Dv = is3d ? div(vs[2], kvH, 'dv') : vs[3];
    const kvS = is3d ? ks[1] : ks[2];
    const T = pk?.shape ? add(pk.shape[2], kvS, 'total') : pk ? `${name}_total` : kvS;
    const y: Dim[] = is3d ? [B, S, typeof Dv === 'number' && typeof heads === 'number' ? Dv * heads : `${name}_yhidden`] : [B, heads, S, Dv];
    return [
      { dtype: dt, shape: y },
      { dtype: k!.dtype, shape: [B, kvHeads, T, Dk] },
      { dtype: v!.dtype, shape: [B, kvHeads, T, Dv] },
      { dtype: dt, shape: [B, heads, S, T] },
    ];
  },
  reference(ctx, inputs) {
    const [Qt, Kt, Vt, maskT, pastKt, pastVt] = inputs;
    const nonpadT = ctx.opset >= 24 ? inputs[6] : undefined;
    if (!Qt || !Kt || !Vt) return ctx.fail('Q, K and V are required');
    for (const [t, n] of [[Qt, 'Q'], [Kt, 'K'], [Vt, 'V']] as const) checkDType(t.dtype, FLOATS, (m) => ctx.fail(m), n);
    const is3d = Qt.rank === 3;
    if (Kt.rank !== Qt.rank || Vt.rank !== Qt.rank) ctx.fail(`Q, K and V must have the same rank (got ${Qt.rank}, ${Kt.rank}, ${Vt.rank})`);
    const qHattr = ctx.attrs.optInt('q_num_heads'), kvHattr = ctx.attrs.optInt('kv_num_heads');
    const isCausal = ctx.attrs.int('is_causal', 0) !== 0;
    const mode = ctx.attrs.int('qk_matmul_output_mode', 0);
    const softcap = ctx.attrs.float('softcap', 0);
    ctx.attrs.optInt('softmax_precision'); // float64 math meets any requested precision
    if (mode < 0 || mode > 3) ctx.fail(`qk_matmul_output_mode ${mode} is not 0, 1, 2 or 3`);

    const q = toHeads(ctx, Qt, qHattr, 'Q');
    const k = concatSeq(ctx, pastKt ? toHeads(ctx, pastKt, kvHattr, 'past_key') : undefined, toHeads(ctx, Kt, kvHattr, 'K'), 'key');
    const v = concatSeq(ctx, pastVt ? toHeads(ctx, pastVt, kvHattr, 'past_value') : undefined, toHeads(ctx, Vt, kvHattr, 'V'), 'value');
    const { B, H, S, D } = q;
    const kvH = k.H, T = k.S, Dv = v.D;
    if (k.B !== B || v.B !== B) ctx.fail('Q, K and V batch sizes differ');
    if (k.D !== D) ctx.fail(`K head size ${k.D} differs from Q head size ${D}`);
    if (v.H !== kvH || v.S !== T) ctx.fail(`V heads/sequence [${v.H},${v.S}] differ from K [${kvH},${T}]`);
    if (kvH <= 0 || H % kvH !== 0) ctx.fail(`q heads ${H} is not a multiple of kv heads ${kvH}`);
    const group = H / kvH;
    checkSize([B, H, S, T], (m) => ctx.fail(m));
    checkSize([B, H, S, Dv], (m) => ctx.fail(m));

    const scale = ctx.attrs.optFloat('scale') ?? 1 / Math.sqrt(D);
    const sq = Math.sqrt(scale);
    const pastLen = pastKt ? pastKt.dims[pastKt.rank === 4 ? 2 : 1] : 0;
    let nonpad: number[] | undefined;
    if (nonpadT) {
      if (nonpadT.size !== B) ctx.fail(`nonpad_kv_seqlen must have ${B} entries, got ${nonpadT.size}`);
      nonpad = Array.from(nonpadT.toNumbers());
    }
    let mask: ((b: number, h: number, i: number, j: number) => number) | undefined;
    if (maskT) {
      const Tm = maskT.dims[maskT.rank - 1] ?? 1;
      if (maskT.rank === 0 || Tm > T) ctx.fail(`attn_mask dims [${maskT.dims.join(',')}] do not fit the total sequence length ${T}`);
      const at = maskIndexer(ctx, maskT.dims, [B, H, S, Tm]);
      const md = maskT.toNumbers();
      const isBool = maskT.dtype === 'bool';
      mask = (b, h, i, j) => {
        if (j >= Tm) return -Infinity;
        const x = md[at(b, h, i, j)];
        return isBool ? (x ? 0 : -Infinity) : x;
      };
    }
    const bias = (b: number, h: number, i: number, j: number): number => {
      let x = mask ? mask(b, h, i, j) : 0;
      if (isCausal) {
        const off = nonpad ? nonpad[b] - S : pastLen;
        if (i + off < j) x += -Infinity;
      }
      if (nonpad && j >= nonpad[b]) x += -Infinity;
      return x;
    };

    const Y = new Float64Array(B * H * S * Dv);
    const QK = ctx.outputCount > 3 ? new Float64Array(B * H * S * T) : undefined;
    const row = new Float64Array(T);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        const kh = Math.floor(h / group);
        const kBase = (b * kvH + kh) * T;
        for (let i = 0; i < S; i++) {
          const qOff = ((b * H + h) * S + i) * D;
          const rowOff = ((b * H + h) * S + i) * T;
          let allMasked = true;
          for (let j = 0; j < T; j++) {
            let s = 0;
            const kOff = (kBase + j) * D;
            for (let d = 0; d < D; d++) s += q.data[qOff + d] * sq * (k.data[kOff + d] * sq);
            if (QK && mode === 0) QK[rowOff + j] = s;
            if (softcap > 0) s = softcap * Math.tanh(s / softcap);
            if (QK && mode === 1) QK[rowOff + j] = s;
            const bj = bias(b, h, i, j);
            if (bj !== -Infinity) allMasked = false;
            s += bj;
            if (QK && mode === 2) QK[rowOff + j] = s;
            row[j] = s;
          }
          // softmax over the row; a row masked everywhere gives zero weights (not NaN)
          let m = -Infinity;
          for (let j = 0; j < T; j++) m = Math.max(m, row[j]);
          let sum = 0;
          for (let j = 0; j < T; j++) { row[j] = allMasked ? 0 : Math.exp(row[j] - m); sum += row[j]; }
          if (!allMasked) for (let j = 0; j < T; j++) row[j] /= sum;
          if (QK && mode === 3) QK.set(row, rowOff);
          const yOff = ((b * H + h) * S + i) * Dv;
          for (let j = 0; j < T; j++) {
            const p = row[j];
            const vOff = ((b * kvH + kh) * T + j) * Dv;
            for (let d = 0; d < Dv; d++) Y[yOff + d] += p * v.data[vOff + d];
          }
        }
      }
    }

    let y: Tensor;
    if (is3d) {
      const y3 = new Float64Array(Y.length);
      for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < S; i++) for (let d = 0; d < Dv; d++) {
        y3[(b * S + i) * H * Dv + h * Dv + d] = Y[((b * H + h) * S + i) * Dv + d];
      }
      y = Tensor.from(Qt.dtype, [B, S, H * Dv], y3);
    } else {
      y = Tensor.from(Qt.dtype, [B, H, S, Dv], Y);
    }
    const out: (Tensor | null)[] = [y];
    if (ctx.outputCount > 1) out.push(Tensor.from(Kt.dtype, [B, kvH, T, D], k.data));
    if (ctx.outputCount > 2) out.push(Tensor.from(Vt.dtype, [B, kvH, T, Dv], v.data));
    if (QK) out.push(Tensor.from(Qt.dtype, [B, H, S, T], QK));
    return out;
  },
};
