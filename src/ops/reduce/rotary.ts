/**
 * RotaryEmbedding (opset 23). input is [B, H, S, D] or [B, S, H*D] (then num_heads is required).
 * cos/sin caches are [max_pos, >= rot/2] gathered by position_ids [B, S], or [B, S, >= rot/2] when
 * position_ids is absent. rot = rotary_embedding_dim (0: the whole head). Non-interleaved rotates
 * pairs (x[i], x[i + rot/2]); interleaved rotates (x[2i], x[2i+1]). The tail past rot is copied.
 */
import { ValueType } from '../../ir/graph';
import { Tensor } from '../../ir/tensor';
import { OpDef } from '../types';
import { rotaryKernel } from './gpu-attention';
import { checkDType, FLOATS } from '../util/reduce-common';

export const ROTARY_DEF: OpDef = {
  opType: 'RotaryEmbedding',
  kernel: rotaryKernel,
  sinceVersion: 23,
  inferShape(_ctx, inputs): ValueType[] {
    const x = inputs[0]!;
    return [{ dtype: x.dtype, shape: x.shape?.slice() }];
  },
  reference(ctx, inputs) {
    const [x, cosT, sinT, pos] = inputs;
    if (!x || !cosT || !sinT) return ctx.fail('input, cos_cache and sin_cache are required');
    checkDType(x.dtype, FLOATS, (m) => ctx.fail(m));
    const interleaved = ctx.attrs.int('interleaved', 0) !== 0;
    const numHeadsAttr = ctx.attrs.int('num_heads', 0);
    let rot = ctx.attrs.int('rotary_embedding_dim', 0);
    let B: number, H: number, S: number, D: number;
    let at: (b: number, h: number, s: number, d: number) => number;
    if (x.rank === 4) {
      [B, H, S, D] = x.dims;
      at = (b, h, s, d) => ((b * H + h) * S + s) * D + d;
    } else if (x.rank === 3) {
      if (numHeadsAttr <= 0) return ctx.fail('3-D input needs the num_heads attribute');
      [B, S] = x.dims;
      H = numHeadsAttr;
      if (x.dims[2] % H !== 0) return ctx.fail(`hidden size ${x.dims[2]} is not a multiple of num_heads ${H}`);
      D = x.dims[2] / H;
      const hidden = x.dims[2];
      at = (b, h, s, d) => (b * S + s) * hidden + h * D + d;
    } else {
      return ctx.fail(`input must be 3-D or 4-D, got rank ${x.rank}`);
    }
    if (rot === 0) rot = D;
    if (rot > D || rot % 2 !== 0) ctx.fail(`rotary_embedding_dim ${rot} must be even and at most the head size ${D}`);
    const half = rot / 2;
    const cw = cosT.dims[cosT.rank - 1];
    if (sinT.dims.join(',') !== cosT.dims.join(',')) ctx.fail('cos_cache and sin_cache shapes differ');
    if (cw < half) ctx.fail(`cos_cache last dim ${cw} is smaller than rotary_embedding_dim/2 = ${half}`);
    const cd = cosT.toNumbers(), sd = sinT.toNumbers();
    // row of the cache for (b, s)
    let cacheRow: (b: number, s: number) => number;
    if (pos) {
      if (cosT.rank !== 2) return ctx.fail('with position_ids, the caches must be 2-D [max_position, rot/2]');
      if (pos.size !== B * S) return ctx.fail(`position_ids must be [${B},${S}], got [${pos.dims.join(',')}]`);
      const p = pos.toNumbers();
      const maxPos = cosT.dims[0];
      cacheRow = (b, s) => {
        const r = p[b * S + s];
        if (!(r >= 0 && r < maxPos)) ctx.fail(`position id ${r} is out of range [0, ${maxPos})`);
        return r;
      };
    } else {
      if (cosT.rank !== 3 || cosT.dims[0] !== B || cosT.dims[1] !== S) return ctx.fail(`without position_ids, the caches must be [${B},${S},rot/2]`);
      cacheRow = (b, s) => b * S + s;
    }
    const src = x.toNumbers();
    const out = Float64Array.from(src);
    for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) {
      const r = cacheRow(b, s) * cw;
      for (let h = 0; h < H; h++) for (let i = 0; i < half; i++) {
        const c = cd[r + i], sn = sd[r + i];
        const i1 = interleaved ? 2 * i : i, i2 = interleaved ? 2 * i + 1 : i + half;
        const x1 = src[at(b, h, s, i1)], x2 = src[at(b, h, s, i2)];
        out[at(b, h, s, i1)] = c * x1 - sn * x2;
        out[at(b, h, s, i2)] = sn * x1 + c * x2;
      }
    }
    return [Tensor.from(x.dtype, x.dims, out)];
  },
};
