/**
 * Matrix-unit candidates of the Gemm/MatMul kernels: shaders/nn/gemm.comp with GEMM_COOPMAT
 * (shaders/common/nn_gemm_coopmat.glsl on shaders/common/coopmat.glsl), FP16 x FP16 -> FP32
 * accumulation on cooperative matrices, the epilogue (alpha, C, activation, FP16 output) of the
 * other GEMM candidates. Offered only for FP16 storage and only where the device caps list a
 * combination with FP16 A and B and FP32 C and result (DeviceCaps.cooperativeMatrix); two tile
 * shapes, each a tactic the auto-tuner times against the FP32-ALU kernels. Any M, N, K: the edges are
 * masked. docs/coopmat.md explains the three compile paths (NV, KHR, emulation).
 */
import type { BindingRef, CoopMatCaps, DispatchDesc, KernelContext, KernelImpl } from '../../../kernel/contract';

/** A workgroup tile: WM x WN subgroups, each FM x FN fragments (128x128 and 64x64 for 16x16 fragments). */
export interface Tile { wm: number; wn: number; fm: number; fn: number }
export const TILES: readonly Tile[] = [
  { wm: 2, wn: 4, fm: 4, fn: 2 },
  { wm: 2, wn: 2, fm: 2, fn: 2 },
];
/** Invocations per emulated subgroup (CM_LANES of coopmat.glsl). */
export const EMULATED_LANES = 32;
/** Products smaller than this in M, N or K go after the other candidates (most of a fragment would idle). */
export const MIN_SIDE = 32;
/** Tile workgroups from which the large tile goes first. */
export const LARGE_TILE_MIN_GROUPS = 32;

/** What a GEMM kernel passes: its shape, strides, params, defines and bindings. */
export interface CoopMatGemm {
  M: number;
  N: number;
  K: number;
  /** Strides of A (m, k) and B (k, n), in elements. */
  sa: readonly [number, number];
  sb: readonly [number, number];
  /** Matrix products in the batch (workgroup z). */
  batch: number;
  params: number[];
  defines: Record<string, string | number>;
  bindings: BindingRef[];
}

/** The combination these kernels use: FP16 A and B, FP32 C and result; 16x16x16 when listed, else the largest. */
export function gemmCoopMat(ctx: KernelContext): CoopMatCaps | undefined {
  const fit = (ctx.caps.cooperativeMatrix ?? []).filter((c) => c.a === 'f16' && c.b === 'f16' && c.c === 'f32' && c.result === 'f32' && c.M % 8 === 0 && c.N % 4 === 0 && c.K % 8 === 0);
  return fit.find((c) => c.M === 16 && c.N === 16 && c.K === 16) ?? [...fit].sort((x, y) => y.M * y.N * y.K - x.M * x.N * x.K)[0];
}

/** Shared memory of a tile (the arrays of nn_gemm_coopmat.glsl), in bytes. */
function sharedBytes(cm: CoopMatCaps, bm: number, bn: number, bk: number, warps: number): number {
  return (bm * (bk + 8) + bk * (bn + 8)) * 2 + warps * cm.M * (cm.N + 4) * 4;
}

/**
 * The matrix-unit candidates for this product, empty when the layer is not FP16 or the device has no
 * suitable combination (or the tiles exceed its limits).
 */
export function coopMatGemmImpls(ctx: KernelContext, g: CoopMatGemm, prefix: string): KernelImpl[] {
  const [a, b] = ctx.inputs;
  const cm = gemmCoopMat(ctx);
  if (!cm || a?.gpu !== 'f16' || b?.gpu !== 'f16' || ctx.outputs[0]?.gpu !== 'f16') return [];
  const lanes = cm.path === 'emulate' ? EMULATED_LANES : ctx.caps.subgroupSize;
  if (cm.path === 'emulate' && (cm.M * cm.N) % EMULATED_LANES !== 0) return [];
  const bk = cm.K * Math.max(1, Math.round(32 / cm.K));
  const out: KernelImpl[] = [];
  for (const t of TILES) {
    const bm = t.wm * t.fm * cm.M, bn = t.wn * t.fn * cm.N, warps = t.wm * t.wn;
    const gx = Math.ceil(g.N / bn), gy = Math.ceil(g.M / bm);
    if (warps * lanes > ctx.caps.maxWorkgroupInvocations || gx > ctx.caps.maxGroupsX || gy > ctx.caps.maxGroupsY) continue;
    if (sharedBytes(cm, bm, bn, bk, warps) > (ctx.caps.maxSharedMemory ?? 16384)) continue;
    const defines: Record<string, string | number> = {
      ...g.defines, GEMM_COOPMAT: 1, [`VKRT_COOPMAT_${cm.path.toUpperCase()}`]: 1,
      CM_M: cm.M, CM_N: cm.N, CM_K: cm.K,
      GEMM_CM_BM: bm, GEMM_CM_BN: bn, GEMM_CM_BK: bk, GEMM_CM_WM: t.wm, GEMM_CM_WN: t.wn,
    };
    // stage along the contiguous axis: a transposed A (m stride 1) by m, a transposed B (k stride 1) by k
    if (g.sa[1] !== 1 && g.sa[0] === 1) defines.GEMM_CM_A_MFAST = 1;
    if (g.sb[1] !== 1 && g.sb[0] === 1) defines.GEMM_CM_B_KFAST = 1;
    const d: DispatchDesc = { shader: 'nn/gemm', defines, params: g.params, workgroup: [warps * lanes, 1, 1], groups: [gx, gy, g.batch], bindings: g.bindings };
    out.push({ name: `${prefix}_coopmat_${bm}x${bn}`, dispatches: [d] });
  }
  if (out.length === 2 && Math.ceil(g.M / 128) * Math.ceil(g.N / 128) * g.batch < LARGE_TILE_MIN_GROUPS) out.reverse();
  return out;
}

/**
 * Adds the matrix-unit candidates to a GEMM layer's list: first for products large enough to fill
 * fragments (the tuner then times them first), last for thin ones.
 */
export function addCoopMatCandidates(ctx: KernelContext, impls: KernelImpl[], g: CoopMatGemm, prefix: string): void {
  const cm = coopMatGemmImpls(ctx, g, prefix);
  if (!cm.length) return;
  if (g.M >= MIN_SIDE && g.N >= MIN_SIDE && g.K >= MIN_SIDE) impls.unshift(...cm);
  else impls.push(...cm);
}
