/**
 * GPU kernels of Attention (opset 23/24) and RotaryEmbedding: see shaders/reduce/attention.comp,
 * kv_concat.comp and rotary.comp for the algorithms and parameter layouts.
 */
import { BindingRef, DispatchDesc, grid1d, KernelContext, KernelImpl } from '../../kernel/contract';
import { glslEnum, paramLayout } from '../../kernel/params';
import { sizeOf } from '../../ir/tensor';
import { Attrs } from '../../ir/attrs';
import { Node } from '../../ir/graph';

const STRIDES = { array: 'u32', length: 3 } as const;
/** attention.comp's qkMode: the stage written to the qk output (qk_matmul_output_mode), or none. */
const ATTN_QK = glslEnum('ATTN_QK', { raw: 0, softcapped: 1, biased: 2, softmax: 3, none: 4 }, 'uint',
  "attention.comp's qkMode param (qk_matmul_output_mode; none: no qk output), src/ops/reduce/gpu-attention.ts");
/** attention.comp's flags param: bits. */
const ATTN_FLAG = glslEnum('ATTN_FLAG', { causal: 1, nonpad: 2, boolMask: 4, hasMask: 8 }, 'uint', "attention.comp's flags param (bits), src/ops/reduce/gpu-attention.ts");
/**
 * shaders/reduce/attention.comp: query rows (B*H*S), H, S, head sizes D and DV, total keys T, past
 * length P, query heads per kv head (group), KVH, strides of Q (b, h, i), K and V (b, kvh, j), Y
 * and the mask (b, h, i), the mask width TM, scale, softcap (0: none), flags (1 causal, 2 nonpad,
 * 4 bool mask, 8 has mask), qkMode (qk_matmul_output_mode 0-3, 4: no qk output).
 */
const ATTENTION = paramLayout('attention', {
  rows: 'u32', H: 'u32', S: 'u32', D: 'u32', DV: 'u32', T: 'u32', P: 'u32', group: 'u32', KVH: 'u32',
  qStrides: STRIDES, kStrides: STRIDES, vStrides: STRIDES, yStrides: STRIDES, maskStrides: STRIDES, TM: 'u32',
  scale: 'f32', softcap: 'f32', flags: 'u32', qkMode: 'u32',
}, 'Attention, a workgroup per query row (src/ops/reduce/gpu-attention.ts).');
/** shaders/reduce/kv_concat.comp: elements (B*KVH*T*D), KVH, T, D, past length P, new K/V strides (b, kvh, j). */
const KV_CONCAT = paramLayout('kv_concat', { n: 'u32', KVH: 'u32', T: 'u32', D: 'u32', P: 'u32', curStrides: STRIDES }, 'Attention present_key/present_value (src/ops/reduce/gpu-attention.ts).');
/**
 * shaders/reduce/rotary.comp: elements, H, S, D, strides (b, h, s), half the rotary dim, interleaved,
 * the caches' width, with HAS_POS the caches' positions.
 */
const ROTARY = paramLayout('rotary', {
  n: 'u32', H: 'u32', S: 'u32', D: 'u32', strides: STRIDES, half: 'u32', interleaved: 'u32', cacheWidth: 'u32', maxPos: 'u32?',
}, 'RotaryEmbedding (src/ops/reduce/gpu-attention.ts).');

const ATT_WG = 64;
const MAX_D = 512;
/** Largest head size (D and Dv) the Attention kernel takes; the graph optimizer forms Attention only within it. */
export const ATTENTION_MAX_HEAD_SIZE = MAX_D;

/** [B, H, S, D] of a 3-D ([B, S, H*D]) or 4-D Attention operand and its (b, h, s) strides. */
function headsOf(ctx: KernelContext, dims: readonly number[], heads: number | undefined, what: string): { B: number; H: number; S: number; D: number; strides: [number, number, number] } {
  if (dims.length === 4) {
    const [B, H, S, D] = dims;
    return { B, H, S, D, strides: [H * S * D, S * D, D] };
  }
  if (dims.length !== 3) return ctx.fail(`${what} must be 3-D or 4-D, got rank ${dims.length}`);
  if (!heads || heads <= 0) return ctx.fail(`3-D ${what} needs the ${what === 'Q' ? 'q_num_heads' : 'kv_num_heads'} attribute`);
  const [B, S, hidden] = dims;
  if (hidden % heads !== 0) return ctx.fail(`${what} hidden size ${hidden} is not a multiple of ${heads} heads`);
  const D = hidden / heads;
  return { B, H: heads, S, D, strides: [S * hidden, D, hidden] };
}

