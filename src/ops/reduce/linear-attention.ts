/**
 * LinearAttention (opset 27), as its ONNX function body computes it. Inputs are 3-D [B, T, H*D]:
 * query (q_num_heads), key/value/decay (kv_num_heads; decay per key dim or per head), beta
 * [B, T, kv_heads or 1]. A state S [B, kv_heads, Dk, Dv] (past_state, or zeros) is scanned over T:
 *   linear:      S = S + k v^T
 *   gated:       S = exp(decay) * S + k v^T                      (decay scales S's rows)
 *   delta:       S = S + k (beta (v - S^T k))^T
 *   gated_delta: S' = exp(decay) * S;  S = S' + k (beta (v - S'^T k))^T   (the default)
 * and o_t = scale * q_t^T S with query head h reading kv head floor(h / (q_heads / kv_heads));
 * scale defaults to 1/sqrt(Dk). Outputs: output [B, T, q_heads*Dv] and present_state.
 */
import { ValueType } from '../../ir/graph';
import { Tensor } from '../../ir/tensor';
import { OpDef } from '../types';
import { checkDType, checkSize, FLOATS } from '../util/reduce-common';
import { linearAttentionKernel } from './gpu-linear-attention';

const RULES = ['linear', 'gated', 'delta', 'gated_delta'];

