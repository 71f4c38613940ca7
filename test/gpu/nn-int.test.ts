/**
 * GPU kernels of the integer / quantized nn ops (ConvInteger, QLinearConv, MatMulInteger,
 * QLinearMatMul, DynamicQuantizeLinear, blocked QuantizeLinear / DequantizeLinear) against the
 * reference: exact integer results (atol 0) in both param modes, every GEMM candidate pinned.
 */
import { strict as assert } from 'assert';
import { Attr } from '../../src/ir/graph';
import { DType } from '../../src/ir/dtype';
import { Tensor } from '../../src/ir/tensor';
import { Device } from '../../src/gpu';
import { openDevice } from '../helpers/gpu';
import { OpCase, checkOp, randomTensor } from '../helpers/gpu-op';

const ints = (value: number[]): Attr => ({ type: 'ints', value });
const int = (value: number): Attr => ({ type: 'int', value });
const q = (dtype: DType, dims: number[], seed: number): Tensor =>
  randomTensor(dtype, dims, seed, dtype === 'uint8' ? 0 : -128, dtype === 'uint8' ? 255 : 127);
const f = (dims: number[], seed: number, lo = -2, hi = 2): Tensor => randomTensor('float32', dims, seed, lo, hi);
const scalar = (dtype: DType, v: number): Tensor => Tensor.from(dtype, [], [v]);
const vec = (dtype: DType, vals: number[]): Tensor => Tensor.from(dtype, [vals.length], vals);

