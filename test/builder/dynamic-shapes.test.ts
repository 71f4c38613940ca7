/**
 * Dynamic input dimensions at build time (docs/dynamic-shapes.md): a dimension nobody gave becomes
 * 1 with a warning naming the input and the dimension (as trtexec does), and shape-computing
 * subgraphs fold for concrete input shapes whatever the size of the tensors they read (BERT's
 * position ids: Range over a sequence length read from Shape, at batch 256).
 */
import { strict as assert } from 'assert';
import { buildPlan } from '../../src/builder/builder';
import { GraphBuilder } from '../../src/ir/builder';
import { interpret } from '../../src/ops/interpreter';
import { inferShapes } from '../../src/ops/infer-shapes';
import { Tensor } from '../../src/ir/tensor';
import { bertEmbeddings } from '../helpers/dynamic-models';

const CAPS = { subgroupSize: 32, maxGroupsX: 65535, maxGroupsY: 65535, maxWorkgroupInvocations: 1024, fp16: false, alignment: 256 };

describe('dynamic input dimensions at build time', function () {
  this.timeout(120000);

  it('a dynamic dimension with no shape given becomes 1, with a warning naming the input and the dimension', () => {
    const b = new GraphBuilder('sym', { '': 17 });
    b.output(b.node('Relu', [b.input('x', 'float32', ['batch', 4, 'len'])])[0]);
    const model = b.build();
    const warnings: string[] = [], log: string[] = [];
    const plan = buildPlan(model, CAPS, { warn: (m) => warnings.push(m), log: (l) => log.push(l) });
    assert.deepEqual(plan.inputs[0].dims, [1, 4, 1]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /input 'x' \[batch,4,len\]: dynamic dimension 0 \('batch'\), dimension 2 \('len'\) not given; using 1/);
    assert.ok(log.some((l) => l.startsWith('warning: input \'x\'')), 'the warning is in the build log too');
    // the model's own declared type is untouched
    assert.deepEqual(model.graph.types.get('x')!.shape, ['batch', 4, 'len']);
    // a given shape: no warning
    const quiet: string[] = [];
    assert.deepEqual(buildPlan(model, CAPS, { inputShapes: { x: [3, 4, 5] }, warn: (m) => quiet.push(m) }).inputs[0].dims, [3, 4, 5]);
    assert.deepEqual(quiet, []);
  });

  it('without a warn hook the warning is a VkrtWarning on the process', async () => {
    const b = new GraphBuilder('sym', { '': 17 });
    b.output(b.node('Relu', [b.input('x', 'float32', ['n'])])[0]);
    const seen: Error[] = [];
    const on = (w: Error) => seen.push(w);
    process.on('warning', on);
    try {
      buildPlan(b.build(), CAPS);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', on);
    }
    const w = seen.find((x) => x.name === 'VkrtWarning');
    assert.ok(w, `no VkrtWarning among ${seen.map((x) => x.name).join(', ')}`);
    assert.match(w.message, /input 'x' \[n\]: dynamic dimension 0 \('n'\) not given; using 1/);
  });

  it('Shape folds from the dims alone: a Range over a sequence length read from a [256,128,768] tensor is static', () => {
    const model = bertEmbeddings();
    const inputTypes = new Map([['input_ids', { kind: 'tensor' as const, dtype: 'int64' as const, shape: [256, 128] }]]);
    const r = inferShapes(model.graph, model.opsets, { inputTypes });
    const range = model.graph.nodes.find((n) => n.opType === 'Range')!;
    assert.deepEqual(r.types.get(range.outputs[0])!.shape, [128]);
    assert.ok(r.folded.has(range), 'the Range folded to a constant');
    assert.deepEqual([...(r.constants.get(range.outputs[0])!.data as BigInt64Array)].slice(0, 3), [0n, 1n, 2n]);
  });

  it('BERT embeddings at batch 256 build (Range over Shape of a 25M-element tensor)', () => {
    const plan = buildPlan(bertEmbeddings(), CAPS, { inputShapes: { input_ids: [256, 128] } });
    assert.deepEqual(plan.outputs[0].dims, [256, 128]);
    assert.ok(plan.arenaBytes >= 256 * 128 * 768 * 4, 'the embeddings are planned in the arena');
  });

  it('the folded position ids compute what the reference interpreter does (batch 2, seq 5)', () => {
    // the plan above depends on the fold being right: check it against the interpreter on a small shape
    const model = bertEmbeddings(8, 16, 32);
    const ids = Tensor.from('int64', [2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const want = interpret(model, { input_ids: ids }).get(model.graph.outputs[0]) as Tensor;
    assert.deepEqual(want.dims, [2, 5]);
    const inputTypes = new Map([['input_ids', { kind: 'tensor' as const, dtype: 'int64' as const, shape: [2, 5] }]]);
    const r = inferShapes(model.graph, model.opsets, { inputTypes });
    const range = model.graph.nodes.find((n) => n.opType === 'Range')!;
    assert.deepEqual([...(r.constants.get(range.outputs[0])!.data as BigInt64Array)], [0n, 1n, 2n, 3n, 4n]);
  });
});
