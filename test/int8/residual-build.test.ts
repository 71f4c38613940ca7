/**
 * INT8 builds of residual networks: the qdq-residual fold (src/builder/passes/rules/qdq.ts) turns
 * Q(Relu?(Add(DQ(QLinearConv), DQ(skip)))) into one QLinearConv with the skip in its epilogue (IR
 * before/after, the folded graph's reference equal to the unfused one's), and the INT8 engines of a
 * small ResNet-style CNN and a MobileNetV2-like net (depthwise convolutions on the direct int8
 * kernel) have fewer layers than with the residual left unfused, the same outputs, and stay close
 * to FP32.
 */
import { strict as assert } from 'assert';
import { buildEngine, buildEngineAsync } from '../../src/api/build';
import { createCalibrator, quantizeModel } from '../../src/api/calibrate';
import { optimize, PASSES } from '../../src/builder/passes/optimize';
import { Pass } from '../../src/builder/passes/rule';
import { QDQ_RULES } from '../../src/builder/passes/rules/qdq';
import { Device } from '../../src/gpu/device';
import { GraphBuilder } from '../../src/ir/builder';
import { cloneModel, Model } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { mobilenetV2Like } from '../../src/models/nets';
import { interpret } from '../../src/ops/interpreter';
import { Engine } from '../../src/runtime/engine';
import { registry } from '../../src/ops/index';
import { openDevice } from '../helpers/gpu';
import { rng } from '../helpers/gpu-op';
import { insertQdqFor } from './helpers';

/**
 * stem conv 3->8 + relu; a basic block (two 3x3 convs, identity skip, relu); a downsampling block
 * (3x3 stride 2 and 3x3, 1x1 stride 2 projection on the skip, relu); 1x1 conv 12->16 + relu;
 * global average pool, flatten, gemm(10).
 */
export function residualCnn(batch = 2, size = 10): Model {
  const r = rng(17);
  const b = new GraphBuilder('residual_cnn', { '': 13 });
  const conv = (x: string, cin: number, cout: number, k: number, stride: number, name: string) => {
    const n = cout * cin * k * k, s = Math.sqrt(2 / (cin * k * k));
    const w = b.initializer(`${name}.w`, new Tensor('float32', [cout, cin, k, k], Float32Array.from({ length: n }, () => (r() * 2 - 1) * s)));
    const bias = b.initializer(`${name}.b`, new Tensor('float32', [cout], Float32Array.from({ length: cout }, () => (r() * 2 - 1) * 0.1)));
    const p = (k - 1) / 2;
    return b.node('Conv', [x, w, bias], { pads: [p, p, p, p], strides: [stride, stride] }, { name })[0];
  };
  const relu = (x: string, name: string) => b.node('Relu', [x], {}, { name })[0];
  const x = b.input('x', 'float32', [batch, 3, size, size]);
  const h0 = relu(conv(x, 3, 8, 3, 1, 'stem'), 'stem_relu');
  const a = relu(conv(h0, 8, 8, 3, 1, 'b1.conv1'), 'b1.relu1');
  const h1 = relu(b.node('Add', [conv(a, 8, 8, 3, 1, 'b1.conv2'), h0], {}, { name: 'b1.add' })[0], 'b1.relu');
  const c = relu(conv(h1, 8, 12, 3, 2, 'b2.conv1'), 'b2.relu1');
  const h2 = relu(b.node('Add', [conv(c, 12, 12, 3, 1, 'b2.conv2'), conv(h1, 8, 12, 1, 2, 'b2.down')], {}, { name: 'b2.add' })[0], 'b2.relu');
  const h3 = relu(conv(h2, 12, 16, 1, 1, 'head'), 'head_relu');
  const p = b.node('GlobalAveragePool', [h3], {}, { name: 'pool' })[0];
  const f = b.node('Flatten', [p], {}, { name: 'flatten' })[0];
  const w = b.initializer('fc.w', new Tensor('float32', [10, 16], Float32Array.from({ length: 160 }, () => (r() * 2 - 1) * 0.3)));
  const y = b.node('Gemm', [f, w, b.initializer('fc.b', new Tensor('float32', [10], new Float32Array(10).fill(0.05)))], { transB: 1 }, { name: 'fc' })[0];
  b.output(y);
  return b.build();
}

