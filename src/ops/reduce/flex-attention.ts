/**
 * ai.onnx.preview::FlexAttention (preview opset 1), as its ONNX function body computes it:
 *   scores = (Q * sqrt(scale)) @ (K * sqrt(scale))^T   (4-D [B, H, L, E]; scale defaults to 1/sqrt(E);
 *            kv head for query head h: floor(h / (Hq / Hkv)))
 *   scores = score_mod(scores)        optional subgraph [B, H, L, S] -> same
 *   probs  = softmax(scores, axis=-1)
 *   probs  = prob_mod(probs)          optional subgraph
 *   Y      = probs @ V
 * The subgraphs run through the interpreter on tensors of their declared input type.
 */
import { DType } from '../../ir/dtype';
import { Graph, ValueType } from '../../ir/graph';
import { Tensor } from '../../ir/tensor';
import { OpContext, OpDef } from '../types';
import { checkDType, checkSize, FLOATS } from '../util/reduce-common';
import { softmaxRow } from './softmax';
import { flexAttentionKernel } from './gpu-attention';

function runMod(ctx: OpContext, g: Graph, dims: number[], data: Float64Array, fallback: DType, what: string): Float64Array {
  const declared = g.types.get(g.inputs[0])?.dtype;
  const dtype = declared && FLOATS.includes(declared) ? declared : fallback;
  const [out] = ctx.runGraph(g, [Tensor.from(dtype, dims, data)]);
  if (!(out instanceof Tensor) || out.size !== data.length) return ctx.fail(`${what} must return a tensor of shape [${dims.join(',')}]`);
  return out.toNumbers();
}

export const FLEX_ATTENTION_DEF: OpDef = {
  opType: 'FlexAttention',
  domain: 'ai.onnx.preview',
  kernel: flexAttentionKernel,
  inferShape(_ctx, inputs): ValueType[] {
    const [q, , v] = inputs;
    const qs = q!.shape, vs = v?.shape;
    return [{ dtype: q!.dtype, shape: qs && vs ? [qs[0], qs[1], qs[2], vs[3]] : undefined }];
  },
  reference(ctx, inputs) {
    const [Qt, Kt, Vt] = inputs;
    if (!Qt || !Kt || !Vt) return ctx.fail('Q, K and V are required');
    for (const t of [Qt, Kt, Vt]) checkDType(t.dtype, FLOATS, (m) => ctx.fail(m));
    if (Qt.rank !== 4 || Kt.rank !== 4 || Vt.rank !== 4) return ctx.fail('Q, K and V must be 4-D [batch, heads, seq, head_size]');
    const [B, H, L, E] = Qt.dims;
    const [kb, Hkv, S, ke] = Kt.dims;
    const Ev = Vt.dims[3];
    if (kb !== B || Vt.dims[0] !== B || ke !== E || Vt.dims[1] !== Hkv || Vt.dims[2] !== S) ctx.fail('Q, K and V shapes do not fit together');
    if (Hkv <= 0 || H % Hkv !== 0) ctx.fail(`query heads ${H} is not a multiple of kv heads ${Hkv}`);
    checkSize([B, H, L, S], (m) => ctx.fail(m));
    const group = H / Hkv;
    const scale = ctx.attrs.optFloat('scale') ?? 1 / Math.sqrt(E);
    const sq = Math.sqrt(scale);
    const scoreMod = ctx.attrs.graph('score_mod');
    const probMod = ctx.attrs.graph('prob_mod');
    const q = Qt.toNumbers(), k = Kt.toNumbers(), v = Vt.toNumbers();
    let scores: Float64Array = new Float64Array(B * H * L * S);
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
      const kh = b * Hkv + Math.floor(h / group);
      for (let i = 0; i < L; i++) for (let j = 0; j < S; j++) {
        let s = 0;
        for (let e = 0; e < E; e++) s += q[((b * H + h) * L + i) * E + e] * sq * (k[(kh * S + j) * E + e] * sq);
        scores[((b * H + h) * L + i) * S + j] = s;
      }
    }
    const dims = [B, H, L, S];
    if (scoreMod) scores = runMod(ctx, scoreMod, dims, scores, Qt.dtype, 'score_mod');
    let probs: Float64Array = new Float64Array(scores.length);
    const row = new Array<number>(S);
    for (let r = 0; r < B * H * L; r++) {
      for (let j = 0; j < S; j++) row[j] = scores[r * S + j];
      probs.set(softmaxRow('Softmax', row), r * S);
    }
    if (probMod) probs = runMod(ctx, probMod, dims, probs, Qt.dtype, 'prob_mod');
    const y = new Float64Array(B * H * L * Ev);
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
      const kh = b * Hkv + Math.floor(h / group);
      for (let i = 0; i < L; i++) for (let j = 0; j < S; j++) {
        const p = probs[((b * H + h) * L + i) * S + j];
        for (let e = 0; e < Ev; e++) y[((b * H + h) * L + i) * Ev + e] += p * v[(kh * S + j) * Ev + e];
      }
    }
    return [Tensor.from(Qt.dtype, [B, H, L, Ev], y)];
  },
};
