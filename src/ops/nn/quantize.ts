/** QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear. */
import { DType, dtypeFromOnnx, integerRange, isFloat } from '../../ir/dtype';
import { Tensor, rounderFor } from '../../ir/tensor';
import { OpDef } from '../types';
import { f64, floatTensor, need, rint } from '../util/nn-common';
import { attrDType, paramIndex } from '../util/nn-quant';
import { dequantizeKernel, quantizeKernel } from './gpu/quantize';
import { dynamicQuantizeKernel } from './gpu/qlinear';

const QUANT_TYPES: DType[] = ['uint8', 'int8', 'uint16', 'int16', 'uint4', 'int4', 'uint2', 'int2', 'int32',
  'float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz', 'float4e2m1'];

export const QuantizeLinear: OpDef = {
  opType: 'QuantizeLinear',
  kernel: quantizeKernel,
  traits: { packedStorage: true, byteStorage: { inputs: [], outputs: [0] } },
  sinceVersion: 10,
  inferShape(ctx, [x, , zp]) {
    const od = ctx.opset >= 21 ? ctx.attrs.int('output_dtype', 0) : 0;
    const dtype: DType = zp?.dtype ?? (od ? (dtypeFromOnnx(od) ?? 'uint8') : 'uint8');
    return [{ dtype, shape: x?.shape?.slice() }];
  },
  reference(ctx, inputs) {
    const X = need(ctx, inputs, 0, 'x');
    const S = need(ctx, inputs, 1, 'y_scale');
    const Z = inputs[2];
    const axis = ctx.opset >= 13 ? ctx.attrs.int('axis', 1) : 1;
    const blockSize = ctx.opset >= 21 ? ctx.attrs.int('block_size', 0) : 0;
    const saturate = ctx.opset >= 19 ? ctx.attrs.int('saturate', 1) : 1;
    const od = ctx.opset >= 21 ? attrDType(ctx, ctx.attrs.int('output_dtype', 0)) : undefined;
    if (Z && od && Z.dtype !== od) ctx.fail(`output_dtype ${od} differs from y_zero_point's dtype ${Z.dtype}`);
    const outType: DType = Z?.dtype ?? od ?? 'uint8';
    if (!QUANT_TYPES.includes(outType)) ctx.unsupported(`quantizing to ${outType} is not supported`);
    const si = paramIndex(ctx, X.dims, S, axis, blockSize, 'y_scale');
    const zi = Z ? paramIndex(ctx, X.dims, Z, axis, blockSize, 'y_zero_point') : undefined;
    const x = f64(X);
    const s = f64(S);
    const z = Z ? f64(Z) : undefined;
    // x / scale is computed in the input's precision (float32 for float32 and int32 inputs)
    const prec = isFloat(X.dtype) && X.dtype !== 'float64' ? rounderFor(X.dtype) ?? Math.fround : X.dtype === 'float64' ? (v: number) => v : Math.fround;
    const out = new Float64Array(x.length);
    if (isFloat(outType)) {
      const r = rounderFor(outType, saturate !== 0)!;
      for (let i = 0; i < x.length; i++) out[i] = r(prec(x[i] / s[si[i]]) + (z ? z[zi![i]] : 0));
      return [new Tensor(outType, X.dims, Float32Array.from(out))];
    }
    const [lo, hi] = integerRange(outType);
    for (let i = 0; i < x.length; i++) {
      const q = rint(prec(x[i] / s[si[i]])) + (z ? z[zi![i]] : 0);
      out[i] = Number.isNaN(q) ? 0 : Math.min(hi, Math.max(lo, q));
    }
    return [Tensor.from(outType, X.dims, out)];
  },
};

export const DequantizeLinear: OpDef = {
  opType: 'DequantizeLinear',
  kernel: dequantizeKernel,
  traits: { packedStorage: true, byteStorage: { inputs: [0], outputs: [] } },
  sinceVersion: 10,
  inferShape(ctx, [x, s]) {
    const od = ctx.opset >= 23 ? ctx.attrs.int('output_dtype', 0) : 0;
    const dtype: DType = od ? (dtypeFromOnnx(od) ?? 'float32') : s?.dtype ?? 'float32';
    return [{ dtype, shape: x?.shape?.slice() }];
  },
  reference(ctx, inputs) {
    const X = need(ctx, inputs, 0, 'x');
    const S = need(ctx, inputs, 1, 'x_scale');
    const Z = inputs[2];
    const axis = ctx.opset >= 13 ? ctx.attrs.int('axis', 1) : 1;
    const blockSize = ctx.opset >= 21 ? ctx.attrs.int('block_size', 0) : 0;
    const od = ctx.opset >= 23 ? attrDType(ctx, ctx.attrs.int('output_dtype', 0)) : undefined;
    if (Z && Z.dtype !== X.dtype) ctx.fail(`x_zero_point's dtype ${Z.dtype} differs from x's ${X.dtype}`);
    if (!isFloat(S.dtype)) ctx.fail(`x_scale must be floating-point, got ${S.dtype}`);
    const outType: DType = od ?? S.dtype;
    if (!isFloat(outType)) ctx.fail(`output_dtype must be floating-point, got ${outType}`);
    const si = paramIndex(ctx, X.dims, S, axis, blockSize, 'x_scale');
    const zi = Z ? paramIndex(ctx, X.dims, Z, axis, blockSize, 'x_zero_point') : undefined;
    const x = f64(X);
    const s = f64(S);
    const z = Z ? f64(Z) : undefined;
    const out = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = (x[i] - (z ? z[zi![i]] : 0)) * s[si[i]];
    return [floatTensor(outType, X.dims, out)];
  },
};

export const DynamicQuantizeLinear: OpDef = {
  opType: 'DynamicQuantizeLinear',
  kernel: dynamicQuantizeKernel,
  sinceVersion: 11,
  inferShape(_ctx, [x]) {
    return [{ dtype: 'uint8', shape: x?.shape?.slice() }, { dtype: 'float32', shape: [] }, { dtype: 'uint8', shape: [] }];
  },
  reference(ctx, inputs) {
    const X = need(ctx, inputs, 0, 'x');
    if (!isFloat(X.dtype)) ctx.fail(`x must be floating-point, got ${X.dtype}`);
    const x = f64(X);
    let mn = 0;
    let mx = 0;
    for (let i = 0; i < x.length; i++) {
      if (x[i] < mn) mn = x[i];
      if (x[i] > mx) mx = x[i];
    }
    const f = Math.fround;
    const scale = f(f(mx - mn) / 255);
    const clamp = (v: number) => (Number.isNaN(v) ? 0 : Math.min(255, Math.max(0, v)));
    const zp = scale === 0 ? 0 : clamp(rint(f(0 - f(mn / scale))));
    const y = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) y[i] = scale === 0 ? zp : clamp(rint(f(x[i] / scale)) + zp);
    return [Tensor.from('uint8', X.dims, y), Tensor.scalar('float32', scale), Tensor.scalar('uint8', zp)];
  },
};