function batches(model: Model, n: number, seed: number): Map<string, Tensor>[] {
  const r = rng(seed);
  const name = model.graph.inputs[0];
  const dims = (model.graph.types.get(name) as { shape: number[] }).shape;
  const size = dims.reduce((x, y) => x * y, 1);
  return Array.from({ length: n }, () => new Map([[name, new Tensor('float32', dims, Float32Array.from({ length: size }, () => r() * 2 - 1))]]));
}

/** The quantization pass without the residual fold (what INT8 builds did before it). */
const withoutResidual = (passes: readonly Pass[]): Pass[] => passes.map((p) => (p.name === 'quantization' ? { name: p.name, rules: QDQ_RULES.filter((r) => r.name !== 'qdq-residual') } : p));

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2; }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

const ops = (m: Model) => m.graph.nodes.map((n) => n.opType);
const count = (m: Model, op: string) => ops(m).filter((o) => o === op).length;

describe('INT8 residual fold and depthwise layers', function () {
  this.timeout(600000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());

  it('folds Q(Relu(Add(DQ(QLinearConv), DQ(skip)))) into the QLinearConv (before/after IR), the reference unchanged bit for bit', () => {
    const q = insertQdqFor(residualCnn(), new Map([['x', 0.008], ['stem_relu', 0.02], ['b1.relu', 0.03], ['b2.relu', 0.04]]));
    const before = optimize(q, { registry, passList: withoutResidual(PASSES), passes: ['quantization'] }).model;
    const after = optimize(q, { registry, passes: ['quantization'] });
    const a = after.model;
    console.log(`      before: ${ops(before).join(' ')}\n      after:  ${ops(a).join(' ')}`);
    assert.equal(count(before, 'Add'), 2);
    assert.equal(count(a, 'Add'), 0, ops(a).join(' '));
    assert.equal(after.counts.get('qdq-residual'), 2);
    const res = a.graph.nodes.filter((n) => n.opType === 'QLinearConv' && n.inputs[9]);
    assert.equal(res.length, 2);
    // block 1: the identity skip is stem_relu's int8 tensor, the Relu after the Add in the epilogue
    const b1 = res.find((n) => n.name.startsWith('b1.conv2'))!;
    assert.ok(b1, res.map((n) => n.name).join(', '));
    assert.equal(b1.attrs.get('vkrt_activation')?.value, 'Relu');
    assert.equal(b1.inputs[9], a.graph.nodes.find((n) => n.name.startsWith('stem'))!.outputs[0]);
    assert.equal(b1.inputs.length, 14, 'skip, its scale and zero point, and the mid quantization');
    // every Add + Relu + Q and the DQ of the conv output are gone (the skip's DQ too where nothing else reads it)
    assert.ok(before.graph.nodes.length - a.graph.nodes.length >= 8, `${before.graph.nodes.length} -> ${a.graph.nodes.length} nodes`);
    const feeds = batches(q, 1, 5)[0];
    const [ya, yb] = [interpret(a, feeds), interpret(before, feeds)].map((o) => (o.get(q.graph.outputs[0]) as Tensor).toNumbers());
    assert.deepEqual(Array.from(ya), Array.from(yb));
  });

  it('the Q/DQ-on-the-skip-only form (QAT exporters) folds Add(Conv(DQ, DQ), DQ(skip)) without a mid quantization', () => {
    const q = insertQdqFor(residualCnn(), new Map([['x', 0.008], ['stem_relu', 0.02], ['b1.relu', 0.03], ['b2.relu', 0.04]]));
    // drop the Q/DQ pair on block 1's conv output, as a QAT export has it
    const g = q.graph;
    const add = g.nodes.find((n) => n.name === 'b1.add')!;
    const dq = g.nodes.find((n) => n.opType === 'DequantizeLinear' && n.outputs[0] === add.inputs[0])!;
    const qn = g.nodes.find((n) => n.opType === 'QuantizeLinear' && n.outputs[0] === dq.inputs[0])!;
    add.inputs[0] = qn.inputs[0];
    g.nodes = g.nodes.filter((n) => n !== dq && n !== qn);
    const { model: a, counts } = optimize(q, { registry, passes: ['quantization'] });
    assert.equal(counts.get('qdq-residual'), 2);
    const b1 = a.graph.nodes.find((n) => n.opType === 'QLinearConv' && n.name.startsWith('b1.conv2'))!;
    assert.equal(b1.inputs.length, 12, 'no mid quantization');
    // the fused layer is within one step of the float Conv + Add + Relu + Q it replaces
    const feeds = batches(q, 1, 6)[0];
    const probe = (m: Model) => { const c = cloneModel(m); c.graph.outputs = [b1.outputs[0]]; return (interpret(c, feeds).get(b1.outputs[0]) as Tensor).toNumbers(); };
    const ref = probe(q), got = probe(a);
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ref[i] - got[i]));
    assert.ok(worst <= 1, `largest difference ${worst} steps`);
  });

  for (const [label, make] of [['a ResNet-style CNN', () => residualCnn(2, 10)], ['a MobileNetV2-like net (depthwise)', () => mobilenetV2Like({ size: 16, batch: 1 })]] as const) {
    it(`INT8 engine of ${label}: fewer layers than unfused, the same outputs, close to FP32`, async () => {
      const model = make();
      const calib = batches(model, 4, 11);
      const { model: q } = await quantizeModel(model, createCalibrator({ batches: calib, algorithm: 'minmax' }), {
        device, registry, build: (cm, o) => buildEngineAsync(cm, { ...o, device, worker: false }),
      });
      const unfusedModel = optimize(q, { registry, passList: withoutResidual(PASSES) }).model;
      const fused = buildEngine(q, { device });
      const fusedBytes = buildEngine(q, { device, int8Storage: true });
      const unfused = buildEngine(unfusedModel, { device, fusion: false });
      const fp32 = buildEngine(model, { device });
      try {
        const layers = (e: typeof fused) => e.plan.layers.length;
        const int8 = (e: typeof fused) => e.plan.layers.filter((l) => l.precision === 'int8');
        const dw = int8(fused).filter((l) => /_depthwise$/.test(l.kernel));
        const resid = int8(fused).filter((l) => l.opTypes.includes('Add'));
        console.log(`      ${label}: ${layers(unfused)} layers unfused -> ${layers(fused)} fused (${int8(fused).length} int8, ${resid.length} with the residual, ${dw.length} depthwise)`);
        assert.ok(layers(fused) < layers(unfused));
        assert.ok(resid.length >= 1, fused.plan.layers.map((l) => `${l.name}:${l.precision}`).join(', '));
        if (/MobileNet/.test(label)) assert.ok(dw.length >= 5, `depthwise int8 layers: ${dw.map((l) => l.name).join(', ')}`);
        // with byte storage the skip tensors are read one byte per element where the device allows it
        const residBytes = int8(fusedBytes).filter((l) => l.opTypes.includes('Add'));
        assert.equal(residBytes.length, resid.length);
        if (device.info.int8) for (const l of residBytes) assert.match(fusedBytes.plan.tensors.get(l.inputs[9])?.gpu ?? '', /^[iu]8$/, `${l.name} reads its skip ${l.inputs[9]} as bytes`);
        const feeds = batches(model, 2, 23);
        for (const f of feeds) {
          const [a, b, c, d] = [fused, unfused, fp32, fusedBytes].map((e) => e.createExecutionContext().execute(f));
          const out = model.graph.outputs[0];
          const [ya, yb, yc, yd] = (await Promise.all([a, b, c, d])).map((o) => o.get(out)!.data as Float32Array);
          assert.deepEqual(Array.from(ya), Array.from(yb), 'fused and unfused INT8 engines agree');
          assert.deepEqual(Array.from(yd), Array.from(ya), 'byte and int32 activations agree');
          const err = relErr(ya, yc);
          console.log(`      ${label}: INT8 vs FP32 relative L2 ${err.toExponential(2)}`);
          assert.ok(err > 0 && err < 0.1, `INT8 vs FP32 relative L2 error ${err}`);
        }
        // an engine file re-derives every layer, the residual and depthwise ones too
        const loaded = Engine.deserialize(fused.serialize(), { device });
        try {
          const out = model.graph.outputs[0];
          const [ya, yb] = [await loaded.createExecutionContext().execute(feeds[0]), await fused.createExecutionContext().execute(feeds[0])].map((o) => Array.from(o.get(out)!.data as Float32Array));
          assert.deepEqual(ya, yb);
        } finally {
          loaded.dispose();
        }
      } finally {
        fused.dispose(); fusedBytes.dispose(); unfused.dispose(); fp32.dispose();
      }
    });
  }
});