export function attentionKernel(ctx: KernelContext): KernelImpl[] {
  const [Qt, Kt, Vt, maskT, pastK, pastV] = ctx.inputs;
  const nonpadT = ctx.opset >= 24 ? ctx.inputs[6] : undefined;
  if (!Qt || !Kt || !Vt) return ctx.fail('Q, K and V are required');
  if (Qt.gpu !== 'f32' || Kt.gpu !== 'f32' || Vt.gpu !== 'f32') return ctx.unsupported('Attention needs float Q, K and V');
  if (Kt.dims.length !== Qt.dims.length || Vt.dims.length !== Qt.dims.length) return ctx.fail('Q, K and V must have the same rank');
  const qHattr = ctx.attrs.optInt('q_num_heads'), kvHattr = ctx.attrs.optInt('kv_num_heads');
  const mode = ctx.attrs.int('qk_matmul_output_mode', 0);
  if (mode < 0 || mode > 3) return ctx.fail(`qk_matmul_output_mode ${mode} is not 0, 1, 2 or 3`);
  ctx.attrs.optInt('softmax_precision'); // FP32 softmax
  const q = headsOf(ctx, Qt.dims, qHattr, 'Q');
  const k = headsOf(ctx, Kt.dims, kvHattr, 'K');
  const v = headsOf(ctx, Vt.dims, kvHattr, 'V');
  const { B, H, S, D } = q;
  const kvH = k.H, Dv = v.D;
  if ((pastK && pastK.dims.length !== 4) || (pastV && pastV.dims.length !== 4)) return ctx.unsupported('past_key/past_value must be 4-D [B, kv_heads, past, head_size]');
  if (!!pastK !== !!pastV) return ctx.fail('past_key and past_value come together');
  const P = pastK ? pastK.dims[2] : 0;
  if (pastK && (pastK.dims[0] !== B || pastK.dims[1] !== kvH || pastK.dims[3] !== D || pastV!.dims[2] !== P || pastV!.dims[3] !== Dv)) return ctx.fail('past_key/past_value do not fit K/V');
  const T = P + k.S;
  if (k.B !== B || v.B !== B || k.D !== D || v.H !== kvH || v.S !== k.S) return ctx.fail('Q, K and V shapes do not fit together');
  if (kvH <= 0 || H % kvH !== 0) return ctx.fail(`q heads ${H} is not a multiple of kv heads ${kvH}`);
  if (D > MAX_D || Dv > MAX_D) return ctx.unsupported(`head sizes above ${MAX_D} (got ${D}, ${Dv})`);
  const scale = ctx.attrs.optFloat('scale') ?? 1 / Math.sqrt(D);
  const softcap = ctx.attrs.float('softcap', 0);
  // mask broadcast (right-aligned) to [B, H, S, Tm]
  let mStr = [0, 0, 0], Tm = 0;
  if (maskT) {
    const md = maskT.dims;
    if (md.length === 0 || md.length > 4) return ctx.fail(`attn_mask must have rank 1-4, got ${md.length}`);
    Tm = md[md.length - 1];
    if (Tm > T) return ctx.fail(`attn_mask dims [${md.join(',')}] do not fit the total sequence length ${T}`);
    const dims = [...new Array<number>(4 - md.length).fill(1), ...md];
    const target = [B, H, S, Tm];
    const strides = [0, 0, 0, 0];
    let acc = 1;
    for (let a = 3; a >= 0; a--) {
      if (dims[a] !== 1 && dims[a] !== target[a]) return ctx.fail(`attn_mask dims [${md.join(',')}] do not broadcast to [${target.join(',')}]`);
      strides[a] = dims[a] === 1 ? 0 : acc;
      acc *= dims[a];
    }
    mStr = strides.slice(0, 3);
  }
  const flags = (ctx.attrs.int('is_causal', 0) !== 0 ? ATTN_FLAG.causal : 0) | (nonpadT ? ATTN_FLAG.nonpad : 0) |
    (maskT?.dtype === 'bool' ? ATTN_FLAG.boolMask : 0) | (maskT ? ATTN_FLAG.hasMask : 0);
  const outs = ctx.node.outputs;
  const wantQK = outs.length > 3 && !!outs[3];
  const yStr: [number, number, number] = ctx.outputs[0].dims.length === 3 ? [S * H * Dv, Dv, H * Dv] : [H * S * Dv, S * Dv, Dv];
  const params = ATTENTION.pack({
    rows: B * H * S, H, S, D, DV: Dv, T, P, group: H / kvH, KVH: kvH, qStrides: q.strides, kStrides: k.strides, vStrides: v.strides,
    yStrides: yStr, maskStrides: mStr, TM: Tm, scale, softcap, flags, qkMode: wantQK ? mode : ATTN_QK.none,
  });
  const any: BindingRef = { input: 0 };
  const bindings: BindingRef[] = [
    { input: 0 }, { input: 1 }, { input: 2 }, pastK ? { input: 4 } : any, pastV ? { input: 5 } : any,
    maskT ? { input: 3 } : any, nonpadT ? { input: 6 } : any, { output: 0 }, wantQK ? { output: 3 } : { output: 0 },
  ];
  const dispatches: DispatchDesc[] = [{
    shader: 'reduce/attention', defines: { MAX_D, ACC_N: Math.max(1, Math.ceil(Dv / ATT_WG)) }, params,
    workgroup: [ATT_WG, 1, 1], groups: grid1d(B * H * S, 1, ctx.caps), bindings,
  }];
  // present_key / present_value
  for (const [o, cur, past, Dx] of [[1, k, pastK ? 4 : -1, D], [2, v, pastV ? 5 : -1, Dv]] as const) {
    if (!(outs.length > o && outs[o])) continue;
    const n = B * kvH * T * Dx;
    if (n === 0) continue;
    dispatches.push({
      shader: 'reduce/kv_concat', params: KV_CONCAT.pack({ n, KVH: kvH, T, D: Dx, P, curStrides: cur.strides }), workgroup: [128, 1, 1], groups: grid1d(n, 128, ctx.caps),
      bindings: [past >= 0 ? { input: past } : { input: o }, { input: o }, { output: o }],
    });
  }
  if (B * H * S === 0) dispatches.shift();
  return [{ name: 'attention_online_softmax', dispatches }];
}

