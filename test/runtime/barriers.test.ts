/**
 * Barriers only where data flows (src/runtime/barriers.ts): the planner on hand-made plans for each
 * kind of hazard, then on real networks under synchronization validation (which reports a missing
 * barrier between dependent dispatches; the first test shows it does).
 */
import { strict as assert } from 'assert';
import { buildEngine } from '../../src/api/build';
import { grid1d } from '../../src/gpu';
import { Tensor } from '../../src/ir/tensor';
import type { EnginePlan, PlannedLayer, PlannedTensor } from '../../src/kernel/plan';
import { googlenetLike, mobilenetV2Like } from '../../src/models/nets';
import { interpret } from '../../src/ops/interpreter';
import { barrierCounts, planBarriers } from '../../src/runtime/barriers';
import { useGpu, validationWanted } from '../helpers/gpu';
import { scaleBiasPipeline, scaleBiasPush } from '../helpers/kernels';
import { compareTensors } from '../../src/conformance/compare';

function tensor(name: string, offset: number, bytes: number, kind: PlannedTensor['kind'] = 'activation'): PlannedTensor {
  return { name, dtype: 'float32', gpu: 'f32', dims: [bytes / 4], bytes, kind, offset };
}

function layer(name: string, inputs: string[], outputs: string[], scratch = false): PlannedLayer {
  const bindings = [...inputs, ...outputs].map((t) => ({ tensor: t }));
  return {
    name, opTypes: ['Op'], kernel: 'k', precision: 'fp32', inputs, outputs,
    dispatches: [{ shader: 's', params: [], workgroup: [64, 1, 1], groups: [1, 1, 1], bindings: scratch ? [...bindings, { scratch: 0 }] : bindings }],
    kernelWeights: [], scratch: scratch ? [{ offset: 0, bytes: 64 }] : [],
  };
}

function plan(tensors: PlannedTensor[], layers: PlannedLayer[]): EnginePlan {
  return {
    layers, tensors: new Map(tensors.map((t) => [t.name, t])), inputs: [], outputs: [], constantOutputs: new Map(), outputRoots: new Map(),
    arenaBytes: 4096, naiveActivationBytes: 0, weightBytes: 256, scratchBytes: 64, weightData: new Map(), paramMode: 'spec', alignment: 256,
    stats: { onnxNodes: 0, folded: 0, views: 0, layers: layers.length },
  };
}

describe('barrier planner', () => {
  const x = tensor('x', 0, 256, 'input'), a = tensor('a', 256, 256), b = tensor('b', 512, 256), c = tensor('c', 768, 256);

  it('read after write: a layer reading what the previous one wrote waits for it', () => {
    assert.deepEqual(planBarriers(plan([x, a, b], [layer('l0', ['x'], ['a']), layer('l1', ['a'], ['b'])])), [[false], [true]]);
  });

  it('independent branches share no barrier; their join waits', () => {
    const p = plan([x, a, b, c], [layer('l0', ['x'], ['a']), layer('l1', ['x'], ['b']), layer('l2', ['a', 'b'], ['c'])]);
    assert.deepEqual(planBarriers(p), [[false], [false], [true]]);
  });

  it('write after read: a reused arena range is not overwritten while a pending layer reads it', () => {
    // l1 writes 'b2', which the memory plan put on top of 'x' that l0 (pending) reads
    const b2 = tensor('b2', 0, 128);
    assert.deepEqual(planBarriers(plan([x, a, b2], [layer('l0', ['x'], ['a']), layer('l1', [], ['b2'])])), [[false], [true]]);
  });

  it('write after write, and scratch shared by consecutive layers', () => {
    assert.deepEqual(planBarriers(plan([x, a], [layer('l0', ['x'], ['a']), layer('l1', ['x'], ['a'])])), [[false], [true]]);
    assert.deepEqual(planBarriers(plan([x, a, b], [layer('l0', ['x'], ['a'], true), layer('l1', ['x'], ['b'], true)])), [[false], [true]]);
  });

  it('a barrier clears what is pending', () => {
    const p = plan([x, a, b, c], [layer('l0', ['x'], ['a']), layer('l1', ['a'], ['b']), layer('l2', ['x'], ['c'])]);
    // l2 reads x only: no hazard with l1 (written b, read a) after the barrier before l1
    assert.deepEqual(planBarriers(p), [[false], [true], [false]]);
  });
});

describe('barrier planner on the GPU', function () {
  this.timeout(300000);
  const gpu = useGpu();

  it('synchronization validation reports a dependent dispatch recorded without a barrier (the check has teeth)', async function () {
    if (!validationWanted()) this.skip(); // reason: needs VKRT_VALIDATION=1 (npm test sets it)
    const d = gpu.device;
    const n = 1024;
    const x = d.createBuffer(n * 4, 'upload'), y = d.createBuffer(n * 4, 'device'), z = d.createBuffer(n * 4, 'readback');
    const p = scaleBiasPipeline(d, 2);
    const prog = d.createProgram([
      { op: 'dispatch', pipeline: p, bindings: [x, y], push: scaleBiasPush(n, 0), groups: grid1d(n, 64) },
      { op: 'dispatch', pipeline: p, bindings: [y, z], push: scaleBiasPush(n, 0), groups: grid1d(n, 64) },
    ]);
    await prog.submit();
    const messages = d.drainValidationMessages();
    for (const o of [prog, p, x, y, z]) o.dispose();
    assert.ok(messages.some((m) => /SYNC-HAZARD/.test(m)), `expected a SYNC-HAZARD report, got: ${messages.join('\n') || 'none'}`);
  });

  for (const [name, make] of [['googlenet-like', () => googlenetLike({ size: 32 })], ['mobilenetv2-like', () => mobilenetV2Like({ size: 32 })]] as const) {
    it(`${name}: fewer barriers than dispatches, outputs match the reference, no hazard reported`, async () => {
      const model = make();
      const engine = buildEngine(model, { device: gpu.device });
      try {
        const counts = barrierCounts(engine.plan);
        console.log(`      ${name}: ${counts.dispatches} dispatches, ${counts.planned} barriers (was ${counts.dispatches})`);
        assert.ok(counts.planned < counts.dispatches);
        const io = engine.inputs[0];
        const input = new Tensor('float32', io.dims, Float32Array.from({ length: io.dims.reduce((p, q) => p * q, 1) }, (_, i) => Math.sin(i * 0.37)));
        const feeds = new Map([[io.name, input]]);
        const ref = interpret(make(), feeds);
        const ctx = engine.createExecutionContext();
        for (let run = 0; run < 3; run++) {
          const out = await ctx.execute(feeds);
          for (const [k, v] of ref) assert.equal(compareTensors(v as Tensor, out.get(k)!, { rtol: 1e-3, atol: 1e-4 }), undefined, `${k} run ${run}`);
        }
      } finally {
        engine.dispose();
      }
    });
  }
});
