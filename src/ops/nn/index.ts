/** The nn operator family. */
import { OpDef } from '../types';
import { Conv, ConvInteger, ConvTranspose, QLinearConv } from './conv';
import { Gemm, MatMul, MatMulInteger, QLinearMatMul } from './matmul';
import { BatchNormalization, GroupNormalization, InstanceNormalization, LayerNormalization, LpNormalization, LRN, MeanVarianceNormalization, RMSNormalization } from './norm';
import { Einsum } from './einsum';
import { AffineGrid, GridSample } from './grid';
import { RoiAlign } from './roialign';
import { CausalConvWithState, Col2Im, DeformConv } from './deform';
import { AveragePool, GlobalAveragePool, GlobalLpPool, GlobalMaxPool, LpPool, MaxPool, MaxUnpool } from './pool';
import { DequantizeLinear, DynamicQuantizeLinear, QuantizeLinear } from './quantize';
import { KernelContext, KernelImpl } from '../../kernel/contract';
import { globalPoolKernel, poolKernel } from './gpu/pool';
import { gridSampleKernel } from './gpu/grid';
import { dequantizeKernel, quantizeKernel } from './gpu/quantize';
import { convIntegerKernel, dynamicQuantizeKernel, matmulIntegerKernel, qlinearConvKernel, qlinearMatmulKernel } from './gpu/qlinear';
import { batchNormKernel, groupNormKernel, instanceNormKernel, layerNormKernel, lpNormKernel, lrnKernel, rmsNormKernel } from './gpu/norm';

/** GPU kernels of ops whose files hold only the reference (Conv, Gemm, MatMul attach their own). */
const KERNELS: Record<string, (ctx: KernelContext) => KernelImpl[]> = {
  MaxPool: poolKernel('MaxPool'),
  AveragePool: poolKernel('AveragePool'),
  LpPool: poolKernel('LpPool'),
  GlobalMaxPool: globalPoolKernel('GlobalMaxPool'),
  GlobalAveragePool: globalPoolKernel('GlobalAveragePool'),
  GlobalLpPool: globalPoolKernel('GlobalLpPool'),
  BatchNormalization: batchNormKernel,
  LayerNormalization: layerNormKernel,
  RMSNormalization: rmsNormKernel,
  InstanceNormalization: instanceNormKernel,
  GroupNormalization: groupNormKernel,
  LRN: lrnKernel,
  LpNormalization: lpNormKernel,
  QuantizeLinear: quantizeKernel,
  DequantizeLinear: dequantizeKernel,
  DynamicQuantizeLinear: dynamicQuantizeKernel,
  ConvInteger: convIntegerKernel,
  QLinearConv: qlinearConvKernel,
  MatMulInteger: matmulIntegerKernel,
  QLinearMatMul: qlinearMatmulKernel,
  GridSample: gridSampleKernel,
};

const DEFS: OpDef[] = [
  Conv, ConvInteger, ConvTranspose, QLinearConv,
  Gemm, MatMul, MatMulInteger, QLinearMatMul,
  QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear,
  AveragePool, MaxPool, LpPool, GlobalAveragePool, GlobalMaxPool, GlobalLpPool, MaxUnpool,
  BatchNormalization, InstanceNormalization, LayerNormalization, GroupNormalization, RMSNormalization,
  LRN, LpNormalization, MeanVarianceNormalization,
  Einsum, GridSample, AffineGrid, RoiAlign,
  DeformConv, Col2Im, CausalConvWithState,
];

export const NN_OPS: OpDef[] = DEFS.map((d) => (KERNELS[d.opType] && !d.kernel ? { ...d, kernel: KERNELS[d.opType] } : d));
