/**
 * int8 matrix-unit candidates of the integer GEMM kernels (ConvInteger, QLinearConv, MatMulInteger,
 * QLinearMatMul): shaders/nn/qconv.comp and qmatmul.comp with QGEMM_COOPMAT
 * (shaders/common/nn_qgemm_coopmat.glsl on shaders/common/coopmat.glsl with CM_INT8): operands staged
 * in shared memory as int8 (uint8 shifted by 128, the zero points corrected with row and column sums),
 * int8 x int8 -> int32 cooperative matrices, the op's own epilogue (requantization, fused activation).
 * Exact: bit for bit the integer reference. Offered only where DeviceCaps.cooperativeMatrix lists an
 * int8 x int8 -> int32 combination (or its emulation in tests); two tile shapes, timed by the tuner
 * against the int32 ALU kernels. docs/int8.md.
 */
import type { BindingRef, CoopMatCaps, KernelContext, KernelImpl, TensorDesc } from '../../../kernel/contract';

import { EMULATED_LANES, LARGE_TILE_MIN_GROUPS, MIN_SIDE, TILES } from './gemm-coopmat';

/** An integer GEMM as the kernel passes it: A (M x K) and B (K x N) operands with their zero points. */
export interface QCoopMatGemm {
  shader: string;
  M: number;
  N: number;
  K: number;
  batch: number;
  a: TensorDesc;
  b: TensorDesc;
  aZp?: TensorDesc;
  bZp?: TensorDesc;
  params: number[];
  defines: Record<string, string | number>;
  bindings: BindingRef[];
}

/** The combination these kernels use: int8 A and B, int32 C and result; 16x16x32 when listed, else the largest. */
export function int8CoopMat(ctx: KernelContext): CoopMatCaps | undefined {
  const fit = (ctx.caps.cooperativeMatrix ?? []).filter((c) => c.a === 'i8' && c.b === 'i8' && c.c === 'i32' && c.result === 'i32'
    && c.M % 8 === 0 && c.N % 8 === 0 && c.K % 16 === 0);
  return fit.find((c) => c.M === 16 && c.N === 16 && c.K === 32) ?? [...fit].sort((x, y) => y.M * y.N * y.K - x.M * x.N * x.K)[0];
}

/** 128 for a uint8 operand (staged as value - 128), 0 for int8. */
const shiftOf = (t: TensorDesc): number => (t.dtype === 'uint8' ? 128 : 0);

/** Whether the shifted zero point (zp - shift) may be nonzero: false only when known to be 0 everywhere. */
function zpMayBeNonzero(zp: TensorDesc | undefined, shift: number): boolean {
  if (!zp) return shift !== 0;
  if (!zp.constant) return true;
  return zp.constant.toNumbers().some((v) => v !== shift);
}

function sharedBytes(cm: CoopMatCaps, bm: number, bn: number, bk: number, warps: number): number {
  return bm * (bk + 16) + bk * (bn + 16) + warps * cm.M * (cm.N + 4) * 4 + (bm + bn) * 4;
}

/** The int8 matrix-unit candidates of an integer GEMM; empty where no combination fits. */
export function qcoopMatImpls(ctx: KernelContext, g: QCoopMatGemm, prefix: string): KernelImpl[] {
  const ok = (t: TensorDesc) => t.dtype === 'uint8' || t.dtype === 'int8';
  if (!ok(g.a) || !ok(g.b) || !ctx.caps.int8) return [];
  const cm = int8CoopMat(ctx);
  if (!cm) return [];
  const lanes = cm.path === 'emulate' ? EMULATED_LANES : ctx.caps.subgroupSize;
  if (cm.path === 'emulate' && (cm.M * cm.N) % EMULATED_LANES !== 0) return [];
  const bk = cm.K * Math.max(1, Math.round(64 / cm.K));
  const sa = shiftOf(g.a), sb = shiftOf(g.b);
  const out: KernelImpl[] = [];
  for (const t of TILES) {
    const bm = t.wm * t.fm * cm.M, bn = t.wn * t.fn * cm.N, warps = t.wm * t.wn;
    const gx = Math.ceil(g.N / bn), gy = Math.ceil(g.M / bm);
    if (warps * lanes > ctx.caps.maxWorkgroupInvocations || gx > ctx.caps.maxGroupsX || gy > ctx.caps.maxGroupsY) continue;
    if (sharedBytes(cm, bm, bn, bk, warps) > (ctx.caps.maxSharedMemory ?? 16384)) continue;
    const defines: Record<string, string | number> = {
      ...g.defines, QGEMM_COOPMAT: 1, [`VKRT_COOPMAT_${cm.path.toUpperCase()}`]: 1,
      CM_M: cm.M, CM_N: cm.N, CM_K: cm.K,
      GEMM_CM_BM: bm, GEMM_CM_BN: bn, GEMM_CM_BK: bk, GEMM_CM_WM: t.wm, GEMM_CM_WN: t.wn,
      QG_SHIFT_A: sa, QG_SHIFT_B: sb,
    };
    if (zpMayBeNonzero(g.bZp, sb)) defines.QG_ROWSUM = 1;
    if (zpMayBeNonzero(g.aZp, sa)) defines.QG_COLSUM = 1;
    out.push({
      name: `${prefix}_coopmat_i8_${bm}x${bn}`,
      dispatches: [{ shader: g.shader, defines, params: g.params, workgroup: [warps * lanes, 1, 1], groups: [gx, gy, g.batch], bindings: g.bindings }],
    });
  }
  if (out.length === 2 && Math.ceil(g.M / 128) * Math.ceil(g.N / 128) * g.batch < LARGE_TILE_MIN_GROUPS) out.reverse();
  return out;
}

/** Adds the int8 matrix-unit candidates: first for products that fill fragments, last for thin ones. */
export function addQCoopMatCandidates(ctx: KernelContext, impls: KernelImpl[], g: QCoopMatGemm, prefix: string): void {
  const cm = qcoopMatImpls(ctx, g, prefix);
  if (!cm.length) return;
  if (g.M >= MIN_SIDE && g.N >= MIN_SIDE && g.K >= MIN_SIDE) impls.unshift(...cm);
  else impls.push(...cm);
}
