/**
 * Per-layer precision control in FP16 engines: pinned layers stay FP32, out-of-range constants
 * keep their layers (and what they feed, up to a range-resetting op) in FP32, devices without FP16
 * fall back with one log line, model I/O keeps its ONNX types, and `compare` reports accuracy and
 * finds the layer where an error appears.
 */
import { strict as assert } from 'assert';
import { buildPlan } from '../../src/builder/builder';
import { fp16RangeProblem } from '../../src/builder/precision';
import { compareModel } from '../../src/cli/compare';
import { Device } from '../../src/gpu';
import { attr, GraphBuilder } from '../../src/ir/builder';
import { Model } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { interpret } from '../../src/ops/interpreter';
import { Engine } from '../../src/runtime/engine';
import { openDevice } from '../helpers/gpu';
import { randomTensor } from '../helpers/gpu-op';
import { toFloat16Bits } from '../../src/kernel/storage';
import { buildEngine } from '../../src/api/build';
import { deviceCaps } from '../../src/builder/caps';

/** x[1,4,8,8] -> conv1 -> Relu -> conv2 -> Softmax(axis 1) -> y, seeded weights. */
function smallCnn(): Model {
  const b = new GraphBuilder('cnn');
  const x = b.input('x', 'float32', [1, 4, 8, 8]);
  const w1 = b.initializer('w1', randomTensor('float32', [8, 4, 3, 3], 1, -0.5, 0.5));
  const w2 = b.initializer('w2', randomTensor('float32', [6, 8, 1, 1], 2, -0.5, 0.5));
  const [c1] = b.node('Conv', [x, w1], { pads: attr.ints([1, 1, 1, 1]) }, { name: 'conv1' });
  const [r1] = b.node('Relu', [c1], {}, { name: 'relu1' });
  const [c2] = b.node('Conv', [r1, w2], {}, { name: 'conv2' });
  const [y] = b.node('Softmax', [c2], { axis: attr.int(1) }, { name: 'softmax' });
  b.output(y, 'float32', [1, 6, 8, 8]);
  return b.build();
}

/** x -> Mul(1e5) -> Add -> Relu -> Sigmoid -> Mul(2) -> y, and Relu's output is an output too. */
function wideModel(): Model {
  const b = new GraphBuilder('wide');
  const x = b.input('x', 'float32', [2, 13]);
  const big = b.initializer('big', Tensor.from('float32', [], [1e5]));
  const off = b.initializer('off', randomTensor('float32', [13], 3));
  const two = b.initializer('two', Tensor.from('float32', [], [2]));
  const [m] = b.node('Mul', [x, big], {}, { name: 'scale_up' });
  const [a] = b.node('Add', [m, off], {}, { name: 'shift' });
  const [r] = b.node('Relu', [a], {}, { name: 'relu' });
  const [s] = b.node('Sigmoid', [r], {}, { name: 'squash' });
  const [y] = b.node('Mul', [s, two], {}, { name: 'double' });
  b.output(r, 'float32', [2, 13]);
  b.output(y, 'float32', [2, 13]);
  return b.build();
}