export function rotaryKernel(ctx: KernelContext): KernelImpl[] {
  const [x, cosT, sinT, pos] = ctx.inputs;
  if (!x || !cosT || !sinT) return ctx.fail('input, cos_cache and sin_cache are required');
  if (x.gpu !== 'f32') return ctx.unsupported('RotaryEmbedding needs a float input');
  const interleaved = ctx.attrs.int('interleaved', 0) !== 0;
  const numHeads = ctx.attrs.int('num_heads', 0);
  let B: number, H: number, S: number, D: number, st: [number, number, number];
  if (x.dims.length === 4) {
    [B, H, S, D] = x.dims;
    st = [H * S * D, S * D, D];
  } else if (x.dims.length === 3) {
    if (numHeads <= 0) return ctx.fail('3-D input needs the num_heads attribute');
    [B, S] = x.dims;
    H = numHeads;
    if (x.dims[2] % H !== 0) return ctx.fail(`hidden size ${x.dims[2]} is not a multiple of num_heads ${H}`);
    D = x.dims[2] / H;
    st = [S * x.dims[2], D, x.dims[2]];
  } else {
    return ctx.fail(`input must be 3-D or 4-D, got rank ${x.dims.length}`);
  }
  let rot = ctx.attrs.int('rotary_embedding_dim', 0);
  if (rot === 0) rot = D;
  if (rot > D || rot % 2 !== 0) return ctx.fail(`rotary_embedding_dim ${rot} must be even and at most the head size ${D}`);
  const cw = cosT.dims[cosT.dims.length - 1];
  if (cw < rot / 2) return ctx.fail(`cos_cache last dim ${cw} is smaller than rotary_embedding_dim/2 = ${rot / 2}`);
  if (pos) {
    if (cosT.dims.length !== 2) return ctx.fail('with position_ids, the caches must be 2-D [max_position, rot/2]');
    if (sizeOf(pos.dims) !== B * S) return ctx.fail(`position_ids must be [${B},${S}]`);
  } else if (cosT.dims.length !== 3 || cosT.dims[0] !== B || cosT.dims[1] !== S) {
    return ctx.fail(`without position_ids, the caches must be [${B},${S},rot/2]`);
  }
  const n = sizeOf(x.dims);
  const maxPos = pos ? cosT.dims[0] : 0;
  return [{
    name: 'rotary_embedding',
    dispatches: [{
      shader: 'reduce/rotary', defines: { HAS_POS: pos ? 1 : 0 },
      params: ROTARY.pack({ n, H, S, D, strides: st, half: rot / 2, interleaved: interleaved ? 1 : 0, cacheWidth: cw, ...(pos ? { maxPos } : {}) }),
      workgroup: [128, 1, 1], groups: grid1d(n, 128, ctx.caps),
      bindings: [{ input: 0 }, { input: 1 }, { input: 2 }, pos ? { input: 3 } : { input: 0 }, { output: 0 }],
    }],
  }];
}

/**
 * FlexAttention (ai.onnx.preview) without score_mod/prob_mod is Attention on 4-D Q, K, V with its
 * scale (the function body's sqrt(scale) on both Q and K multiplies their product by scale) and
 * grouped kv heads: the Attention kernel runs it. The mods are subgraphs over the whole score
 * tensor that a kernel cannot run; a node with them is refused.
 */
export function flexAttentionKernel(ctx: KernelContext): KernelImpl[] {
  for (const mod of ['score_mod', 'prob_mod']) {
    if (ctx.node.attrs.has(mod)) return ctx.unsupported(`FlexAttention with a ${mod} subgraph has no GPU kernel (without one it runs as Attention)`);
  }
  const [Qt, Kt, Vt] = ctx.inputs;
  if (!Qt || !Kt || !Vt) return ctx.fail('Q, K and V are required');
  if (Qt.dims.length !== 4 || Kt.dims.length !== 4 || Vt.dims.length !== 4) return ctx.fail('Q, K and V must be 4-D [batch, heads, seq, head_size]');
  const scale = ctx.attrs.optFloat('scale');
  const node = new Node({ name: ctx.node.name, opType: 'Attention', inputs: ctx.node.inputs.slice(0, 3), outputs: ctx.node.outputs.slice(0, 1), attrs: scale === undefined ? {} : { scale: { type: 'float', value: scale } } });
  return attentionKernel({ ...ctx, node, attrs: new Attrs(node), inputs: ctx.inputs.slice(0, 3), opset: 23 });
}
