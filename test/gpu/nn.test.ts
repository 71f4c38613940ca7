/** GPU kernels of the nn family (Conv, Gemm, MatMul, pools, normalizations) against the reference. */
import { strict as assert } from 'assert';
import { Attr } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { Device } from '../../src/gpu';
import { openDevice } from '../helpers/gpu';
import { checkOp, randomTensor } from '../helpers/gpu-op';

const ints = (value: number[]): Attr => ({ type: 'ints', value });
const int = (value: number): Attr => ({ type: 'int', value });
const float = (value: number): Attr => ({ type: 'float', value });
const str = (value: string): Attr => ({ type: 'string', value });
const f = (dims: number[], seed: number, lo = -2, hi = 2): Tensor => randomTensor('float32', dims, seed, lo, hi);

describe('GPU nn kernels', function () {
  this.timeout(300000);
  let device: Device;
  /** The candidate pinned first for the cases of the current block (preferKernel). */
  let pinned: string | undefined;
  const check = (c: Parameters<typeof checkOp>[1]) => checkOp(device, c, { kernel: pinned });
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());

  for (const pin of ['conv_implicit_gemm', 'conv_implicit_gemm_splitk', 'conv_direct']) describe(`Conv (${pin} first where it applies)`, () => {
    before(() => (pinned = pin));
    after(() => (pinned = undefined));
    const conv = (x: number[], w: number[], attrs: Record<string, Attr>, seed: number, bias = true, extra: Partial<Parameters<typeof checkOp>[1]> = {}) =>
      check({
        op: 'Conv', attrs,
        inputs: [f(x, seed), f(w, seed + 1, -1, 1), ...(bias ? [f([w[0]], seed + 2)] : [])],
        constant: bias ? [1, 2] : [1], rtol: 1e-4, atol: 1e-4, ...extra,
      });
    it('2-D: pads, strides, dilations, odd sizes, with and without bias', async () => {
      await conv([1, 3, 13, 13], [8, 3, 3, 3], { pads: ints([1, 1, 1, 1]) }, 1);
      await conv([2, 5, 9, 7], [17, 5, 3, 2], { strides: ints([2, 1]), dilations: ints([1, 2]), pads: ints([0, 1, 2, 0]) }, 2, false);
      await conv([1, 1, 1, 1], [1, 1, 1, 1], {}, 3);
      await conv([1, 16, 13, 11], [70, 16, 3, 3], { pads: ints([1, 1, 1, 1]), strides: ints([2, 2]) }, 4);
      await conv([3, 20, 7, 7], [33, 20, 1, 1], {}, 5);
    });
    it('1-D and 3-D', async () => {
      await conv([2, 4, 127], [6, 4, 5], { pads: ints([2, 1]), strides: ints([3]) }, 10);
      await conv([1, 3, 5, 6, 7], [4, 3, 3, 2, 3], { pads: ints([1, 0, 1, 1, 0, 1]) }, 11);
    });
    it('groups and depthwise', async () => {
      await conv([1, 8, 13, 13], [8, 1, 3, 3], { group: int(8), pads: ints([1, 1, 1, 1]) }, 20);
      await conv([2, 6, 9, 9], [9, 2, 3, 3], { group: int(3), strides: ints([2, 2]) }, 21);
      await conv([1, 64, 10, 10], [64, 16, 3, 3], { group: int(4), pads: ints([1, 1, 1, 1]) }, 22);
      await conv([1, 32, 15, 15], [32, 1, 5, 5], { group: int(32), pads: ints([2, 2, 2, 2]), strides: ints([2, 2]) }, 23, false);
    });
    it('auto_pad SAME_UPPER, SAME_LOWER, VALID', async () => {
      for (const [k, ap] of ['SAME_UPPER', 'SAME_LOWER', 'VALID'].entries()) {
        await conv([1, 3, 10, 9], [5, 3, 4, 3], { auto_pad: str(ap), strides: ints([2, 2]) }, 30 + k);
      }
    });
    it('fused activations and residual', async () => {
      const acts: [string, number?, number?][] = [['Relu'], ['Clip', 0, 6], ['LeakyRelu', 0.1], ['Sigmoid'], ['HardSigmoid'], ['HardSwish'], ['Tanh'], ['Elu', 0.5], ['Silu']];
      for (const [k, [name, a, b]] of acts.entries()) {
        const attrs: Record<string, Attr> = { pads: ints([1, 1, 1, 1]), vkrt_activation: str(name) };
        if (a !== undefined) attrs.vkrt_alpha = float(a);
        if (b !== undefined) attrs.vkrt_beta = float(b);
        await conv([1, 16, 6, 5], [20, 16, 3, 3], attrs, 40 + k);
        await conv([1, 4, 6, 5], [4, 1, 3, 3], { ...attrs, group: int(4) }, 50 + k);
      }
      // residual (input 3), with and without bias
      await check({ op: 'Conv', attrs: { vkrt_activation: str('Relu') }, inputs: [f([1, 16, 5, 5], 60), f([24, 16, 1, 1], 61), f([24], 62), f([1, 24, 5, 5], 63)], constant: [1, 2], atol: 1e-4 });
      await check({ op: 'Conv', inputs: [f([1, 2, 5, 5], 64), f([2, 1, 3, 3], 65), null, f([1, 2, 3, 3], 66)], attrs: { group: int(2) }, constant: [1], atol: 1e-4 });
    });
    it('weights as runtime inputs', async () => {
      await check({ op: 'Conv', attrs: { pads: ints([1, 1, 1, 1]) }, inputs: [f([1, 3, 8, 8], 70), f([4, 3, 3, 3], 71), f([4], 72)], atol: 1e-4 });
    });
  });
  for (const pin of ['tiled', 'simple', 'rowdot', 'splitk']) describe(`Gemm and MatMul (${pin} first)`, () => {
    after(() => (pinned = undefined));
    beforeEach(function () { pinned = this.currentTest!.title.startsWith('Gemm') ? `gemm_${pin}` : `matmul_${pin}`; });
    it('MatMul: 2-D odd sizes, 1-D operands', async () => {
      for (const [k, [m, kk, n]] of [[1, 1, 1], [3, 5, 7], [13, 127, 3], [65, 33, 70], [128, 16, 64]].entries()) {
        await check({ op: 'MatMul', inputs: [f([m, kk], 100 + k), f([kk, n], 110 + k)], atol: 1e-4 });
      }
      await check({ op: 'MatMul', inputs: [f([13], 120), f([13, 7], 121)], atol: 1e-4 });
      await check({ op: 'MatMul', inputs: [f([2, 5, 13], 122), f([13], 123)], atol: 1e-4 });
      await check({ op: 'MatMul', inputs: [f([13], 124), f([13], 125)], atol: 1e-4 });
    });
    it('MatMul: batched with broadcasting, constant weights, empty K, int32', async () => {
      await check({ op: 'MatMul', inputs: [f([2, 3, 17, 9], 130), f([9, 20], 131)], constant: [1], atol: 1e-4 });
      await check({ op: 'MatMul', inputs: [f([2, 1, 5, 9], 132), f([1, 3, 9, 4], 133)], atol: 1e-4 });
      await check({ op: 'MatMul', inputs: [f([4, 3, 2, 5, 6], 134), f([3, 1, 6, 7], 135)], atol: 1e-4 });
      await check({ op: 'MatMul', inputs: [f([3, 0], 136), f([0, 4], 137)] });
      await check({ op: 'MatMul', inputs: [randomTensor('int32', [5, 7], 138, -9, 9), randomTensor('int32', [2, 7, 3], 139, -9, 9)], rtol: 0, atol: 0 });
      await check({ op: 'MatMul', inputs: [f([70, 33], 140), f([33, 65], 141)], attrs: { vkrt_activation: str('Relu') }, atol: 1e-4 });
    });
    it('Gemm: transposes, alpha, beta, C broadcasts, activation', async () => {
      const cases: [number, number, number, number, number, number[] | null][] = [
        [3, 5, 7, 0, 0, [7]], [13, 9, 70, 1, 0, [13, 1]], [65, 17, 3, 0, 1, [65, 3]], [1, 127, 1, 1, 1, []], [66, 67, 68, 1, 1, null], [5, 4, 3, 0, 0, [1, 1]],
      ];
      for (const [k, [m, kk, n, ta, tb, c]] of cases.entries()) {
        const a = f(ta ? [kk, m] : [m, kk], 150 + k), b = f(tb ? [n, kk] : [kk, n], 160 + k);
        const inputs = c ? [a, b, f(c, 170 + k)] : [a, b];
        await check({ op: 'Gemm', attrs: { transA: int(ta), transB: int(tb), alpha: float(0.5 + k), beta: float(k % 2 ? -1 : 2) }, inputs, constant: c ? [1, 2] : [1], atol: 1e-4 });
      }
      await check({ op: 'Gemm', attrs: { transB: int(1), vkrt_activation: str('Clip'), vkrt_alpha: float(0), vkrt_beta: float(1) }, inputs: [f([4, 20], 180), f([30, 20], 181), f([30], 182)], constant: [1, 2], atol: 1e-4 });
      await check({ op: 'Gemm', inputs: [randomTensor('int32', [4, 6], 183, -9, 9), randomTensor('int32', [6, 5], 184, -9, 9)], rtol: 0, atol: 0 });
    });
  });
  describe('pools', () => {
    it('MaxPool: pads, strides, dilations, ceil_mode, 1-D/2-D/3-D, Indices, int8', async () => {
      const cases: [number[], Record<string, Attr>][] = [
        [[1, 3, 13, 13], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) }],
        [[2, 2, 9, 8], { kernel_shape: ints([3, 2]), strides: ints([2, 3]), ceil_mode: int(1) }],
        [[1, 2, 10, 10], { kernel_shape: ints([2, 2]), dilations: ints([2, 2]), pads: ints([0, 1, 1, 0]) }],
        [[1, 3, 127], { kernel_shape: ints([4]), strides: ints([3]), auto_pad: str('SAME_UPPER') }],
        [[1, 2, 5, 6, 7], { kernel_shape: ints([2, 3, 2]), strides: ints([2, 2, 2]), ceil_mode: int(1) }],
      ];
      for (const [k, [x, attrs]] of cases.entries()) await check({ op: 'MaxPool', attrs, inputs: [f(x, 200 + k)] });
      await check({ op: 'MaxPool', attrs: { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) }, inputs: [f([2, 3, 5, 7], 210)], outputs: 2, rtol: 0, atol: 0 });
      await check({ op: 'MaxPool', attrs: { kernel_shape: ints([2, 2]), storage_order: int(1) }, inputs: [f([1, 2, 5, 4], 211)], outputs: 2, rtol: 0, atol: 0 });
      await check({ op: 'MaxPool', attrs: { kernel_shape: ints([2, 2]) }, inputs: [randomTensor('int8', [1, 2, 5, 5], 212, -100, 100)], rtol: 0, atol: 0 });
    });
    it('AveragePool: count_include_pad, ceil_mode; LpPool', async () => {
      for (const [k, cip] of [0, 1].entries()) {
        await check({ op: 'AveragePool', attrs: { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 2, 2]), count_include_pad: int(cip) }, inputs: [f([1, 3, 13, 12], 220 + k)] });
        await check({ op: 'AveragePool', attrs: { kernel_shape: ints([3, 3]), strides: ints([2, 2]), ceil_mode: int(1), pads: ints([1, 1, 1, 1]), count_include_pad: int(cip) }, inputs: [f([2, 2, 8, 9], 222 + k)] });
        await check({ op: 'AveragePool', attrs: { kernel_shape: ints([5]), auto_pad: str('SAME_LOWER'), count_include_pad: int(cip) }, inputs: [f([1, 3, 127], 224 + k)] });
      }
      await check({ op: 'LpPool', attrs: { kernel_shape: ints([2, 3]), p: int(3), pads: ints([1, 0, 1, 1]) }, inputs: [f([1, 3, 7, 8], 230)], rtol: 1e-3 });
      await check({ op: 'LpPool', attrs: { kernel_shape: ints([3]), strides: ints([2]) }, inputs: [f([2, 2, 13], 231)], rtol: 1e-3 });
    });
    it('global pools over odd extents', async () => {
      for (const [k, x] of [[1, 3, 13, 13], [2, 5, 1, 1], [1, 1, 1000], [3, 2, 3, 4, 5]].entries()) {
        for (const op of ['GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool']) await check({ op, inputs: [f(x, 240 + k)], rtol: 1e-3, atol: 1e-4 });
      }
    });
  });
  describe('normalizations', () => {
    it('BatchNormalization (inference), constant and runtime statistics', async () => {
      for (const [k, x] of [[2, 3, 5, 7], [1, 13, 127], [3, 4], [1, 2, 3, 4, 5]].entries()) {
        const C = x[1];
        const inputs = [f(x, 300 + k), f([C], 310 + k), f([C], 320 + k), f([C], 330 + k), f([C], 340 + k, 0.1, 2)];
        await check({ op: 'BatchNormalization', attrs: { epsilon: float(1e-3) }, inputs, constant: k % 2 ? [] : [1, 2, 3, 4], atol: 1e-4 });
      }
    });
    it('LayerNormalization: axes, broadcast scale, Mean/InvStdDev outputs; RMSNormalization', async () => {
      await check({ op: 'LayerNormalization', inputs: [f([2, 3, 127], 350), f([127], 351), f([127], 352)], constant: [1, 2], atol: 1e-4 });
      await check({ op: 'LayerNormalization', attrs: { axis: int(1), epsilon: float(1e-3) }, inputs: [f([3, 4, 5], 353), f([4, 5], 354), f([5], 355)], outputs: 3, atol: 1e-4 });
      await check({ op: 'LayerNormalization', attrs: { axis: int(-2) }, inputs: [f([2, 13, 3], 356), f([13, 1], 357)], atol: 1e-4 });
      await check({ op: 'LayerNormalization', attrs: { axis: int(0) }, inputs: [f([1000], 358), f([1], 359)], outputs: 3, atol: 1e-4 });
      await check({ op: 'RMSNormalization', opset: 23, inputs: [f([2, 3, 13], 360), f([13], 361)], atol: 1e-4 });
      await check({ op: 'RMSNormalization', opset: 23, attrs: { axis: int(1) }, inputs: [f([4, 3, 7], 362), f([3, 7], 363)], atol: 1e-4 });
    });
    it('InstanceNormalization and GroupNormalization (opsets 18 and 21)', async () => {
      await check({ op: 'InstanceNormalization', inputs: [f([2, 3, 13, 5], 370), f([3], 371), f([3], 372)], constant: [1, 2], atol: 1e-4 });
      await check({ op: 'InstanceNormalization', inputs: [f([1, 5, 1000], 373), f([5], 374), f([5], 375)], atol: 1e-4 });
      await check({ op: 'GroupNormalization', opset: 21, attrs: { num_groups: int(2), epsilon: float(1e-3) }, inputs: [f([2, 6, 5, 3], 376), f([6], 377), f([6], 378)], atol: 1e-4 });
      await check({ op: 'GroupNormalization', opset: 18, attrs: { num_groups: int(3) }, inputs: [f([1, 6, 7], 379), f([3], 380), f([3], 381)], atol: 1e-4 });
    });
    it('LRN and LpNormalization', async () => {
      for (const [k, size] of [1, 2, 3, 5].entries()) {
        await check({ op: 'LRN', attrs: { size: int(size), alpha: float(0.001 * (k + 1)), beta: float(0.75), bias: float(1 + k) }, inputs: [f([2, 7, 3, 5], 390 + k)], atol: 1e-5 });
      }
      for (const [k, [x, axis, p]] of [[[3, 13], -1, 2], [[2, 5, 7], 1, 1], [[13, 3], 0, 2], [[1, 1], 1, 1]].entries() as Iterable<[number, [number[], number, number]]>) {
        await check({ op: 'LpNormalization', attrs: { axis: int(axis), p: int(p) }, inputs: [f(x, 395 + k)], atol: 1e-5 });
      }
    });
  });
  it('ConvTranspose: strides, pads, dilations, groups, output_padding/output_shape, 1-D/3-D, activation', async () => {
    const ct = (x: number[], w: number[], attrs: Record<string, Attr>, seed: number, bias = true) =>
      check({ op: 'ConvTranspose', attrs, inputs: [f(x, seed), f(w, seed + 1, -1, 1), ...(bias ? [f([w[1] * ((attrs.group?.value as number) ?? 1)], seed + 2)] : [])], constant: bias ? [1, 2] : [1], atol: 1e-4 });
    await ct([1, 3, 5, 6], [3, 4, 3, 3], { strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) }, 400);
    await ct([2, 4, 7, 5], [4, 3, 2, 3], { strides: ints([3, 2]), dilations: ints([2, 1]), group: int(2), output_padding: ints([1, 0]) }, 410, false);
    await ct([1, 2, 13], [2, 5, 4], { strides: ints([2]), auto_pad: str('SAME_UPPER') }, 420);
    await ct([1, 2, 3, 4, 5], [2, 2, 3, 3, 2], { strides: ints([1, 2, 2]), pads: ints([1, 0, 1, 0, 1, 0]) }, 430);
    await ct([1, 3, 4, 4], [3, 2, 3, 3], { strides: ints([2, 2]), output_shape: ints([10, 9]) }, 440);
    await ct([1, 3, 4, 4], [3, 2, 3, 3], { strides: ints([2, 2]), vkrt_activation: str('LeakyRelu'), vkrt_alpha: float(0.2) }, 450);
  });
  it('QuantizeLinear and DequantizeLinear: per-tensor and per-axis, int8/uint8/int4', async () => {
    await check({ op: 'QuantizeLinear', inputs: [f([3, 13], 500, -50, 50), Tensor.scalar('float32', 0.37), Tensor.scalar('uint8', 128)], constant: [1, 2], rtol: 0, atol: 0 });
    await check({ op: 'QuantizeLinear', attrs: { axis: int(-2) }, inputs: [f([2, 4, 5], 501, -50, 50), f([4], 502, 0.2, 2), randomTensor('int8', [4], 503, -5, 5)], constant: [1, 2], rtol: 0, atol: 0 });
    await check({ op: 'QuantizeLinear', inputs: [f([13], 504, -9, 9), Tensor.scalar('float32', 0.5), Tensor.scalar('int4', 1)], rtol: 0, atol: 0 });
    await check({ op: 'DequantizeLinear', inputs: [randomTensor('uint8', [3, 13], 505, 0, 255), Tensor.scalar('float32', 0.25), Tensor.scalar('uint8', 100)], constant: [1, 2] });
    await check({ op: 'DequantizeLinear', attrs: { axis: int(1) }, inputs: [randomTensor('int8', [2, 4, 5], 506, -100, 100), f([4], 507, 0.1, 1), randomTensor('int8', [4], 508, -5, 5)] });
    await check({ op: 'DequantizeLinear', inputs: [randomTensor('int32', [7], 509, -1000, 1000), Tensor.scalar('float32', 0.01)] });
  });
  it('GridSample: modes, paddings, align_corners, 2-D and 3-D', async () => {
    let seed = 600;
    for (const mode of ['nearest', 'linear', 'cubic']) for (const padding_mode of ['zeros', 'border', 'reflection']) for (const ac of [0, 1]) {
      await check({ op: 'GridSample', opset: 22, attrs: { mode: str(mode), padding_mode: str(padding_mode), align_corners: int(ac) }, inputs: [f([2, 3, 5, 7], seed++), f([2, 4, 6, 2], seed++, -1.3, 1.3)], rtol: 1e-3, atol: 1e-4 });
    }
    await check({ op: 'GridSample', opset: 22, attrs: { mode: str('linear') }, inputs: [f([1, 2, 3, 4, 5], seed++), f([1, 2, 3, 4, 3], seed++, -1.2, 1.2)], rtol: 1e-3, atol: 1e-4 });
  });
});