export const LINEAR_ATTENTION_DEF: OpDef = {
  opType: 'LinearAttention',
  sinceVersion: 27,
  kernel: linearAttentionKernel,
  inferShape(ctx, inputs): ValueType[] {
    const [q, k, v] = inputs;
    const hq = ctx.attrs.int('q_num_heads'), hkv = ctx.attrs.int('kv_num_heads');
    const qs = q!.shape, ks = k?.shape, vs = v?.shape;
    if (!qs || !ks || !vs || typeof qs[2] !== 'number' || typeof vs[2] !== 'number') return [{ dtype: q!.dtype }, { dtype: q!.dtype }];
    const dk = qs[2] / hq, dv = vs[2] / hkv;
    return [{ dtype: q!.dtype, shape: [qs[0], qs[1], hq * dv] }, { dtype: q!.dtype, shape: [qs[0], hkv, dk, dv] }];
  },
  reference(ctx, inputs) {
    const [qT, kT, vT, pastT, decayT, betaT] = inputs;
    if (!qT || !kT || !vT) return ctx.fail('query, key and value are required');
    for (const t of [qT, kT, vT]) checkDType(t.dtype, FLOATS, (m) => ctx.fail(m));
    if (qT.rank !== 3 || kT.rank !== 3 || vT.rank !== 3) return ctx.unsupported('only 3-D [batch, seq, hidden] query/key/value are implemented');
    const Hq = ctx.attrs.int('q_num_heads'), Hkv = ctx.attrs.int('kv_num_heads');
    const rule = ctx.attrs.string('update_rule', 'gated_delta');
    if (!RULES.includes(rule)) ctx.fail(`update_rule '${rule}' is not one of ${RULES.join(', ')}`);
    const [B, T, qHidden] = qT.dims;
    if (Hq <= 0 || Hkv <= 0 || Hq % Hkv !== 0) ctx.fail(`q_num_heads ${Hq} must be a positive multiple of kv_num_heads ${Hkv}`);
    if (qHidden % Hq !== 0 || kT.dims[2] % Hkv !== 0 || vT.dims[2] % Hkv !== 0) ctx.fail('hidden sizes are not multiples of the head counts');
    const Dk = qHidden / Hq, Dv = vT.dims[2] / Hkv;
    if (kT.dims[2] / Hkv !== Dk) ctx.fail(`key head size ${kT.dims[2] / Hkv} differs from query head size ${Dk}`);
    for (const t of [kT, vT]) if (t.dims[0] !== B || t.dims[1] !== T) ctx.fail('query, key and value batch/sequence sizes differ');
    const gated = rule === 'gated' || rule === 'gated_delta';
    const delta = rule === 'delta' || rule === 'gated_delta';
    if (gated && !decayT) ctx.fail(`update_rule '${rule}' needs the decay input`);
    if (delta && !betaT) ctx.fail(`update_rule '${rule}' needs the beta input`);
    checkSize([B, Hkv, Dk, Dv], (m) => ctx.fail(m));
    const scale = ctx.attrs.optFloat('scale') ?? 1 / Math.sqrt(Dk);
    const group = Hq / Hkv;
    const q = qT.toNumbers(), k = kT.toNumbers(), v = vT.toNumbers();
    // decay: [B, T, Hkv * (Dk or 1)]; beta: [B, T, Hkv or 1]
    let decay: Float64Array | undefined, dW = 0, dPer = 0;
    if (gated) {
      decay = decayT!.toNumbers();
      dW = decayT!.dims[decayT!.rank - 1];
      dPer = dW / Hkv;
      if (decayT!.size !== B * T * dW || (dPer !== Dk && dPer !== 1)) ctx.fail(`decay must be [${B},${T},${Hkv * Dk}] or [${B},${T},${Hkv}]`);
    }
    let beta: Float64Array | undefined, bW = 0;
    if (delta) {
      beta = betaT!.toNumbers();
      bW = betaT!.dims[betaT!.rank - 1];
      if (betaT!.size !== B * T * bW || (bW !== Hkv && bW !== 1)) ctx.fail(`beta must be [${B},${T},${Hkv}] or [${B},${T},1]`);
    }
    const S = new Float64Array(B * Hkv * Dk * Dv);
    if (pastT) {
      if (pastT.size !== S.length) ctx.fail(`past_state must be [${B},${Hkv},${Dk},${Dv}], got [${pastT.dims.join(',')}]`);
      S.set(pastT.toNumbers());
    }
    const out = new Float64Array(B * T * Hq * Dv);
    const retrieved = new Float64Array(Dv);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const bt = b * T + t;
        for (let g = 0; g < Hkv; g++) {
          const s0 = (b * Hkv + g) * Dk * Dv;
          const kOff = bt * Hkv * Dk + g * Dk, vOff = bt * Hkv * Dv + g * Dv;
          if (gated) {
            for (let i = 0; i < Dk; i++) {
              const f = Math.exp(decay![bt * dW + g * dPer + (dPer === 1 ? 0 : i)]);
              for (let j = 0; j < Dv; j++) S[s0 + i * Dv + j] *= f;
            }
          }
          if (delta) {
            const bb = beta![bt * bW + (bW === 1 ? 0 : g)];
            retrieved.fill(0);
            for (let i = 0; i < Dk; i++) for (let j = 0; j < Dv; j++) retrieved[j] += S[s0 + i * Dv + j] * k[kOff + i];
            for (let j = 0; j < Dv; j++) retrieved[j] = bb * (v[vOff + j] - retrieved[j]);
            for (let i = 0; i < Dk; i++) for (let j = 0; j < Dv; j++) S[s0 + i * Dv + j] += k[kOff + i] * retrieved[j];
          } else {
            for (let i = 0; i < Dk; i++) for (let j = 0; j < Dv; j++) S[s0 + i * Dv + j] += k[kOff + i] * v[vOff + j];
          }
        }
        for (let h = 0; h < Hq; h++) {
          const s0 = (b * Hkv + Math.floor(h / group)) * Dk * Dv;
          const qOff = bt * Hq * Dk + h * Dk, oOff = bt * Hq * Dv + h * Dv;
          for (let i = 0; i < Dk; i++) for (let j = 0; j < Dv; j++) out[oOff + j] += q[qOff + i] * S[s0 + i * Dv + j];
          for (let j = 0; j < Dv; j++) out[oOff + j] *= scale;
        }
      }
    }
    return [Tensor.from(qT.dtype, [B, T, Hq * Dv], out), Tensor.from(qT.dtype, [B, Hkv, Dk, Dv], S)];
  },
};
