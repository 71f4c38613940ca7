/**
 * INT8 with precision pins and optimization profiles. Pins: a layer named in fp32Layers stays a
 * float layer in an INT8 build of a float model (no Q/DQ pair folds it), the others stay integer.
 * Profiles: a float CNN with a dynamic batch, calibrated once (the cache),
 * built with one profile (batch 1..4), runs every batch in it; integer layers report int8 at every
 * shape, and each sample's result equals what a fixed batch-1 INT8 engine built from the same cache
 * gives for it (the scales are the model's, not the shape's; the integer layers are exact).
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildEngineAsync } from '../../src/api/build';
import { Device } from '../../src/gpu/device';
import { GraphBuilder } from '../../src/ir/builder';
import { Model } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { openDevice } from '../helpers/gpu';
import { rng } from '../helpers/gpu-op';
import { createCalibrator } from './helpers';

/** conv3x3(8) -> relu -> conv3x3(16, stride 2) -> relu -> maxpool -> flatten -> gemm(10), batch 'N'. */
function dynamicCnn(): Model {
  const r = rng(7);
  const w = (dims: number[], s: number) => new Tensor('float32', dims, Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => (r() * 2 - 1) * s));
  const b = new GraphBuilder('dyn_cnn', { '': 13 });
  const x = b.input('x', 'float32', ['N', 3, 12, 12]);
  const [c1] = b.node('Conv', [x, b.initializer('w1', w([8, 3, 3, 3], 0.4)), b.initializer('b1', w([8], 0.1))], { pads: [1, 1, 1, 1] }, { name: 'conv1' });
  const [c2] = b.node('Conv', [b.node('Relu', [c1])[0], b.initializer('w2', w([16, 8, 3, 3], 0.25)), b.initializer('b2', w([16], 0.1))], { pads: [1, 1, 1, 1], strides: [2, 2] }, { name: 'conv2' });
  const [p] = b.node('MaxPool', [b.node('Relu', [c2])[0]], { kernel_shape: [2, 2], strides: [2, 2] });
  b.output(b.node('Gemm', [b.node('Flatten', [p])[0], b.initializer('w3', w([10, 144], 0.2)), b.initializer('b3', w([10], 0.1))], { transB: 1 })[0]);
  return b.build();
}

function images(batch: number, seed: number): Tensor {
  const r = rng(seed);
  return new Tensor('float32', [batch, 3, 12, 12], Float32Array.from({ length: batch * 432 }, () => r() * 2 - 1));
}

describe('INT8 with precision pins and optimization profiles', function () {
  this.timeout(600000);
  let device: Device;
  let dir: string;
  before(() => { device = openDevice(); dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vkrt-int8-prof-')); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => { device?.dispose(); fs.rmSync(dir, { recursive: true, force: true }); });

  it('fp32Layers keeps a pinned convolution in float; the others stay integer layers', async () => {
    const model = dynamicCnn();
    const cacheFile = path.join(dir, 'pins.cache');
    const calib = () => createCalibrator({ batches: [1, 2, 3].map((k) => new Map([['x', images(2, 200 + k)]])), cacheFile });
    const logs: string[] = [];
    const shapes = { x: [2, 3, 12, 12] };
    const all = await buildEngineAsync(model, { device, int8: true, calibrator: calib(), optimizationLevel: 0, inputShapes: shapes });
    const pinned = await buildEngineAsync(model, { device, int8: true, calibrator: calib(), optimizationLevel: 0, inputShapes: shapes, fp32Layers: ['conv2'], log: (l) => logs.push(l) });
    const fp32 = await buildEngineAsync(model, { device, optimizationLevel: 0, inputShapes: shapes });
    try {
      const precisionOf = (e: typeof all, node: string) => e.plan.layers.find((l) => l.name.includes(node))?.precision;
      assert.equal(precisionOf(all, 'conv2'), 'int8');
      assert.equal(precisionOf(pinned, 'conv1'), 'int8', 'the unpinned convolution is still an integer layer');
      assert.equal(precisionOf(pinned, 'conv2'), 'fp32', `the pinned one runs in float: ${pinned.plan.layers.map((l) => `${l.name}:${l.precision}`).join(', ')}`);
      assert.ok(logs.some((l) => /kept in float by fp32Layers: conv2/.test(l)), 'the build log says so');
      const x = images(2, 7);
      const run = async (e: typeof all) => (await e.createExecutionContext().execute({ x })).get(model.graph.outputs[0])!.data as Float32Array;
      const [a, p, f] = [await run(all), await run(pinned), await run(fp32)];
      const err = (u: Float32Array) => Math.sqrt(u.reduce((s, v, i) => s + (v - f[i]) ** 2, 0) / f.reduce((s, v) => s + v * v, 0));
      assert.ok(err(p) < 0.1 && err(a) < 0.1, `both INT8 engines near FP32 (${err(a)}, ${err(p)})`);
    } finally {
      all.dispose(); pinned.dispose(); fp32.dispose();
    }
  });

  it('one INT8 engine serves batch 1..4; every sample as a fixed batch-1 INT8 engine from the same cache gives it', async () => {
    const model = dynamicCnn();
    const cacheFile = path.join(dir, 'cnn.cache');
    const calib = () => createCalibrator({ batches: [1, 2, 3, 4].map((k) => new Map([['x', images(2, 100 + k)]])), cacheFile });
    const engine = await buildEngineAsync(model, { device, int8: true, calibrator: calib(), optimizationLevel: 0, profiles: [{ x: { min: [1, 3, 12, 12], opt: [2, 3, 12, 12], max: [4, 3, 12, 12] } }] });
    const single = await buildEngineAsync(model, { device, int8: true, calibrator: calib(), optimizationLevel: 0, inputShapes: { x: [1, 3, 12, 12] } });
    try {
      assert.ok(fs.existsSync(cacheFile), 'the first build wrote the cache');
      const int8Layers = (plan: typeof engine.plan) => plan.layers.filter((l) => l.precision === 'int8').length;
      assert.equal(int8Layers(engine.plan), 2, 'both convolutions are integer layers');
      const ctx = engine.createExecutionContext(), one = single.createExecutionContext();
      for (const batch of [1, 3, 4, 2, 3]) {
        const x = images(batch, batch);
        const y = (await ctx.execute({ x })).get(model.graph.outputs[0])!;
        assert.deepEqual([...y.dims], [batch, 10]);
        const spec = ctx.lastTiming?.specialization;
        if (spec) assert.equal(spec.shadersCompiled, 0, `batch ${batch}: a shader was compiled`);
        for (let s = 0; s < batch; s++) {
          const xs = new Tensor('float32', [1, 3, 12, 12], (x.data as Float32Array).slice(s * 432, (s + 1) * 432));
          const want = (await one.execute({ x: xs })).get(model.graph.outputs[0])!.data as Float32Array;
          const got = (y.data as Float32Array).subarray(s * 10, (s + 1) * 10);
          for (let i = 0; i < 10; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1e-5 * (1 + Math.abs(want[i])), `batch ${batch} sample ${s} class ${i}: ${got[i]} vs ${want[i]}`);
        }
      }
      assert.equal(int8Layers(engine.specializations.get(0, { x: [3, 3, 12, 12] }).plan), 2, 'a specialization keeps the integer layers');
      ctx.dispose(); one.dispose();
    } finally {
      engine.dispose(); single.dispose();
    }
  });
});
