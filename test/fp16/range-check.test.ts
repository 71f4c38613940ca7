/**
 * FP16 safety: a ResNet-style network with constant-filled weights (activations outgrow 65504 while no
 * weight does) builds in FP16 with finite outputs matching FP32, the overflowing layers kept in FP32
 * and named in the log; without the range check its FP16 output is not finite, and checkFinite names
 * the first layer that produced the Inf.
 */
import { strict as assert } from 'assert';
import { buildEngineAsync } from '../../src/api/build';
import { NonFiniteError } from '../../src/errors';
import { Device } from '../../src/gpu/device';
import { GraphBuilder } from '../../src/ir/builder';
import { Model } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { openDevice } from '../helpers/gpu';

/** stem conv + 3 residual blocks of two 3x3 convs, all weights 0.05 (a "weights replaced by constants" model). */
export function constantResNet(): Model {
  const b = new GraphBuilder('const_resnet', { '': 13 });
  const C = 16;
  const fill = (dims: number[], v: number) => new Tensor('float32', dims, new Float32Array(dims.reduce((a, c) => a * c, 1)).fill(v));
  let x = b.input('x', 'float32', [1, 3, 16, 16]);
  [x] = b.node('Conv', [x, b.initializer('w0', fill([C, 3, 3, 3], 0.05)), b.initializer('b0', fill([C], 0.05))], { pads: [1, 1, 1, 1] }, { name: 'stem' });
  [x] = b.node('Relu', [x], {}, { name: 'stem_relu' });
  for (let k = 1; k <= 3; k++) {
    const [c1] = b.node('Conv', [x, b.initializer(`w${k}a`, fill([C, C, 3, 3], 0.05)), b.initializer(`b${k}a`, fill([C], 0.05))], { pads: [1, 1, 1, 1] }, { name: `block${k}_conv1` });
    const [r1] = b.node('Relu', [c1], {}, { name: `block${k}_relu1` });
    const [c2] = b.node('Conv', [r1, b.initializer(`w${k}b`, fill([C, C, 3, 3], 0.05)), b.initializer(`b${k}b`, fill([C], 0.05))], { pads: [1, 1, 1, 1] }, { name: `block${k}_conv2` });
    const [s] = b.node('Add', [c2, x], {}, { name: `block${k}_add` });
    [x] = b.node('Relu', [s], {}, { name: `block${k}_relu2` });
  }
  const [p] = b.node('GlobalAveragePool', [x], {}, { name: 'pool' });
  const [f] = b.node('Flatten', [p], {}, { name: 'flatten' });
  const [y] = b.node('Gemm', [f, b.initializer('wf', fill([4, C], 0.001)), b.initializer('bf', fill([4], 0))], { transB: 1 }, { name: 'fc' });
  b.output(y);
  return b.build();
}

describe('FP16 range check and checkFinite', function () {
  this.timeout(600000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());

  const feeds = () => {
    const v = new Float32Array(3 * 256);
    for (let i = 0; i < v.length; i++) v[i] = Math.sin(i * 0.37) * 0.9;
    return new Map([['x', new Tensor('float32', [1, 3, 16, 16], v)]]);
  };

  it('keeps the overflowing layers in FP32 (logged) and matches FP32 within 1e-2', async () => {
    const model = constantResNet();
    const log: string[] = [];
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    const fp32 = await buildEngineAsync(model, { device, optimizationLevel: 0 });
    const fp16 = await buildEngineAsync(model, { device, optimizationLevel: 0, fp16: true, log: (l) => log.push(l) });
    try {
      await new Promise((r) => setImmediate(r));
      const kept = log.filter((l) => l.startsWith('fp16: keeping'));
      assert.ok(kept.length > 0, log.join('\n'));
      assert.ok(kept.some((l) => /block3_relu2|block3_add/.test(l) && /beyond what FP16 holds safely/.test(l)), kept.join('\n'));
      assert.ok(warnings.some((w) => /kept in FP32 because their values outgrow FP16/.test(w)), warnings.join('\n'));
      assert.ok(fp16.plan.layers.some((l) => l.precision === 'fp16'), 'the early layers still run in FP16');
      const a = (await fp16.createExecutionContext().execute(feeds())).values().next().value!.data as Float32Array;
      const b = (await fp32.createExecutionContext().execute(feeds())).values().next().value!.data as Float32Array;
      for (let i = 0; i < a.length; i++) {
        assert.ok(Number.isFinite(a[i]), `FP16 output ${i} is ${a[i]}`);
        assert.ok(Math.abs(a[i] - b[i]) <= 1e-2 * Math.abs(b[i]), `output ${i}: ${a[i]} vs FP32 ${b[i]}`);
      }
    } finally {
      process.off('warning', onWarning);
      fp16.dispose();
      fp32.dispose();
    }
  });

  it('without the check the FP16 output is Inf, and checkFinite names the first layer that made it', async () => {
    const fp16 = await buildEngineAsync(constantResNet(), { device, optimizationLevel: 0, fp16: true, fp16RangeCheck: false });
    try {
      const ctx = fp16.createExecutionContext();
      const y = (await ctx.execute(feeds())).values().next().value!.data as Float32Array;
      assert.ok(Array.from(y).some((v) => !Number.isFinite(v)), `unchecked FP16 overflows (got ${Array.from(y)})`);
      ctx.checkFinite = true;
      await assert.rejects(ctx.execute(feeds()), (e: Error) => {
        assert.ok(e instanceof NonFiniteError, String(e));
        assert.match(e.message, /output 'fc[^']*' holds NaN or Inf: the first layer to produce one is 'block\d_[a-z0-9_+]+'/);
        assert.match(e.message, /runs in FP16, whose largest value is 65504: keep it in FP32 with fp32Layers/);
        assert.ok(e.layer && fp16.plan.layers.find((l) => l.name === e.layer)?.precision === 'fp16');
        return true;
      });
      // an input that already holds NaN is named as such
      const bad = feeds();
      (bad.get('x')!.data as Float32Array)[5] = NaN;
      await assert.rejects(ctx.execute(bad), /input 'x' already does/);
    } finally {
      fp16.dispose();
    }
  });
});
