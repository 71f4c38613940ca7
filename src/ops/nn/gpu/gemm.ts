/**
 * GPU kernels of Gemm and MatMul: one strided, batched GEMM shader (shaders/nn/gemm.comp) with
 * three candidates, shared-memory tiles (64x64 per workgroup, 4x4 per invocation), one invocation
 * per output, and one workgroup per output reducing over K; the last goes first for matrix-vector
 * products with a long K (classifiers at batch 1), the simple one for other thin products that
 * would leave most of a tile idle. Transposes are strides; MatMul's batch broadcast collapses to at most three axes.
 * FP16 layers on devices with cooperative matrices also get matrix-unit candidates (gemm-coopmat.ts).
 */
import { BindingRef, DispatchDesc, KernelContext, KernelImpl, grid1d, withF16 } from '../../../kernel/contract';
import { optional, paramLayout, ParamValues } from '../../../kernel/params';
import { collapseBroadcast } from '../../../kernel/pointwise';
import { broadcastDims } from '../../util/shape';
import { ACT_FIELDS, activationFields, readActivation } from './epilogue';
import { addCoopMatCandidates } from './gemm-coopmat';

const TILE = { BM: 64, BN: 64, TM: 4, TN: 4, BK: 16 };
/** Split-K goes first below this many tile workgroups (as for Conv: BERT's [128,3072]x[3072,768] at batch 1 has 24). */
const SPLITK_MIN_GROUPS = 128;
const SPLITK_TARGET_GROUPS = 256;
const SPLITK_MIN_CHUNK = 128;
const MAX_Z = 65535;

/**
 * The product: M x N outputs over K; strides of A (m, k) and B (k, n); the batch collapsed to 3 axes
 * (dims outer first, and A's and B's stride per batch axis, in elements).
 */
const GEMM_SHAPE = {
  M: 'u32', N: 'u32', K: 'u32', aStrideM: 'u32', aStrideK: 'u32', bStrideK: 'u32', bStrideN: 'u32',
  batch: { array: 'u32', length: 3 }, aBatch: { array: 'u32', length: 3 }, bBatch: { array: 'u32', length: 3 },
} as const;
/** Float only: alpha, the activation; with HAS_C: beta and C's strides (0 on a broadcast axis). */
const GEMM_EPILOGUE = { alpha: 'f32', ...ACT_FIELDS, beta: 'f32', cStrideM: 'u32', cStrideN: 'u32' } as const;
/**
 * shaders/nn/gemm.comp. An integer product stops after the shape, a float one without C after the
 * activation; a SPLITK pass gives the whole epilogue (beta and C strides 0 without C) and the K chunk.
 */
const GEMM = paramLayout('gemm', { ...GEMM_SHAPE, ...optional(GEMM_EPILOGUE), chunk: 'u32?' }, 'Gemm/MatMul, batched and strided (src/ops/nn/gpu/gemm.ts).');
/** shaders/nn/gemm_splitk.comp: sums `splits` partial products of `total` outputs (chunk unused). */
const GEMM_SPLITK = paramLayout('gemm_splitk', { ...GEMM_SHAPE, ...GEMM_EPILOGUE, chunk: 'u32', splits: 'u32', total: 'u32' }, 'Gemm/MatMul split-K, the sum of the partial products (src/ops/nn/gpu/gemm.ts).');
export type GemmEpilogue = Omit<ParamValues<typeof GEMM_EPILOGUE>, 'beta' | 'cStrideM' | 'cStrideN'> & { beta?: number; cStrideM?: number; cStrideN?: number };

/** One (batched, strided) product for gemmImpls; other kernels reuse it (the RNN input projection). */
export interface GemmSpec {
  M: number; N: number; K: number;
  /** strides of A (m, k) and B (k, n) */
  sa: [number, number]; sb: [number, number];
  /** collapsed batch: dims (3, outer first) and A/B strides per batch axis */
  batch: [number, number, number]; sab: [number, number, number]; sbb: [number, number, number];
  int: boolean;
  /** float only: alpha, activation params, and C (beta, strides) */
  epilogue: GemmEpilogue;
  hasC: boolean;
  bindings: BindingRef[];
}

