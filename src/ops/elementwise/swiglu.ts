/**
 * SwiGLU (ONNX opset 28, the onnx-node-extra tests): y = Swish(a, alpha) * b = a * sigmoid(alpha * a) * b,
 * with numpy broadcasting between a and b (its function body is Swish then Mul).
 */
import { KernelContext, KernelImpl } from '../../kernel/contract';
import { pointwiseDispatch } from '../../kernel/pointwise';
import { Tensor } from '../../ir/tensor';
import { OpDef, RuntimeValue } from '../types';
import { broadcastOrFail, indexMap, inferBroadcast, typeOf, requiredInput } from './driver';
import { FLOATS } from './scalar-table';

function swigluKernel(ctx: KernelContext): KernelImpl[] {
  const a = ctx.inputs[0]!, b = ctx.inputs[1]!;
  const d = pointwiseDispatch({
    name: 'swiglu', inputs: [{ gpu: a.gpu, dims: a.dims, as: 'float' }, { gpu: b.gpu, dims: b.dims, as: 'float' }],
    outDims: ctx.outputs[0].dims, outGpu: ctx.outputs[0].gpu, resultAs: 'float',
    expr: '(v0 / (1.0 + exp(-alpha * v0))) * v1', floatParams: { alpha: ctx.attrs.float('alpha', 1.0) },
  }, ctx.caps);
  return [{ name: 'pointwise_swiglu', dispatches: [d] }];
}

export const SwiGLU: OpDef = {
  opType: 'SwiGLU',
  inferShape(ctx, inputs) {
    const a = typeOf(ctx, inputs, 0), b = typeOf(ctx, inputs, 1);
    return [{ dtype: a.dtype, shape: inferBroadcast(ctx, [a.shape, b.shape]) }];
  },
  reference(ctx, inputs): RuntimeValue[] {
    const a = requiredInput(ctx, inputs, 0), b = requiredInput(ctx, inputs, 1);
    if (!FLOATS.includes(a.dtype) || b.dtype !== a.dtype) ctx.fail(`inputs must be floats of one dtype, got ${a.dtype} and ${b.dtype}`);
    const alpha = ctx.attrs.float('alpha', 1.0);
    const dims = broadcastOrFail(ctx, [a.dims, b.dims]);
    const ia = indexMap(a.dims, dims), ib = indexMap(b.dims, dims);
    const out = Tensor.zeros(a.dtype, dims);
    const x = a.data as Float32Array | Float64Array, y = b.data as Float32Array | Float64Array, o = out.data as Float32Array | Float64Array;
    for (let i = 0; i < o.length; i++) {
      const v = x[ia ? ia[i] : i];
      o[i] = (v / (1 + Math.exp(-alpha * v))) * y[ib ? ib[i] : i];
    }
    return [out];
  },
  kernel: swigluKernel,
};
