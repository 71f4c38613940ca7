/**
 * FP16 kernels against the reference: every op family with an f16 variant, built in an FP16
 * engine (the layer must be FP16 in the plan), in both parameter modes, under the validation layer,
 * with FP16 tolerances (test/fp16/helpers.ts). Model inputs and outputs stay float32: the engine
 * converts on the GPU at its edges, so these also cover the conversion layers.
 */
import { strict as assert } from 'assert';
import { Device } from '../../src/gpu';
import { Attr } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { openDevice } from '../helpers/gpu';
import { ODD_SIZES, randomTensor } from '../helpers/gpu-op';
import { checkOpFp16, Fp16Case } from './helpers';

const ints = (value: number[]): Attr => ({ type: 'ints', value });
const int = (value: number): Attr => ({ type: 'int', value });
const str = (value: string): Attr => ({ type: 'string', value });
const f = (dims: number[], seed: number, lo = -1, hi = 1): Tensor => randomTensor('float32', dims, seed, lo, hi);

describe('FP16 GPU kernels', function () {
  this.timeout(600000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());
  const run = async (cases: Fp16Case[]) => { for (const c of cases) await checkOpFp16(device, c); };

  it('elementwise: unary, binary with broadcasting, comparisons, Where, Clip, Cast (odd sizes)', async () => {
    for (const [k, n] of ODD_SIZES.entries()) {
      await run([
        { op: 'Relu', inputs: [f([n], 100 + k)] },
        { op: 'Sigmoid', inputs: [f([n], 110 + k, -4, 4)] },
        { op: 'Tanh', inputs: [f([n], 120 + k, -3, 3)] },
        { op: 'Exp', inputs: [f([n], 130 + k, -3, 3)] },
        { op: 'Add', inputs: [f([2, n], 140 + k), f([n], 150 + k)], constant: [1] },
      ]);
    }
    await run([
      { op: 'Mul', inputs: [f([3, 1, 5], 1), f([4, 1], 2)] },
      { op: 'Div', inputs: [f([3, 13], 3), f([13], 4, 0.5, 2)] },
      { op: 'Sub', inputs: [f([2, 3, 4], 5), f([1], 6)], constant: [1] },
      { op: 'Greater', inputs: [f([3, 13], 7), f([3, 13], 8)] },
      { op: 'Where', inputs: [randomTensor('bool', [3, 13], 9), f([3, 13], 10), f([13], 11)] },
      { op: 'Clip', inputs: [f([127], 12, -3, 3), Tensor.from('float32', [], [-1]), Tensor.from('float32', [], [1.5])], constant: [1, 2] },
      { op: 'Cast', attrs: { to: int(1) }, inputs: [randomTensor('int64', [13], 13, -50, 50)] },
      { op: 'Cast', attrs: { to: int(7) }, inputs: [f([13], 14, -50, 50)] },
      { op: 'Sum', inputs: [f([5], 15), f([5], 16), f([5], 17)] },
      { op: 'Erf', inputs: [f([127], 18, -2, 2)] },
    ]);
  });

  it('data movement: Transpose, Concat, Slice, Gather, GatherElements, Expand, Split, Trilu', async () => {
    await run([
      { op: 'Transpose', attrs: { perm: ints([2, 0, 1]) }, inputs: [f([3, 5, 7], 1)], rtol: 0, atol: 1e-3 },
      { op: 'Concat', attrs: { axis: int(1) }, inputs: [f([2, 3, 4], 2), f([2, 5, 4], 3)] },
      { op: 'Slice', inputs: [f([5, 13], 4), Tensor.from('int64', [2], [1, 2]), Tensor.from('int64', [2], [4, 11])], constant: [1, 2] },
      { op: 'Gather', attrs: { axis: int(1) }, inputs: [f([3, 5, 4], 5), randomTensor('int64', [2, 3], 6, 0, 4)] },
      { op: 'GatherElements', attrs: { axis: int(0) }, inputs: [f([4, 3], 7), randomTensor('int64', [2, 3], 8, 0, 3)] },
      { op: 'Expand', inputs: [f([3, 1], 9), Tensor.from('int64', [2], [3, 4])], constant: [1] },
      { op: 'Split', attrs: { axis: int(0) }, opset: 18, inputs: [f([6, 3], 10), Tensor.from('int64', [2], [2, 4])], constant: [1], outputs: 2 },
      { op: 'Trilu', inputs: [f([5, 7], 11)] },
    ]);
  });

  it('nn: Conv (implicit GEMM, direct/depthwise, bias, fused activation), Gemm, MatMul', async () => {
    await run([
      { op: 'Conv', attrs: { pads: ints([1, 1, 1, 1]) }, inputs: [f([1, 3, 8, 8], 20), f([20, 3, 3, 3], 21), f([20], 22)], constant: [1, 2] },
      { op: 'Conv', attrs: { pads: ints([1, 1, 1, 1]), strides: ints([2, 2]), vkrt_activation: str('Relu') }, inputs: [f([2, 16, 9, 9], 23), f([32, 16, 3, 3], 24), f([32], 25)], constant: [1, 2], rtol: 1e-2, atol: 1e-2 },
      { op: 'Conv', attrs: { group: int(4) }, inputs: [f([1, 4, 7, 7], 26), f([4, 1, 3, 3], 27)], constant: [1] },
      { op: 'Conv', inputs: [f([1, 5, 13], 28), f([6, 5, 3], 29)], constant: [1] },
      { op: 'Gemm', attrs: { transB: int(1) }, inputs: [f([3, 40], 30), f([17, 40], 31), f([17], 32)], constant: [1, 2] },
      { op: 'MatMul', inputs: [f([2, 5, 33], 33), f([33, 7], 34)] },
      // a long dot product (K = 1000): FP32 accumulation keeps it within FP16 rounding of the inputs
      { op: 'MatMul', inputs: [f([4, 1000], 35), f([1000, 3], 36)], rtol: 2e-2, atol: 2e-2 },
    ]);
  });

  it('pools, normalizations, softmax, reductions, ArgMax', async () => {
    await run([
      { op: 'MaxPool', attrs: { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }, inputs: [f([1, 3, 9, 9], 40)] },
      { op: 'AveragePool', attrs: { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]), count_include_pad: int(1) }, inputs: [f([1, 3, 9, 9], 41)] },
      { op: 'LpPool', attrs: { kernel_shape: ints([2, 2]) }, inputs: [f([1, 3, 9, 9], 42)] },
      { op: 'GlobalAveragePool', inputs: [f([2, 3, 9, 9], 43)] },
      { op: 'GlobalMaxPool', inputs: [f([2, 3, 9, 9], 44)] },
      { op: 'BatchNormalization', inputs: [f([2, 3, 5, 5], 45), f([3], 46), f([3], 47), f([3], 48), f([3], 49, 0.5, 2)], constant: [1, 2, 3, 4] },
      { op: 'LayerNormalization', attrs: { axis: int(-1) }, inputs: [f([4, 32], 50), f([32], 51), f([32], 52)], constant: [1, 2] },
      { op: 'InstanceNormalization', inputs: [f([2, 3, 13], 53), f([3], 54), f([3], 55)], constant: [1, 2] },
      { op: 'Softmax', inputs: [f([3, 127], 56, -6, 6)] },
      { op: 'LogSoftmax', inputs: [f([3, 10], 57, -4, 4)] },
      { op: 'Softmax', attrs: { axis: int(0) }, inputs: [f([13, 5], 58, -4, 4)] },
      { op: 'ReduceSum', attrs: { axes: ints([1]) }, opset: 11, inputs: [f([4, 50, 3], 59)], atol: 1e-2 },
      { op: 'ReduceMean', attrs: { axes: ints([0, 2]) }, opset: 11, inputs: [f([4, 50, 3], 60)] },
      { op: 'ReduceMax', attrs: { axes: ints([1]), keepdims: int(0) }, opset: 11, inputs: [f([4, 13], 61)] },
      { op: 'ArgMax', attrs: { axis: int(1) }, inputs: [f([4, 50], 62)] },
    ]);
  });
});
