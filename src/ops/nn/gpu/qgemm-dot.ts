/**
 * Packed 4x8-bit dot-product candidates of the integer GEMM kernels (ConvInteger, QLinearConv,
 * MatMulInteger, QLinearMatMul): shaders/nn/qconv.comp and qmatmul.comp with QGEMM_DOT
 * (shaders/common/nn_qgemm_dot.glsl): operands staged in shared memory as int8 (uint8 shifted by 128,
 * zero points corrected with row and column sums), four k per 32-bit word, one OpSDot per four
 * multiply-adds (SPV_KHR_integer_dot_product, emitted through GL_EXT_spirv_intrinsics because
 * Debian 12's glslang has no GL_EXT_integer_dot_product), the op's own epilogue. Exact: bit for bit
 * the integer reference. Offered where the device has shaderIntegerDotProduct, ahead of the int32
 * ALU kernels for products of at least 16x16 (the tuner times them all): even where the driver does
 * not report packed dot products as accelerated (lavapipe), four multiply-adds per shared-memory
 * word beat the ALU kernel 2.5-3.6x on a ResNet 3x3 layer (bench/gpu/int8-check.ts --paths=dot).
 * docs/int8.md.
 */
import type { BindingRef, KernelContext, KernelImpl, TensorDesc } from '../../../kernel/contract';

/** An integer GEMM as the kernel passes it (to the int8 matrix-unit and dot-product candidates): A (M x K) and B (K x N) operands with their zero points. */
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

/** 128 for a uint8 operand (staged as value - 128), 0 for int8. */
export const shiftOf = (t: TensorDesc): number => (t.dtype === 'uint8' ? 128 : 0);

/** Whether the shifted zero point (zp - shift) may be nonzero: false only when known to be shift everywhere. */
export function zpMayBeNonzero(zp: TensorDesc | undefined, shift: number): boolean {
  if (!zp) return shift !== 0;
  if (!zp.constant) return true;
  return zp.constant.toNumbers().some((v) => v !== shift);
}

/** Workgroup (x, y) and outputs per invocation (rows, columns) of each tile shape. */
const TILES = [
  { wx: 16, wy: 16, tm: 4, tn: 4 }, // 64 x 64
  { wx: 8, wy: 8, tm: 4, tn: 4 }, // 32 x 32: thin products, more workgroups
];
/** Words of packed k per shared-memory tile (32 values). */
const KW = 8;

/** The packed dot-product candidates of an integer GEMM; empty without int8 operands or the device feature. */
export function qdotImpls(ctx: KernelContext, g: QCoopMatGemm, prefix: string): KernelImpl[] {
  const ok = (t: TensorDesc) => t.dtype === 'uint8' || t.dtype === 'int8';
  if (!ok(g.a) || !ok(g.b) || !ctx.caps.int8DotProduct) return [];
  const sa = shiftOf(g.a), sb = shiftOf(g.b);
  const out: KernelImpl[] = [];
  for (const t of TILES) {
    const bm = t.tm * t.wy, bn = t.tn * t.wx;
    const groups: [number, number, number] = [Math.ceil(g.N / bn), Math.ceil(g.M / bm), g.batch];
    if (groups[0] > ctx.caps.maxGroupsX || groups[1] > ctx.caps.maxGroupsY || t.wx * t.wy > ctx.caps.maxWorkgroupInvocations) continue;
    if ((bm + bn) * (KW + 1) * 4 > (ctx.caps.maxSharedMemory ?? 16384)) continue;
    const defines: Record<string, string | number> = {
      ...g.defines, QGEMM_DOT: 1, QD_WX: t.wx, QD_WY: t.wy, QD_TM: t.tm, QD_TN: t.tn, QD_KW: KW, QG_SHIFT_A: sa, QG_SHIFT_B: sb,
    };
    if (zpMayBeNonzero(g.bZp, sb)) defines.QG_ROWSUM = 1;
    if (zpMayBeNonzero(g.aZp, sa)) defines.QG_COLSUM = 1;
    out.push({
      name: `${prefix}_dot4x8_${bm}x${bn}`,
      dispatches: [{ shader: g.shader, defines, params: g.params, workgroup: [t.wx, t.wy, 1], groups, bindings: g.bindings }],
    });
  }
  return out;
}

/** Adds the packed dot-product candidates: ahead of the int32 ALU kernels for products of 16x16 and more, last for thin ones. */
export function addQDotCandidates(ctx: KernelContext, impls: KernelImpl[], g: QCoopMatGemm, prefix: string): void {
  const dot = qdotImpls(ctx, g, prefix);
  if (g.M >= 16 && g.N >= 16) impls.unshift(...dot);
  else impls.push(...dot);
}
