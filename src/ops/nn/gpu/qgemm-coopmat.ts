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
import type { CoopMatCaps, KernelContext, KernelImpl, TensorDesc } from '../../../kernel/contract';

import { placeCoopMatCandidates, tilePlans } from './gemm-coopmat';
import { addQDotCandidates, QCoopMatGemm, shiftOf, zpMayBeNonzero } from './qgemm-dot';

export type { QCoopMatGemm } from './qgemm-dot';

/** The combination these kernels use: int8 A and B, int32 C and result; 16x16x32 when listed, else the largest. */
export function int8CoopMat(ctx: KernelContext): CoopMatCaps | undefined {
  const fit = (ctx.caps.cooperativeMatrix ?? []).filter((c) => c.a === 'i8' && c.b === 'i8' && c.c === 'i32' && c.result === 'i32'
    && c.M % 8 === 0 && c.N % 8 === 0 && c.K % 16 === 0);
  return fit.find((c) => c.M === 16 && c.N === 16 && c.K === 32) ?? [...fit].sort((x, y) => y.M * y.N * y.K - x.M * x.N * x.K)[0];
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
  const bk = cm.K * Math.max(1, Math.round(64 / cm.K));
  const sa = shiftOf(g.a), sb = shiftOf(g.b);
  return tilePlans(ctx, cm, g, bk, (bm, bn, warps) => sharedBytes(cm, bm, bn, bk, warps)).map((t) => {
    const defines: Record<string, string | number> = { ...g.defines, QGEMM_COOPMAT: 1, ...t.defines, QG_SHIFT_A: sa, QG_SHIFT_B: sb };
    if (zpMayBeNonzero(g.bZp, sb)) defines.QG_ROWSUM = 1;
    if (zpMayBeNonzero(g.aZp, sa)) defines.QG_COLSUM = 1;
    return {
      name: `${prefix}_coopmat_i8_${t.bm}x${t.bn}`,
      dispatches: [{ shader: g.shader, defines, params: g.params, workgroup: t.workgroup, groups: t.groups, bindings: g.bindings }],
    };
  });
}

/**
 * Adds the fast int8 candidates: packed dot products (qgemm-dot.ts), then the int8 matrix units,
 * first for products that fill fragments, last for thin ones.
 */
export function addQCoopMatCandidates(ctx: KernelContext, impls: KernelImpl[], g: QCoopMatGemm, prefix: string): void {
  addQDotCandidates(ctx, impls, g, prefix);
  placeCoopMatCandidates(impls, qcoopMatImpls(ctx, g, prefix), g);
}