export function gemmImpls(ctx: KernelContext, s: GemmSpec, prefix: string): KernelImpl[] {
  const shape: ParamValues<typeof GEMM_SHAPE> = {
    M: s.M, N: s.N, K: s.K, aStrideM: s.sa[0], aStrideK: s.sa[1], bStrideK: s.sb[0], bStrideN: s.sb[1], batch: s.batch, aBatch: s.sab, bBatch: s.sbb,
  };
  const params = GEMM.pack(s.int ? shape : { ...shape, ...s.epilogue });
  const defines: Record<string, string | number> = s.int ? { T: 'int', T_INT: 1 } : {};
  if (s.hasC) defines.HAS_C = 1;
  const nb = s.batch[0] * s.batch[1] * s.batch[2];
  if (nb > MAX_Z) return ctx.unsupported(`${nb} matrix products in one batch exceed the dispatch limit of ${MAX_Z}`);
  const impls: KernelImpl[] = [];
  const sx = Math.ceil(s.N / 16), sy = Math.ceil(s.M / 16);
  if (sx <= ctx.caps.maxGroupsX && sy <= ctx.caps.maxGroupsY) {
    const d: DispatchDesc = { shader: 'nn/gemm', defines, params, workgroup: [16, 16, 1], groups: [sx, sy, nb], bindings: s.bindings };
    impls.push({ name: `${prefix}_simple`, dispatches: [d] });
  }
  const tx = Math.ceil(s.N / TILE.BN), ty = Math.ceil(s.M / TILE.BM);
  if (tx <= ctx.caps.maxGroupsX && ty <= ctx.caps.maxGroupsY) {
    const d: DispatchDesc = {
      shader: 'nn/gemm', defines: { ...defines, GEMM_TILED: 1 }, params,
      workgroup: [TILE.BN / TILE.TN, TILE.BM / TILE.TM, 1], groups: [tx, ty, nb], bindings: s.bindings,
    };
    const tiled: KernelImpl = { name: `${prefix}_tiled`, dispatches: [d] };
    if (s.M >= 16 && s.N >= 16) impls.unshift(tiled);
    else impls.push(tiled);
    const split = s.int ? undefined : splitK(ctx, s, d, shape, defines, tx * ty * nb, prefix);
    if (split && impls[0] === tiled && tx * ty * nb < SPLITK_MIN_GROUPS && s.K >= 2 * SPLITK_MIN_CHUNK) impls.unshift(split);
    else if (split) impls.push(split);
  }
  // matrix-vector shapes (a classifier at batch 1): one workgroup per output reduces over K
  if (s.N <= ctx.caps.maxGroupsX && s.M <= ctx.caps.maxGroupsY) {
    const d: DispatchDesc = { shader: 'nn/gemm', defines: { ...defines, GEMM_ROWDOT: 1 }, params, workgroup: [64, 1, 1], groups: [s.N, s.M, nb], bindings: s.bindings };
    const rowdot: KernelImpl = { name: `${prefix}_rowdot`, dispatches: [d] };
    if (s.M <= 4 && s.K >= 256) impls.unshift(rowdot);
    else impls.push(rowdot);
  }
  // matrix units (FP16 layers on devices with cooperative matrices): gemm-coopmat.ts
  if (!s.int) addCoopMatCandidates(ctx, impls, { M: s.M, N: s.N, K: s.K, sa: s.sa, sb: s.sb, batch: nb, params, defines, bindings: s.bindings }, prefix);
  if (!impls.length) return ctx.unsupported(`a ${s.M}x${s.N} product exceeds the device's dispatch limits`);
  return withF16(impls, ctx); // f16 storage (float): gemm.comp's TS buffers, FP32 accumulation
}

/**
 * Split-K: pass 1 (gemm.comp SPLITK) writes each K chunk's products to scratch, with the grid
 * multiplied by the split count; pass 2 (gemm_splitk.comp) sums them in order with the epilogue.
 */
function splitK(ctx: KernelContext, s: GemmSpec, tiled: DispatchDesc, shape: ParamValues<typeof GEMM_SHAPE>, defines: Record<string, string | number>, wgs: number, prefix: string): KernelImpl | undefined {
  if (s.K <= TILE.BK) return undefined;
  const nb = s.batch[0] * s.batch[1] * s.batch[2];
  const want = Math.ceil(SPLITK_TARGET_GROUPS / wgs);
  const splits0 = Math.max(2, Math.min(want, Math.floor(s.K / SPLITK_MIN_CHUNK), Math.ceil(s.K / TILE.BK)));
  const chunk = Math.ceil(Math.ceil(s.K / splits0) / TILE.BK) * TILE.BK;
  const splits = Math.ceil(s.K / chunk);
  const total = nb * s.M * s.N;
  if (splits < 2 || nb * splits > MAX_Z) return undefined;
  const e = s.epilogue;
  const p1 = { ...shape, ...e, beta: e.beta ?? 0, cStrideM: e.cStrideM ?? 0, cStrideN: e.cStrideN ?? 0, chunk };
  const { HAS_C: _c, ...noC } = defines;
  const reduce: BindingRef[] = [{ scratch: 0 }, ...(s.hasC ? [s.bindings[2]] : []), s.bindings[s.bindings.length - 1]];
  return {
    name: `${prefix}_splitk`,
    scratch: [splits * total * 4],
    dispatches: [
      { ...tiled, defines: { ...noC, GEMM_TILED: 1, SPLITK: 1 }, params: GEMM.pack(p1), groups: [tiled.groups[0], tiled.groups[1], nb * splits], bindings: [s.bindings[0], s.bindings[1], { scratch: 0 }] },
      { shader: 'nn/gemm_splitk', defines: s.hasC ? { HAS_C: 1 } : {}, params: GEMM_SPLITK.pack({ ...p1, splits, total }), workgroup: [64, 1, 1], groups: grid1d(total, 64, ctx.caps), bindings: reduce },
    ],
  };
}

