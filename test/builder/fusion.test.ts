/**
 * Fusion on whole networks: an Inception block goes from its 14 ONNX nodes to the 5 layers the
 * rules imply; on a GoogLeNet-style network every Conv+Relu is one layer, the three 1x1
 * convolutions of each block are one layer (writing the 1x1 branch in place) and no Concat copy
 * remains; on the MobileNetV2-style network every
 * Conv+Clip and Conv+Add is one layer. Every engine still matches the reference interpreter.
 */
import { strict as assert } from 'assert';
import { buildPlan } from '../../src/builder/builder';
import { GraphBuilder } from '../../src/ir/builder';
import { Model } from '../../src/ir/graph';
import { useGpu } from '../helpers/gpu';
import { googlenetLike, inceptionBlock, mobilenetV2Like } from '../helpers/nets';
import { feedsFor, sameGpu } from './passes/check';
import { EnginePlan } from '../../src/kernel/plan';

/** lavapipe's and NVIDIA's storage-buffer offset alignment is 16 or less; 64 is a stricter device. */
const CAPS = { subgroupSize: 32, maxGroupsX: 65535, maxGroupsY: 65535, maxWorkgroupInvocations: 1024, fp16: false, alignment: 64 };

function inceptionModel(): Model {
  const b = new GraphBuilder('inception', { '': 13 });
  const x = b.input('x', 'float32', [1, 16, 8, 8]);
  b.output(inceptionBlock(b, x, 16, [8, 12, 16, 4, 8, 4], 'inc').y);
  return b.build();
}

const layerOps = (plan: EnginePlan) => plan.layers.map((l) => l.opTypes.join('+'));

describe('fusion on networks', function () {
  this.timeout(180000);
  const gpu = useGpu();

  it('an Inception block: 14 ONNX nodes -> 5 layers (all three 1x1 convolutions one layer), no Concat or Split kernel', () => {
    const model = inceptionModel();
    assert.equal(model.graph.nodes.length, 14);
    const plan = buildPlan(model, CAPS);
    assert.deepEqual(plan.layers.map((l) => l.name), [
      'inc.3x3_reduce+inc.3x3_reduce_relu+inc.5x5_reduce+inc.5x5_reduce_relu+inc.1x1+inc.1x1_relu',
      'inc.3x3+inc.3x3_relu',
      'inc.5x5+inc.5x5_relu',
      'inc.pool',
      'inc.pool_proj+inc.pool_proj_relu',
    ]);
    assert.equal(plan.stats.onnxNodes, 14);
    assert.equal(buildPlan(model, CAPS, { fusion: false }).layers.length, 14);
    // the concat's inputs are slices of its output: offsets inside it, in order
    const out = plan.tensors.get(model.graph.outputs[0])!;
    const slices = model.graph.nodes.find((n) => n.opType === 'Concat')!.inputs.map((i) => plan.tensors.get(i)!);
    let off = out.offset;
    for (const s of slices) {
      assert.equal(s.offset, off, `slice ${s.name}`);
      off += s.bytes;
    }
    assert.equal(off, out.offset + out.bytes);
  });

  it('an Inception block matches the reference on the GPU', async () => {
    const model = inceptionModel();
    const [plain, fused] = await sameGpu(gpu.device, model, feedsFor(model));
    assert.equal(plain.length, 14);
    assert.equal(fused.length, 5);
  });

  it('a strided concat (batch 2) keeps its copy and still matches', async () => {
    const b = new GraphBuilder('inception2', { '': 13 });
    const x = b.input('x', 'float32', [2, 16, 8, 8]);
    b.output(inceptionBlock(b, x, 16, [8, 12, 16, 4, 8, 4], 'inc').y);
    const model = b.build();
    const lines: string[] = [];
    const plan = buildPlan(model, CAPS, { log: (l) => lines.push(l) });
    assert.ok(plan.layers.some((l) => l.opTypes.includes('Concat')));
    assert.ok(lines.some((l) => /inc.concat \(Concat\) keeps its copy: the slices are strided/.test(l)), lines.join('\n'));
    await sameGpu(gpu.device, model, feedsFor(model));
  });

  it('GoogLeNet-style: every Conv+Relu one layer, the three 1x1 convolutions of each Inception block merged, no Concat copies', async () => {
    const model = googlenetLike();
    const plan = buildPlan(model, CAPS);
    const kinds = layerOps(plan);
    assert.ok(!kinds.some((k) => k.includes('Concat') || k.includes('Split')), kinds.join('\n'));
    assert.ok(!kinds.includes('Relu') && !kinds.includes('Conv') && !kinds.includes('BatchNormalization'), kinds.join('\n'));
    for (const block of ['inception_3a', 'inception_3b', 'inception_4a']) {
      assert.ok(plan.layers.some((l) => l.name === `${block}.3x3_reduce+${block}.3x3_reduce_relu+${block}.5x5_reduce+${block}.5x5_reduce_relu+${block}.1x1+${block}.1x1_relu`), `${block}: all three 1x1 convolutions merged`);
    }
    assert.equal(plan.layers[0].name, 'stem+stem_bn+stem_relu');
    assert.deepEqual(plan.layers[0].opTypes, ['Conv', 'BatchNormalization', 'Relu']);
    const convs = model.graph.nodes.filter((n) => n.opType === 'Conv').length;
    const convLayers = plan.layers.filter((l) => l.opTypes.includes('Conv'));
    assert.equal(convLayers.reduce((a, l) => a + l.opTypes.filter((o) => o === 'Conv').length, 0), convs);
    assert.equal(convLayers.reduce((a, l) => a + l.opTypes.filter((o) => o === 'Relu').length, 0), convs);
    console.log(`      googlenet-like: ${plan.stats.onnxNodes} ONNX nodes -> ${plan.layers.length} layers`);
    await sameGpu(gpu.device, model, feedsFor(model, 3, -1, 1));
  });

  it('MobileNetV2-style: every Conv+Clip and Conv+Add is one layer', async () => {
    const model = mobilenetV2Like();
    const plan = buildPlan(model, CAPS);
    const kinds = layerOps(plan);
    assert.ok(!kinds.includes('Clip') && !kinds.includes('Add'), kinds.join('\n'));
    const clips = model.graph.nodes.filter((n) => n.opType === 'Clip').length;
    const adds = model.graph.nodes.filter((n) => n.opType === 'Add').length;
    assert.equal(kinds.filter((k) => k === 'Conv+Clip').length, clips);
    assert.equal(kinds.filter((k) => k === 'Conv+Add').length, adds);
    console.log(`      mobilenetv2-like: ${plan.stats.onnxNodes} ONNX nodes -> ${plan.layers.length} layers`);
    await sameGpu(gpu.device, model, feedsFor(model, 3, -1, 1));
  });

  it('fusion: false builds the graph as it is', () => {
    const plan = buildPlan(mobilenetV2Like(), CAPS, { fusion: false });
    assert.ok(plan.layers.every((l) => l.opTypes.length === 1));
    assert.ok(layerOps(plan).includes('Clip'));
  });

  it('logs what fused and the per-rule counts', () => {
    const lines: string[] = [];
    buildPlan(googlenetLike(), CAPS, { log: (l) => lines.push(l) });
    assert.ok(lines.includes('fusion: conv-batchnorm: stem, stem_bn -> stem+stem_bn'), lines.filter((l) => l.startsWith('fusion')).join('\n'));
    assert.ok(lines.some((l) => /^fusion: 50 nodes -> \d+; .*layer-activation x19/.test(l)));
  });
});
