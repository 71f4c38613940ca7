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
/** The family's OpDefs; each declares its GPU kernel (from ./gpu) itself. */
export const NN_OPS: OpDef[] = [
  Conv, ConvInteger, ConvTranspose, QLinearConv,
  Gemm, MatMul, MatMulInteger, QLinearMatMul,
  QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear,
  AveragePool, MaxPool, LpPool, GlobalAveragePool, GlobalMaxPool, GlobalLpPool, MaxUnpool,
  BatchNormalization, InstanceNormalization, LayerNormalization, GroupNormalization, RMSNormalization,
  LRN, LpNormalization, MeanVarianceNormalization,
  Einsum, GridSample, AffineGrid, RoiAlign,
  DeformConv, Col2Im, CausalConvWithState,
];

