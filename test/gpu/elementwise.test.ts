/** GPU kernels of the elementwise family against the reference, generated from the registry. */
import { registry } from '../../src/ops';
import { ELEMENTWISE_SCALAR } from '../../src/ops/elementwise';
import { openDevice } from '../helpers/gpu';
import { checkOp, ODD_SIZES, randomTensor } from '../helpers/gpu-op';
import { Device } from '../../src/gpu';
import { Tensor } from '../../src/ir/tensor';
import { strict as assert } from 'assert';

describe('GPU elementwise kernels', function () {
  this.timeout(120000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());

  const unary = Object.entries(ELEMENTWISE_SCALAR).filter(([, d]) => d.arity === 1 && d.types.includes('float32') && d.out === 'same').map(([k]) => k);
  for (const op of unary) {
    it(`${op} on odd sizes`, async () => {
      for (const [k, n] of ODD_SIZES.entries()) {
        // domains that keep the math defined: positive for log/sqrt, [-1, 1] for asin/acos/atanh
        const [lo, hi] = ['Log', 'Sqrt', 'Reciprocal'].includes(op) ? [0.1, 3] : ['Asin', 'Acos', 'Atanh'].includes(op) ? [-0.9, 0.9] : op === 'Acosh' ? [1.1, 4] : [-3, 3];
        // GLSL's transcendental functions carry implementation-defined error (lavapipe's inverse
        // trig is good to ~2e-4 relative): those ops get ONNX's own rtol.
        const loose = ['Asin', 'Acos', 'Atan', 'Asinh', 'Acosh', 'Atanh', 'Tan', 'Sinh', 'Cosh', 'Erf', 'Gelu', 'Mish', 'Softplus', 'Selu', 'Celu', 'Elu'].includes(op);
        const since = ELEMENTWISE_SCALAR[op].since ?? 1;
        await checkOp(device, { op, opset: Math.max(21, since), inputs: [randomTensor('float32', [n], 100 + k, lo, hi)], rtol: loose ? 1e-3 : 1e-4 });
      }
    });
  }
  const binary = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'PRelu'];
  for (const op of binary) {
    it(`${op} with broadcasting`, async () => {
      const shapes: [number[], number[]][] = [[[13], [13]], [[2, 3, 4], [4]], [[2, 3, 4], [3, 1]], [[1, 3, 1, 5], [2, 1, 7, 1]], [[127], [1]]];
      for (const [k, [a, b]] of shapes.entries()) {
        if (op === 'PRelu' && (b.length > a.length || b.some((d, i) => d !== 1 && d !== a[a.length - b.length + i]))) continue;
        const [lo, hi] = op === 'Pow' ? [0.1, 2] : [-3, 3];
        await checkOp(device, { op, inputs: [randomTensor('float32', a, 200 + k, lo, hi), randomTensor('float32', b, 300 + k, op === 'Div' ? 0.5 : lo, hi)] });
      }
    });
  }
  it('comparisons, logic and Where produce bool tensors', async () => {
    for (const op of ['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual']) {
      await checkOp(device, { op, inputs: [randomTensor('int32', [3, 4], 1, -2, 2), randomTensor('int32', [4], 2, -2, 2)] });
      await checkOp(device, { op, inputs: [randomTensor('float32', [3, 4], 3), randomTensor('float32', [3, 1], 4)] });
    }
    for (const op of ['And', 'Or', 'Xor']) await checkOp(device, { op, inputs: [randomTensor('bool', [13], 5), randomTensor('bool', [13], 6)] });
    await checkOp(device, { op: 'Not', inputs: [randomTensor('bool', [13], 7)] });
    await checkOp(device, { op: 'Where', inputs: [randomTensor('bool', [2, 1, 5], 8), randomTensor('float32', [3, 5], 9), randomTensor('float32', [5], 10)] });
  });
  it('integer arithmetic (int32 and int64) is exact', async () => {
    for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min'])
      for (const dt of ['int32', 'int64'] as const)
        await checkOp(device, { op, inputs: [randomTensor(dt, [3, 5], 11, -50, 50), randomTensor(dt, [5], 12, 1, 9)], rtol: 0, atol: 0 });
    await checkOp(device, { op: 'Mod', inputs: [randomTensor('int32', [13], 13, -20, 20), randomTensor('int32', [13], 14, 1, 7)], rtol: 0, atol: 0 });
  });
  it('Pow of integer bases: int exponents (negative ones too) and float exponents, exact', async () => {
    for (const dt of ['int32', 'int64'] as const) {
      await checkOp(device, { op: 'Pow', opset: 15, inputs: [randomTensor(dt, [127], 15, -6, 6), randomTensor(dt, [127], 16, -3, 9)], rtol: 0, atol: 0 });
      await checkOp(device, { op: 'Pow', opset: 15, inputs: [randomTensor(dt, [3, 13], 17, -9, 9), randomTensor('float32', [13], 18, 0, 3)], rtol: 0, atol: 0 });
    }
  });
  it('Clip with constant bounds, Sum/Mean/Max/Min variadic, Cast', async () => {
    await checkOp(device, { op: 'Clip', inputs: [randomTensor('float32', [127], 15), Tensor.scalar('float32', -0.5), Tensor.scalar('float32', 1)], constant: [1, 2] });
    await checkOp(device, { op: 'Clip', opset: 6, attrs: { min: { type: 'float', value: 0 }, max: { type: 'float', value: 6 } }, inputs: [randomTensor('float32', [13], 16, -9, 9)] });
    for (const op of ['Sum', 'Mean', 'Max', 'Min']) await checkOp(device, { op, inputs: [randomTensor('float32', [2, 3], 17), randomTensor('float32', [3], 18), randomTensor('float32', [2, 1], 19)] });
    await checkOp(device, { op: 'Cast', attrs: { to: { type: 'int', value: 7 } }, inputs: [randomTensor('float32', [13], 20, -9, 9)] });
    await checkOp(device, { op: 'Cast', attrs: { to: { type: 'int', value: 1 } }, inputs: [randomTensor('int64', [13], 21, -9, 9)] });
    await checkOp(device, { op: 'Cast', attrs: { to: { type: 'int', value: 9 } }, inputs: [randomTensor('float32', [13], 22, -1, 1)] });
  });
  it('every elementwise op with a GPU kernel is registered with one', () => {
    const withKernel = registry.list().filter((d) => d.kernel).map((d) => d.opType);
    for (const op of [...unary, ...binary]) assert.ok(withKernel.includes(op), `${op} has no kernel`);
  });
});