describe('GPU nn integer / quantized kernels', function () {
  this.timeout(300000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());

  /**
   * Runs the case once per candidate (tiled, simple and rowdot pinned first), the uint8/int8 data
   * held one byte per element (the engine's inputs and outputs converted), then the tiled candidate
   * with int8/uint8 held as int32.
   */
  const both = async (prefix: string, c: OpCase) => {
    for (const pin of ['tiled', 'simple', 'rowdot']) {
      await checkOp(device, { rtol: 0, atol: 0, ...c }, { kernel: `${prefix}_${pin}`, int8Storage: true });
    }
    await checkOp(device, { rtol: 0, atol: 0, ...c }, { kernel: `${prefix}_tiled`, int8Storage: false });
  };

  describe('ConvInteger', () => {
    const ci = (x: Tensor, w: Tensor, attrs: Record<string, Attr>, xzp?: Tensor, wzp?: Tensor, constW = true) =>
      both('convinteger', { op: 'ConvInteger', opset: 10, attrs, inputs: [x, w, xzp ?? null, wzp ?? null], constant: constW ? [1] : [] });
    it('2-D uint8, per-tensor zero points, pads and strides, odd sizes', async () => {
      await ci(q('uint8', [1, 3, 13, 13], 1), q('uint8', [8, 3, 3, 3], 2), { pads: ints([1, 1, 1, 1]) }, scalar('uint8', 131), scalar('uint8', 7));
      await ci(q('uint8', [2, 5, 9, 7], 3), q('uint8', [17, 5, 3, 2], 4), { strides: ints([2, 1]), dilations: ints([1, 2]), pads: ints([0, 1, 2, 0]) }, scalar('uint8', 3));
      await ci(q('uint8', [1, 1, 1, 1], 5), q('uint8', [1, 1, 1, 1], 6), {}, undefined, undefined, false);
      await ci(q('uint8', [1, 16, 13, 11], 7), q('uint8', [70, 16, 3, 3], 8), { pads: ints([1, 1, 1, 1]), strides: ints([2, 2]) }, scalar('uint8', 128), scalar('uint8', 100));
    });
    it('int8, per-channel w zero point, groups, 1-D and 3-D, auto_pad', async () => {
      const wzp = Tensor.from('int8', [6], [-3, 0, 5, 1, -1, 2]);
      await ci(q('int8', [2, 6, 9, 9], 10), q('int8', [6, 2, 3, 3], 11), { group: int(3), strides: ints([2, 2]) }, scalar('int8', -5), wzp);
      await ci(q('int8', [1, 8, 13, 13], 12), q('int8', [8, 1, 3, 3], 13), { group: int(8), pads: ints([1, 1, 1, 1]) }, scalar('int8', 1));
      await ci(q('uint8', [2, 4, 127], 14), q('uint8', [6, 4, 5], 15), { pads: ints([2, 1]), strides: ints([3]) }, scalar('uint8', 9), vec('uint8', [1, 2, 3, 4, 5, 6]));
      await ci(q('uint8', [1, 3, 5, 6, 7], 16), q('uint8', [4, 3, 3, 2, 3], 17), { pads: ints([1, 0, 1, 1, 0, 1]) }, scalar('uint8', 2));
      await ci(q('uint8', [1, 3, 10, 9], 18), q('uint8', [5, 3, 4, 3], 19), { auto_pad: { type: 'string', value: 'SAME_LOWER' }, strides: ints([2, 2]) }, scalar('uint8', 200), scalar('uint8', 1), false);
    });
  });

  describe('QLinearConv', () => {
    const qc = (x: Tensor, w: Tensor, attrs: Record<string, Attr>, opts: { xs?: number; xzp?: Tensor; ws?: Tensor; wzp?: Tensor; ys?: number; yzp?: Tensor; bias?: Tensor } = {}) => {
      const t = x.dtype;
      return both('qlinearconv', {
        op: 'QLinearConv', opset: 10, attrs,
        inputs: [x, scalar('float32', opts.xs ?? 0.0235), opts.xzp ?? scalar(t, t === 'uint8' ? 120 : -3), w, opts.ws ?? scalar('float32', 0.0121),
          opts.wzp ?? scalar(w.dtype, w.dtype === 'uint8' ? 130 : 2), scalar('float32', opts.ys ?? 0.35), opts.yzp ?? scalar(t, t === 'uint8' ? 100 : 4), opts.bias ?? null],
        constant: [3, 4, 5],
      });
    };
    it('uint8 and int8, bias, per-channel w scale and zero point, groups', async () => {
      await qc(q('uint8', [1, 3, 13, 13], 20), q('uint8', [8, 3, 3, 3], 21), { pads: ints([1, 1, 1, 1]) });
      await qc(q('uint8', [2, 4, 7, 9], 22), q('uint8', [5, 4, 3, 3], 23), { strides: ints([2, 1]) },
        { bias: randomTensor('int32', [5], 24, -3000, 3000), ws: vec('float32', [0.01, 0.02, 0.005, 0.03, 0.0125]), wzp: vec('uint8', [120, 130, 128, 0, 255]) });
      await qc(q('int8', [1, 6, 11, 11], 25), q('int8', [12, 2, 3, 3], 26), { group: int(3), pads: ints([1, 1, 1, 1]) }, { bias: randomTensor('int32', [12], 27, -500, 500) });
      await qc(q('uint8', [1, 32, 9, 9], 28), q('uint8', [40, 32, 1, 1], 29), {}, { ys: 0.8 });
      await qc(q('uint8', [1, 2, 5], 30), q('uint8', [3, 2, 3], 31), { pads: ints([1, 1]) });
    });
    it('ties round half to even', async () => {
      // products whose scaled values land exactly on .5: x_s * w_s / y_s = 0.5
      const x = Tensor.from('uint8', [1, 1, 2, 2], [1, 3, 5, 7]);
      const w = Tensor.from('uint8', [1, 1, 1, 1], [1]);
      await qc(x, w, {}, { xs: 0.5, xzp: scalar('uint8', 0), ws: scalar('float32', 1), wzp: scalar('uint8', 0), ys: 1, yzp: scalar('uint8', 10) });
    });
  });

  describe('QLinearConv / QLinearMatMul fused epilogue (vkrt_activation)', () => {
    const str = (value: string): Attr => ({ type: 'string', value });
    const flt = (value: number): Attr => ({ type: 'float', value });
    // Relu is exact (it commutes with the scale); the others act on a float32 real value on the GPU,
    // float64 in the reference, so they may round to the neighbouring quantized value
    const acts: [Record<string, Attr>, number][] = [
      [{ vkrt_activation: str('Relu') }, 0],
      [{ vkrt_activation: str('Clip'), vkrt_alpha: flt(-0.3), vkrt_beta: flt(0.6) }, 1],
      [{ vkrt_activation: str('LeakyRelu'), vkrt_alpha: flt(0.1) }, 1],
      [{ vkrt_activation: str('Sigmoid') }, 1],
      [{ vkrt_activation: str('HardSwish') }, 1],
    ];
    it('QLinearConv: uint8 and int8, bias, per-channel w scale, groups', async () => {
      for (const [attrs, atol] of acts) {
        await both('qlinearconv', {
          op: 'QLinearConv', opset: 10, attrs: { ...attrs, pads: ints([1, 1, 1, 1]) }, atol, rtol: 0,
          inputs: [q('uint8', [2, 4, 7, 9], 110), scalar('float32', 0.0235), scalar('uint8', 120), q('int8', [6, 4, 3, 3], 111),
            vec('float32', [0.01, 0.02, 0.005, 0.03, 0.0125, 0.004]), scalar('int8', 0), scalar('float32', 0.03), scalar('uint8', 128), randomTensor('int32', [6], 112, -3000, 3000)],
          constant: [3, 4, 5, 8],
        });
        await both('qlinearconv', {
          op: 'QLinearConv', opset: 10, attrs: { ...attrs, group: int(2), strides: ints([2, 1]) }, atol, rtol: 0,
          inputs: [q('int8', [1, 4, 9, 5], 113), scalar('float32', 0.02), scalar('int8', -3), q('int8', [6, 2, 3, 1], 114),
            scalar('float32', 0.011), scalar('int8', 1), scalar('float32', 0.05), scalar('int8', -7), null],
          constant: [3, 4, 5],
        });
      }
    });
    it('QLinearMatMul: uint8 x int8, odd sizes', async () => {
      for (const [attrs, atol] of acts) {
        await both('qlinearmatmul', {
          op: 'QLinearMatMul', opset: 10, attrs, atol, rtol: 0,
          inputs: [q('uint8', [2, 19, 37], 115), scalar('float32', 0.0235), scalar('uint8', 120), q('int8', [37, 21], 116),
            scalar('float32', 0.01), scalar('int8', 0), scalar('float32', 0.06), scalar('uint8', 128)],
          constant: [3],
        });
      }
    });
  });

  describe('MatMulInteger', () => {
    const mi = (a: Tensor, b: Tensor, azp?: Tensor, bzp?: Tensor, constB = false) =>
      both('matmulinteger', { op: 'MatMulInteger', opset: 10, inputs: [a, b, azp ?? null, bzp ?? null], constant: constB ? [1] : [] });
    it('2-D, odd sizes, per-tensor zero points', async () => {
      for (const [M, K, N] of [[1, 1, 1], [3, 13, 127], [67, 33, 70], [13, 1000, 3]]) {
        await mi(q('uint8', [M, K], M + K), q('uint8', [K, N], N), scalar('uint8', 12), scalar('uint8', 200), true);
      }
      await mi(q('int8', [5, 7], 40), q('int8', [7, 9], 41));
      await mi(q('uint8', [5, 7], 42), q('int8', [7, 9], 43), scalar('uint8', 128), scalar('int8', -1));
    });
    it('per-row / per-column zero points, batches and broadcasting, 1-D operands', async () => {
      await mi(q('uint8', [4, 6], 50), q('uint8', [6, 5], 51), vec('uint8', [1, 2, 3, 4]), vec('uint8', [9, 8, 7, 6, 5]));
      await mi(q('uint8', [2, 3, 4, 6], 52), q('uint8', [3, 6, 5], 53), scalar('uint8', 3), vec('uint8', [9, 8, 7, 6, 5]));
      await mi(q('uint8', [1, 3, 4, 6], 54), q('uint8', [2, 1, 6, 5], 55), undefined, scalar('uint8', 77));
      await mi(q('uint8', [6], 56), q('uint8', [2, 6, 3], 57), scalar('uint8', 5));
      await mi(q('uint8', [3, 6], 58), q('uint8', [6], 59), vec('uint8', [1, 2, 3]), scalar('uint8', 1));
      await mi(q('int8', [2, 4, 6], 60), q('int8', [2, 6, 5], 61), Tensor.from('int8', [2, 4, 1], [1, 2, 3, 4, 5, 6, 7, 8]), Tensor.from('int8', [2, 1, 5], [1, -2, 3, -4, 5, 6, -7, 8, 9, 10]));
    });
  });

  describe('QLinearMatMul', () => {
    const qm = (a: Tensor, b: Tensor, s: [number, number, number], azp: Tensor, bzp: Tensor, yzp: Tensor, opset = 10) =>
      both('qlinearmatmul', { op: 'QLinearMatMul', opset, inputs: [a, scalar('float32', s[0]), azp, b, scalar('float32', s[1]), bzp, scalar('float32', s[2]), yzp], constant: [3] });
    it('uint8 and int8, batches, per-row / per-column zero points', async () => {
      await qm(q('uint8', [3, 13], 70), q('uint8', [13, 127], 71), [0.0066, 0.00705, 0.0107], scalar('uint8', 113), scalar('uint8', 114), scalar('uint8', 118));
      await qm(q('uint8', [67, 33], 72), q('uint8', [33, 70], 73), [0.01, 0.02, 0.5], scalar('uint8', 128), scalar('uint8', 120), scalar('uint8', 90));
      await qm(q('int8', [2, 4, 6], 74), q('int8', [6, 5], 75), [0.05, 0.04, 0.01], vec('int8', [1, -2, 3, 0]), vec('int8', [3, 4, 5, 6, -7]), scalar('int8', -10));
      await qm(Tensor.from('uint8', [1, 4], [1, 3, 5, 7]), Tensor.from('uint8', [4, 1], [1, 0, 0, 0]), [0.5, 1, 1], scalar('uint8', 0), scalar('uint8', 0), scalar('uint8', 0));
    });
  });

  describe('DynamicQuantizeLinear', () => {
    const dq = (x: Tensor) => checkOp(device, { op: 'DynamicQuantizeLinear', opset: 11, inputs: [x], outputs: 3, rtol: 0, atol: 0 });
    it('odd sizes, all-positive, all-negative, zeros, large inputs', async () => {
      for (const n of [1, 3, 13, 127, 1000]) await dq(f([n], n, -3, 5));
      await dq(f([2, 3, 7], 80, 1, 4));
      await dq(f([5, 9], 81, -4, -1));
      await dq(Tensor.from('float32', [4], [0, 0, 0, 0]));
      await dq(Tensor.from('float32', [6], [0, 2, -3, -2.5, 1.34, 0.5]));
      await dq(f([3, 300, 301], 82, -10, 7));
    });
  });

  describe('QuantizeLinear / DequantizeLinear', () => {
    it('blocked scales and zero points, negative axis', async () => {
      const x = f([3, 10, 4], 90, -20, 20);
      const s = f([3, 4, 4], 91, 0.05, 0.3);
      await checkOp(device, { op: 'QuantizeLinear', opset: 21, attrs: { axis: int(1), block_size: int(3) }, inputs: [x, s, q('int8', [3, 4, 4], 92)], rtol: 0, atol: 0 });
      await checkOp(device, { op: 'QuantizeLinear', opset: 21, attrs: { axis: int(-1), block_size: int(2) }, inputs: [f([5, 7], 93, -5, 5), f([5, 4], 94, 0.02, 0.1)], rtol: 0, atol: 0 });
      await checkOp(device, { op: 'DequantizeLinear', opset: 21, attrs: { axis: int(0), block_size: int(4) }, inputs: [q('uint8', [9, 5], 95), f([3, 5], 96, 0.01, 1), q('uint8', [3, 5], 97)], rtol: 1e-6, atol: 1e-6 });
    });
    it('per-tensor and per-axis quantize (exact division), int32 input', async () => {
      await checkOp(device, { op: 'QuantizeLinear', opset: 13, attrs: { axis: int(-2) }, inputs: [f([2, 5, 3], 98, -30, 30), f([5], 99, 0.05, 0.5), q('uint8', [5], 100)], rtol: 0, atol: 0 });
      await checkOp(device, { op: 'QuantizeLinear', opset: 13, inputs: [f([127], 101, -3, 3), scalar('float32', 0.0235), scalar('int8', -3)], rtol: 0, atol: 0 });
      await checkOp(device, { op: 'QuantizeLinear', opset: 21, inputs: [randomTensor('int32', [13], 102, -1000, 1000), scalar('float32', 4), scalar('int16', 10)], rtol: 0, atol: 0 });
    });
  });
});