/** MatMul: numpy semantics (1-D operands, broadcast batch axes); float or int32 storage. */
export function matmulKernel(ctx: KernelContext): KernelImpl[] {
  const [a, b] = ctx.inputs;
  if (!a || !b) return ctx.fail('MatMul needs A and B');
  if (a.gpu !== b.gpu) return ctx.unsupported(`MatMul of ${a.dtype} and ${b.dtype}`);
  const A = a.dims.length === 1 ? [1, a.dims[0]] : a.dims;
  const B = b.dims.length === 1 ? [b.dims[0], 1] : b.dims;
  const M = A[A.length - 2], K = A[A.length - 1], N = B[B.length - 1];
  const ba = A.slice(0, -2), bb = B.slice(0, -2);
  const bo = broadcastDims(ba, bb) as number[];
  const { dims, strides } = collapseBroadcast(bo, [ba, bb]);
  if (dims.length > 3) return ctx.unsupported(`MatMul batch axes [${bo.join(',')}] do not collapse to 3 axes`);
  const pad = (v: number[], fill: number): [number, number, number] => [...new Array<number>(3 - v.length).fill(fill), ...v] as [number, number, number];
  const int = a.gpu === 'i32';
  const act = readActivation(ctx.attrs, ctx.fail);
  if (int && act.kind) return ctx.unsupported('a fused activation on an integer MatMul');
  return gemmImpls(ctx, {
    M, N, K, sa: [K, 1], sb: [N, 1],
    batch: pad(dims, 1), sab: pad(strides[0].map((x) => x * M * K), 0), sbb: pad(strides[1].map((x) => x * K * N), 0),
    int, epilogue: { alpha: 1, ...activationFields(act) }, hasC: false,
    bindings: [{ input: 0 }, { input: 1 }, { output: 0 }],
  }, 'matmul');
}

/** Gemm: Y = alpha * A' B' + beta * C with optional transposes and a broadcast C. */
export function gemmKernel(ctx: KernelContext): KernelImpl[] {
  const [a, b, c] = ctx.inputs;
  if (!a || !b) return ctx.fail('Gemm needs A and B');
  if (a.dims.length !== 2 || b.dims.length !== 2) return ctx.fail('Gemm takes 2-D A and B');
  const ta = ctx.attrs.int('transA', 0) !== 0, tb = ctx.attrs.int('transB', 0) !== 0;
  const alpha = ctx.attrs.float('alpha', 1), beta = ctx.attrs.float('beta', 1);
  const M = ta ? a.dims[1] : a.dims[0], K = ta ? a.dims[0] : a.dims[1];
  const N = tb ? b.dims[0] : b.dims[1];
  const int = a.gpu === 'i32';
  if (a.gpu !== b.gpu || (c && c.gpu !== a.gpu)) return ctx.unsupported(`Gemm of mixed types ${a.dtype}, ${b.dtype}`);
  if (int && (alpha !== 1 || beta !== 1 || c)) return ctx.unsupported('integer Gemm on the GPU takes alpha = beta = 1 and no C');
  const act = readActivation(ctx.attrs, ctx.fail);
  if (int && act.kind) return ctx.unsupported('a fused activation on an integer Gemm');
  const useC = !!c && beta !== 0 && c.dims.every((d) => d > 0);
  const epilogue: GemmEpilogue = { alpha, ...activationFields(act) };
  const bindings: BindingRef[] = [{ input: 0 }, { input: 1 }];
  if (useC) {
    const cd = [...new Array<number>(2 - c!.dims.length).fill(1), ...c!.dims];
    if ((cd[0] !== 1 && cd[0] !== M) || (cd[1] !== 1 && cd[1] !== N)) return ctx.fail(`C [${c!.dims.join(',')}] does not broadcast to [${M},${N}]`);
    Object.assign(epilogue, { beta, cStrideM: cd[0] === 1 ? 0 : cd[1], cStrideN: cd[1] === 1 ? 0 : 1 });
    bindings.push({ input: 2 });
  }
  bindings.push({ output: 0 });
  return gemmImpls(ctx, {
    M, N, K, sa: ta ? [1, M] : [K, 1], sb: tb ? [1, K] : [N, 1],
    batch: [1, 1, 1], sab: [0, 0, 0], sbb: [0, 0, 0],
    int, epilogue, hasC: useC, bindings,
  }, 'gemm');
}
