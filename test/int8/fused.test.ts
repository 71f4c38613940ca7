/**
 * The int8 kernels of issue 16 beyond the GEMMs: QLinearConv's residual epilogue (skip tensor added
 * before the activation and requantization, src/ops/nn/gpu/epilogue.ts requantResidual) through
 * every candidate (tiled, simple, int8 matrix units through the emulation, packed dot products), and the direct
 * depthwise kernel (QDW_DIRECT in shaders/nn/qconv.comp), each bit for bit against the reference
 * (one step for activations other than Relu), both param modes, under the validation layer.
 */
import { strict as assert } from 'assert';
import { VkrtError } from '../../src/errors';
import { Device } from '../../src/gpu';
import { interpret } from '../../src/ops/interpreter';
import { GraphBuilder } from '../../src/ir/builder';
import { Tensor } from '../../src/ir/tensor';
import { openDevice } from '../helpers/gpu';
import { singleNodeModel } from '../helpers/gpu-op';
import { DEPTHWISE_CASES, RESIDUAL_CASES, checkInt8 } from './cases';

describe('int8 residual epilogue and depthwise kernels', function () {
  this.timeout(600000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());

  it('the residual reference is the unfused Q(Relu(Add(DQ(QLinearConv), DQ(skip)))) bit for bit', () => {
    const c = RESIDUAL_CASES[0].case;
    const { model, feeds } = singleNodeModel(c);
    const fused = [...interpret(model, feeds).values()][0] as Tensor;
    // the same computation as separate nodes: QLinearConv to the mid quantization, DQ, Add, Relu, Q
    const b = new GraphBuilder('unfused', { '': 13 });
    const names = c.inputs.map((t, i) => (t ? b.initializer(`i${i}`, t) : ''));
    const [cq] = b.node('QLinearConv', [...names.slice(0, 6), names[12], names[13], names[8]], { pads: [1, 1, 1, 1] });
    const [cf] = b.node('DequantizeLinear', [cq, names[12], names[13]]);
    const [sf] = b.node('DequantizeLinear', [names[9], names[10], names[11]]);
    const [sum] = b.node('Add', [cf, sf]);
    const [r] = b.node('Relu', [sum]);
    const [y] = b.node('QuantizeLinear', [r, names[6], names[7]]);
    b.output(y);
    const unfused = [...interpret(b.build(), new Map()).values()][0] as Tensor;
    assert.deepEqual(fused.dims, unfused.dims);
    assert.deepEqual(Array.from(fused.toNumbers()), Array.from(unfused.toNumbers()));
    const distinct = new Set(fused.toNumbers()).size;
    assert.ok(distinct > 20, `the case exercises the range (${distinct} distinct values)`);
  });

  it('refuses a residual of another shape or without its scale, naming the input', () => {
    const c = RESIDUAL_CASES[1].case;
    const wrong = { ...c, inputs: c.inputs.map((t, i) => (i === 9 && t ? new Tensor(t.dtype, [t.dims[0], t.dims[1], t.dims[2], t.dims[3] + 1], new Int8Array(t.size / t.dims[3] * (t.dims[3] + 1))) : t)) };
    const a = singleNodeModel(wrong);
    assert.throws(() => interpret(a.model, a.feeds), (e: Error) => e instanceof VkrtError && /residual input \[.*\] must have the output's shape/.test(e.message));
    const noScale = { ...c, inputs: c.inputs.map((t, i) => (i === 10 ? null : t)) };
    const b = singleNodeModel(noScale);
    assert.throws(() => interpret(b.model, b.feeds), (e: Error) => e instanceof VkrtError && /residual scale/.test(e.message));
  });

  for (const c of RESIDUAL_CASES) {
    it(`residual: ${c.name}`, async function () {
      for (const k of ['tiled', 'simple']) await checkInt8(device, c, `${c.prefix}_${k}`);
      if (device.info.int8) await checkInt8(device, c, `${c.prefix}_coopmat_i8_64x64`, { cooperativeMatrix: 'emulate' });
      if (device.info.int8DotProduct) await checkInt8(device, c, `${c.prefix}_dot4x8_32x32`, { cooperativeMatrix: 'off' });
    });
  }

  for (const c of DEPTHWISE_CASES) {
    it(`depthwise: ${c.name}`, async () => {
      await checkInt8(device, c, `${c.prefix}_depthwise`);
      await checkInt8(device, c, `${c.prefix}_depthwise`, { int8Storage: true });
    });
  }
});