describe('FP16 precision control', function () {
  this.timeout(300000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());

  const precisionOf = (e: Engine, name: string) => e.plan.layers.find((l) => l.name === name)?.precision;

  it('builds every layer with an FP16 kernel in FP16; model I/O stays float32', async () => {
    const e = buildEngine(smallCnn(), { device, fp16: true, fusion: false });
    try {
      for (const n of ['conv1', 'relu1', 'conv2', 'softmax']) assert.equal(precisionOf(e, n), 'fp16', n);
      assert.equal(e.plan.tensors.get('w1::f16')?.gpu, 'f16', 'weights stored as f16');
      assert.equal(e.plan.tensors.get('x')!.gpu, 'f32');
      const conv = e.plan.layers.filter((l) => l.opTypes[0] === 'Cast').map((l) => l.name);
      assert.deepEqual(conv.sort(), ['softmax:0:to_fp32', 'x:to_fp16'], 'conversions only at the edges');
      assert.equal(e.outputs[0].dtype, 'float32');
    } finally {
      e.dispose();
    }
  });

  it('pins layers to FP32 by name and by op type (fp32Layers); results still match', async () => {
    const x = randomTensor('float32', [1, 4, 8, 8], 9);
    const ref = interpret(smallCnn(), { x }).values().next().value as Tensor;
    for (const pins of [['conv2'], ['Softmax', 'relu1']]) {
      const e = buildEngine(smallCnn(), { device, fp16: true, fp32Layers: pins, fusion: false });
      try {
        for (const l of e.plan.layers) {
          if (l.opTypes[0] === 'Cast') continue;
          const pinned = pins.includes(l.name) || pins.includes(l.opTypes[0]);
          assert.equal(l.precision, pinned ? 'fp32' : 'fp16', `${l.name} with fp32Layers=${pins.join(',')}`);
        }
        const got = (await e.createExecutionContext().execute({ x })).values().next().value as Tensor;
        const d = got.toNumbers(), r = ref.toNumbers();
        for (let i = 0; i < d.length; i++) assert.ok(Math.abs(d[i] - r[i]) < 3e-3, `element ${i}: ${d[i]} vs ${r[i]}`);
      } finally {
        e.dispose();
      }
    }
  });

  it('keeps layers fed by constants beyond the FP16 range in FP32 until a range-resetting op; no Inf', async () => {
    const log: string[] = [];
    const e = buildEngine(wideModel(), { device, fp16: true, fusion: false, log: (l) => log.push(l) });
    try {
      assert.equal(precisionOf(e, 'scale_up'), 'fp32');
      assert.equal(precisionOf(e, 'shift'), 'fp32');
      assert.equal(precisionOf(e, 'relu'), 'fp32');
      assert.equal(precisionOf(e, 'squash'), 'fp32'); // reads a wide value itself
      assert.equal(precisionOf(e, 'double'), 'fp16'); // Sigmoid's output is within (0, 1)
      assert.ok(log.some((l) => /kept in FP32 \(constants outside the FP16 range\): scale_up \(big: \|x\| reaches 1\.000e\+5/.test(l)), log.join('\n'));
      const x = randomTensor('float32', [2, 13], 4);
      const ref = interpret(wideModel(), { x });
      const out = await e.createExecutionContext().execute({ x });
      for (const [name, t] of ref) {
        const got = out.get(name)!.toNumbers(), r = (t as Tensor).toNumbers();
        for (let i = 0; i < r.length; i++) {
          assert.ok(Number.isFinite(got[i]), `${name}[${i}] is ${got[i]}`);
          assert.ok(Math.abs(got[i] - r[i]) <= 2e-3 * Math.max(1, Math.abs(r[i])), `${name}[${i}]: ${got[i]} vs ${r[i]}`);
        }
      }
    } finally {
      e.dispose();
    }
  });

  it('decides the FP16 range of constants: overflow, mass underflow, stragglers', () => {
    assert.match(fp16RangeProblem(Tensor.from('float32', [2], [1, 70000]))!, /70000|7\.000e\+4/);
    assert.equal(fp16RangeProblem(Tensor.from('float32', [2], [1, 65504])), undefined);
    assert.match(fp16RangeProblem(Tensor.from('float32', [1], [1e-10]))!, /1 of 1 nonzero values \(100% of the magnitude\)/); // an epsilon
    assert.match(fp16RangeProblem(Tensor.from('float32', [201], Array.from({ length: 201 }, (_, i) => (i ? 1e-9 : 1e-6))))!, /200 of 201/);
    assert.equal(fp16RangeProblem(Tensor.from('float32', [3], [1e-9, 2e-9, 1])), undefined); // stragglers: 3e-9 of the mass
    const mostlyNormal = Tensor.from('float32', [200], Array.from({ length: 200 }, (_, i) => (i === 0 ? 1e-9 : 0.01 * (i + 1))));
    assert.equal(fp16RangeProblem(mostlyNormal), undefined); // 1 of 200 < 1%
    assert.equal(fp16RangeProblem(Tensor.from('int64', [1], [100000])), undefined);
    assert.deepEqual([...toFloat16Bits([1, -2, 65504, 1e6, 2 ** -24])], [0x3c00, 0xc000, 0x7bff, 0x7c00, 0x0001]);
  });

  it('falls back to FP32 with one log line on a device without FP16', () => {
    const log: string[] = [];
    const plan = buildPlan(smallCnn(), { ...deviceCaps(device), fp16: false }, { fp16: true, fusion: false, log: (l) => log.push(l) });
    assert.ok(plan.layers.every((l) => l.precision === 'fp32'));
    assert.ok(![...plan.tensors.values()].some((t) => t.gpu === 'f16'));
    assert.equal(log.filter((l) => l.startsWith('fp16:')).length, 1, log.join('\n'));
    assert.match(log.find((l) => l.startsWith('fp16:'))!, /no FP16 storage\/arithmetic.*FP32/);
  });

  it('compare: per-output metrics, --layerwise finds the first layer where the error appears', async () => {
    const ok = await compareModel(smallCnn(), { device, fp16: true, fusion: false, layerwise: true });
    assert.ok(ok.passed);
    assert.equal(ok.outputs.length, 1);
    assert.ok(ok.outputs[0].relL2 > 0 && ok.outputs[0].relL2 < 1e-2 && ok.outputs[0].cosine > 0.9999, JSON.stringify(ok.outputs[0]));
    assert.deepEqual(ok.layers.map((l) => l.name).slice(0, 2), ['conv1:0', 'relu1:0']);
    assert.equal(ok.firstJump, undefined);
    // inputs beyond the FP16 range cannot be seen at build time: compare shows where Inf appears
    const big = new Map([['x', Tensor.from('float32', [1, 4, 8, 8], Array.from({ length: 256 }, (_, i) => (i % 7) * 3e4))]]);
    const bad = await compareModel(smallCnn(), { device, fp16: true, fusion: false, layerwise: true, inputs: big });
    assert.equal(bad.passed, false);
    assert.ok(bad.firstJump, 'a first failing layer');
    assert.equal(bad.firstJump!.name, 'conv1:0'); // x becomes Inf in f16, conv1 is the first tensor that shows it
    assert.equal(bad.firstJump!.layer, 'conv1');
    assert.ok(bad.firstJump!.newNonFinite > 0);
    // the same inputs in FP32 pass
    const fp32 = await compareModel(smallCnn(), { device, fusion: false, inputs: big, threshold: 1e-4 });
    assert.ok(fp32.passed, JSON.stringify(fp32.outputs));
  });
});
