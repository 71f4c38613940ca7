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
interface Tile { wm: number; wn: number; fm: number; fn: number }
const TILES: readonly Tile[] = [
  { wm: 2, wn: 4, fm: 4, fn: 2 },
  { wm: 2, wn: 2, fm: 2, fn: 2 },
];
/** Invocations per emulated subgroup (CM_LANES of coopmat.glsl). */
const EMULATED_LANES = 32;
/** Products smaller than this in M, N or K go after the other candidates (most of a fragment would idle). */
const MIN_SIDE = 32;
/** Tile workgroups from which the large tile goes first. */
const LARGE_TILE_MIN_GROUPS = 32;

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
  const bk = cm.K * Math.max(1, Math.round(32 / cm.K));
  return tilePlans(ctx, cm, g, bk, (bm, bn, warps) => sharedBytes(cm, bm, bn, bk, warps)).map((t) => {
    const defines: Record<string, string | number> = { ...g.defines, GEMM_COOPMAT: 1, ...t.defines };
    // stage along the contiguous axis: a transposed A (m stride 1) by m, a transposed B (k stride 1) by k
    if (g.sa[1] !== 1 && g.sa[0] === 1) defines.GEMM_CM_A_MFAST = 1;
    if (g.sb[1] !== 1 && g.sb[0] === 1) defines.GEMM_CM_B_KFAST = 1;
    const d: DispatchDesc = { shader: 'nn/gemm', defines, params: g.params, workgroup: t.workgroup, groups: t.groups, bindings: g.bindings };
    return { name: `${prefix}_coopmat_${t.bm}x${t.bn}`, dispatches: [d] };
  });
}

/** A workgroup tile that fits the device: its size, workgroup, grid and the defines every matrix-unit kernel takes. */
export interface TilePlan {
  bm: number;
  bn: number;
  workgroup: [number, number, number];
  groups: [number, number, number];
  defines: Record<string, number>;
}

/**
 * The tiles of TILES that fit the device for an M x N (x batch) product with BK-deep staging
 * (`shared(bm, bn, warps)`: the kernel's shared memory in bytes), the large tile last when it would
 * leave the device with few workgroups. Shared by the FP16 and the int8 matrix-unit kernels.
 */
export function tilePlans(ctx: KernelContext, cm: CoopMatCaps, g: { M: number; N: number; batch: number }, bk: number, shared: (bm: number, bn: number, warps: number) => number): TilePlan[] {
  const lanes = cm.path === 'emulate' ? EMULATED_LANES : ctx.caps.subgroupSize;
  if (cm.path === 'emulate' && (cm.M * cm.N) % EMULATED_LANES !== 0) return [];
  const out: TilePlan[] = [];
  for (const t of TILES) {
    const bm = t.wm * t.fm * cm.M, bn = t.wn * t.fn * cm.N, warps = t.wm * t.wn;
    const gx = Math.ceil(g.N / bn), gy = Math.ceil(g.M / bm);
    if (warps * lanes > ctx.caps.maxWorkgroupInvocations || gx > ctx.caps.maxGroupsX || gy > ctx.caps.maxGroupsY) continue;
    if (shared(bm, bn, warps) > (ctx.caps.maxSharedMemory ?? 16384)) continue;
    out.push({
      bm, bn, workgroup: [warps * lanes, 1, 1], groups: [gx, gy, g.batch],
      defines: {
        [`VKRT_COOPMAT_${cm.path.toUpperCase()}`]: 1, CM_M: cm.M, CM_N: cm.N, CM_K: cm.K,
        GEMM_CM_BM: bm, GEMM_CM_BN: bn, GEMM_CM_BK: bk, GEMM_CM_WM: t.wm, GEMM_CM_WN: t.wn,
      },
    });
  }
  if (out.length === 2 && Math.ceil(g.M / 128) * Math.ceil(g.N / 128) * g.batch < LARGE_TILE_MIN_GROUPS) out.reverse();
  return out;
}

/**
 * Puts matrix-unit candidates into a layer's list: first for products large enough to fill
 * fragments (the tuner then times them first), last for thin ones.
 */
export function placeCoopMatCandidates(impls: KernelImpl[], cm: KernelImpl[], g: { M: number; N: number; K: number }): void {
  if (g.M >= MIN_SIDE && g.N >= MIN_SIDE && g.K >= MIN_SIDE) impls.unshift(...cm);
  else impls.push(...cm);
}

/**
 * Adds the matrix-unit candidates to a GEMM layer's list: first for products large enough to fill
 * fragments (the tuner then times them first), last for thin ones.
 */
export function addCoopMatCandidates(ctx: KernelContext, impls: KernelImpl[], g: CoopMatGemm, prefix: string): void {
  placeCoopMatCandidates(impls, coopMatGemmImpls(ctx, g, prefix), g);
}
