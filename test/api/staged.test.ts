/**
 * Staged engines (src/api/staged.ts, docs/dynamic-shapes.md): data-dependent outputs (NonZero,
 * Compress) end a GPU stage, are trimmed to the count the GPU wrote and size the next stage, built
 * per concrete shape and cached; a stage whose shapes hang on a small input's value is built with
 * that value baked in; with host fallback a node the GPU cannot run becomes a host step (listed,
 * with its reason), without it the build fails as before; staged engine files round-trip.
 */
import { strict as assert } from 'assert';
import { buildStagedEngine, isStagedEngineFile, readStagedHeader, StagedEngine } from '../../src/api/staged';
import { InputError, ShapeError, UnsupportedError } from '../../src/errors';
import type { Device } from '../../src/gpu/device';
import { GraphBuilder } from '../../src/ir/builder';
import type { Model } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { interpret } from '../../src/ops/interpreter';
import type { RuntimeValue } from '../../src/ops/types';
import { compareTensors } from '../../src/conformance/compare';
import { assertNoValidationMessages, openDevice, testDeviceIndex } from '../helpers/gpu';
import { InferenceSession } from '../../src/api/session';
import { serializeModel } from '../../src/onnx/serialize';

/** y = Transpose(NonZero(Relu(x))) as float, times 2; z = Compress(x, x[:,0] > 0, axis 0) as a graph output. */
function nonZeroModel(): Model {
  const b = new GraphBuilder('staged', { '': 17 });
  const x = b.input('x', 'float32', [5, 7]);
  const [r] = b.node('Relu', [x]);
  const [nz] = b.node('NonZero', [r]);
  const [t] = b.node('Transpose', [nz], { perm: [1, 0] });
  const [f] = b.node('Cast', [t], { to: 1 });
  const two = b.initializer('two', Tensor.from('float32', [], [2]));
  const [y] = b.node('Mul', [f, two], {}, { outputs: ['y'] });
  const [col] = b.node('Slice', [x, b.constant(Tensor.from('int64', [1], [0])), b.constant(Tensor.from('int64', [1], [1])), b.constant(Tensor.from('int64', [1], [1]))]);
  const [flat] = b.node('Reshape', [col, b.constant(Tensor.from('int64', [1], [5]))]);
  const [cond] = b.node('Greater', [flat, b.constant(Tensor.from('float32', [], [0]))]);
  b.node('Compress', [x, cond], { axis: 0 }, { outputs: ['z'] });
  b.output(y, 'float32');
  b.output('z', 'float32');
  return b.build();
}

/** Abs, then TfIdfVectorizer (no GPU kernel), then Neg: a host step between GPU stages. */
function tfidfModel(): Model {
  const b = new GraphBuilder('fallback', { '': 17 });
  const x = b.input('x', 'int32', [2, 6]);
  const [a] = b.node('Abs', [x]);
  const [t] = b.node('TfIdfVectorizer', [a], { mode: 'TF', min_gram_length: 1, max_gram_length: 1, max_skip_count: 0, ngram_counts: [0], ngram_indexes: [0, 1, 2], pool_int64s: [1, 2, 3] }, { outputs: ['t'] });
  b.node('Neg', [t], {}, { outputs: ['y'] });
  b.output('y', 'float32');
  return b.build();
}

/** Abs, then Unique (a GPU twin, every output data-dependent), then Neg of its values. */
function uniqueModel(): Model {
  const b = new GraphBuilder('unique', { '': 17 });
  const x = b.input('x', 'float32', [9]);
  const [a] = b.node('Abs', [x]);
  b.node('Unique', [a], { sorted: 1 }, { outputs: ['u', '', 'inv', 'counts'] });
  b.node('Neg', ['u'], {}, { outputs: ['y'] });
  b.output('y', 'float32');
  b.output('inv', 'int64');
  b.output('counts', 'int64');
  return b.build();
}

function ints(dims: number[], seed: number): Tensor {
  const n = dims.reduce((p, d) => p * d, 1);
  return Tensor.from('int32', dims, Array.from({ length: n }, (_, i) => Math.round(Math.sin(i * 1.3 + seed) * 3)));
}

function seeded(dims: number[], seed: number): Tensor {
  const n = dims.reduce((p, d) => p * d, 1);
  return Tensor.from('float32', dims, Array.from({ length: n }, (_, i) => Math.round(Math.sin(i * 1.7 + seed) * 3)));
}

function assertSame(got: Map<string, RuntimeValue>, want: Map<string, RuntimeValue>, where: string): void {
  for (const [name, w] of want) {
    const g = got.get(name);
    assert.ok(g instanceof Tensor, `${where}: output ${name} missing`);
    assert.equal(compareTensors(w as Tensor, g, { rtol: 0, atol: 0 }), undefined, `${where}: output ${name}`);
  }
}

describe('staged engines: data-dependent shapes and host fallback', function () {
  this.timeout(300000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assertNoValidationMessages(device, 'staged'));
  after(() => device?.dispose());

  it('splits after NonZero and Compress, trims their outputs to the GPU count, builds the next stage per shape', async () => {
    const model = nonZeroModel();
    const se = buildStagedEngine(model, { device });
    try {
      const info = se.stageInfo;
      assert.deepEqual(info.map((s) => s.kind), ['gpu', 'gpu']);
      assert.deepEqual(info[0].trims.map((t) => [t.output, t.axis]).sort(), [[nz0(model), 1], ['z', 0]]);
      assert.deepEqual(se.fallbackNodes, []);
      const counts = new Set<number>();
      for (const seed of [1, 2, 1]) {
        const x = seeded([5, 7], seed);
        const want = interpret(model, { x });
        assertSame(await se.execute({ x }), want, `seed ${seed}`);
        counts.add((want.get('y') as Tensor).dims[0]);
      }
      assert.equal(counts.size, 2, 'the two inputs give different non-zero counts');
      // stage 0 once (fixed input shape), stage 1 once per count; the repeated input hit the cache
      assert.equal(se.builtEngines, 1 + counts.size);
      // runs started together take turns and each gets its own outputs
      const xs = [seeded([5, 7], 1), seeded([5, 7], 2)];
      const both = await Promise.all(xs.map((x) => se.execute({ x })));
      both.forEach((got, k) => assertSame(got, interpret(model, { x: xs[k] }), `concurrent run ${k}`));
    } finally {
      se.dispose();
    }
  });

  it('without host fallback a node the GPU cannot run fails the build, naming it', () => {
    assert.throws(() => buildStagedEngine(tfidfModel(), { device }), (e: unknown) => e instanceof UnsupportedError && /TfIdfVectorizer.*no GPU kernel/s.test(e.message) && e.refused?.length === 1 && e.refused[0].reason === 'no GPU kernel');
  });

  it('Unique runs on the GPU through its bounded twin: every output trimmed, an absent output skipped', async () => {
    const model = uniqueModel();
    const se = buildStagedEngine(model, { device });
    try {
      assert.deepEqual(se.stageInfo.map((s) => s.kind), ['gpu', 'gpu']);
      assert.deepEqual(se.stageInfo[0].trims.map((t) => t.output), ['u', 'inv', 'counts']);
      for (const seed of [1, 2]) {
        const x = seeded([9], seed);
        assertSame(await se.execute({ x }), interpret(model, { x }), `seed ${seed}`);
      }
      assert.deepEqual(se.fallbackNodes, []);
    } finally {
      se.dispose();
    }
  });

  it('with host fallback runs it on the CPU reference between GPU stages, lists it, and round-trips as a file', async () => {
    const model = tfidfModel();
    const logs: string[] = [];
    const se = buildStagedEngine(model, { device, hostFallback: true, log: (l) => logs.push(l) });
    let bytes: Uint8Array;
    let stages: unknown;
    const x = ints([2, 6], 3);
    const want = interpret(model, { x });
    try {
      assertSame(await se.execute({ x }), want, 'fallback run');
      assert.deepEqual(se.fallbackNodes.map((f) => [f.opType, f.reason]), [['TfIdfVectorizer', 'no GPU kernel']]);
      assert.deepEqual(se.stageInfo.map((s) => s.kind), ['gpu', 'host', 'gpu']);
      assert.ok(logs.some((l) => /host fallback: .*\(TfIdfVectorizer\) runs on the CPU reference: no GPU kernel/.test(l)), 'the build log names the fallback node');
      assert.ok(se.describe().some((l) => /fallback: .*\(TfIdfVectorizer\) runs on the host: no GPU kernel/.test(l)));
      stages = se.stageInfo;
      bytes = se.serialize();
    } finally {
      se.dispose();
    }
    assert.ok(isStagedEngineFile(bytes));
    const { header } = readStagedHeader(bytes);
    assert.equal(header.engines.length, 2, 'both GPU stages travel in the file');
    const back = StagedEngine.deserialize(bytes, { device });
    try {
      assert.equal(back.builtEngines, 2);
      assert.deepEqual(back.fallbackNodes.map((f) => f.opType), ['TfIdfVectorizer']);
      assert.deepEqual(back.stageInfo, stages);
      assertSame(await back.execute({ x }), want, 'loaded file');
      assert.equal(back.builtEngines, 2, 'the loaded engines ran: nothing was built again');
    } finally {
      back.dispose();
    }
    const cut = bytes.slice(0, bytes.byteLength - 10);
    assert.throws(() => StagedEngine.deserialize(cut, { device }), InputError);
  });

  it('bakes a small run-time input that sizes a stage (Range limit), one engine per value', async () => {
    const b = new GraphBuilder('range', { '': 17 });
    const limit = b.input('limit', 'int64', []);
    const x = b.input('x', 'float32', [3]);
    const [r] = b.node('Range', [b.constant(Tensor.from('int64', [], [0])), limit, b.constant(Tensor.from('int64', [], [1]))]);
    const [f] = b.node('Cast', [r], { to: 1 });
    const [col] = b.node('Unsqueeze', [f, b.constant(Tensor.from('int64', [1], [1]))]);
    b.node('Add', [col, x], {}, { outputs: ['y'] });
    b.output('y', 'float32');
    const model = b.build();
    const se = buildStagedEngine(model, { device });
    try {
      for (const n of [5, 9, 5]) {
        const feeds = { limit: Tensor.from('int64', [], [n]), x: Tensor.from('float32', [3], [0.5, -1, 2]) };
        const got = await se.execute(feeds);
        assert.equal(compareTensors(interpret(model, feeds).get('y') as Tensor, got.get('y') as Tensor, { rtol: 0, atol: 0 }), undefined, `limit ${n}`);
        assert.deepEqual([...(got.get('y') as Tensor).dims], [n, 3]);
      }
      assert.equal(se.builtEngines, 2);
      assert.deepEqual(se.fallbackNodes, []);
    } finally {
      se.dispose();
    }
  });

  it('does not bake values that would fold the whole stage into a constant (that is CPU work): refused without fallback', async () => {
    const b = new GraphBuilder('range_only', { '': 17 });
    const limit = b.input('limit', 'int64', []);
    const [r] = b.node('Range', [b.constant(Tensor.from('int64', [], [0])), limit, b.constant(Tensor.from('int64', [], [1]))]);
    b.node('Cast', [r], { to: 1 }, { outputs: ['y'] });
    b.output('y', 'float32');
    const se = buildStagedEngine(b.build(), { device });
    try {
      await assert.rejects(se.execute({ limit: Tensor.from('int64', [], [4]) }), (e: unknown) => e instanceof ShapeError && /Range/.test(e.message));
    } finally {
      se.dispose();
    }
  });
});

describe('staged engines: values the GPU never holds', function () {
  this.timeout(300000);

  it('with host fallback, a sequence node is a host step from the start, named in the build log', async () => {
    const b = new GraphBuilder('seq', { '': 17 });
    const x = b.input('x', 'float32', [2, 3]);
    const [a] = b.node('Abs', [x]);
    const [s] = b.node('SplitToSequence', [a], { axis: 1, keepdims: 0 });
    const [c] = b.node('ConcatFromSequence', [s], { axis: 0 });
    b.node('Sqrt', [c], {}, { outputs: ['y'] });
    b.output('y', 'float32');
    const model = b.build();
    const logs: string[] = [];
    const device = openDevice();
    const se = buildStagedEngine(model, { device, hostFallback: true, log: (l) => logs.push(l) });
    try {
      assert.deepEqual(se.fallbackNodes.map((f) => f.opType).sort(), ['ConcatFromSequence', 'SplitToSequence']);
      assert.ok(logs.filter((l) => /^host fallback: .*sequence/.test(l)).length === 2, logs.join('\n'));
      const xv = seeded([2, 3], 7);
      assertSame(await se.execute({ x: xv }), interpret(model, { x: xv }), 'sequence model');
      assert.deepEqual(se.stageInfo.map((st) => st.kind), ['gpu', 'host', 'gpu']);
    } finally {
      se.dispose();
      assertNoValidationMessages(device, 'sequence model');
      device.dispose();
    }
  });
});

describe('InferenceSession on staged engines', function () {
  this.timeout(300000);

  it('runs a model with NonZero (staged automatically) and, with hostFallback, one with a host node', async () => {
    const model = nonZeroModel();
    const session = await InferenceSession.create(serializeModel(model), { deviceIndex: testDeviceIndex() });
    try {
      assert.ok(session.staged);
      assert.throws(() => session.engine, InputError);
      assert.deepEqual(session.outputNames, ['y', 'z']);
      const x = seeded([5, 7], 4);
      const got = await session.run({ x });
      const want = interpret(model, { x });
      for (const n of ['y', 'z']) assert.equal(compareTensors(want.get(n) as Tensor, got[n], { rtol: 0, atol: 0 }), undefined, n);
    } finally {
      await session.release();
    }
    const bytes = serializeModel(tfidfModel());
    await assert.rejects(InferenceSession.create(bytes, { deviceIndex: testDeviceIndex() }), UnsupportedError);
    const fb = await InferenceSession.create(bytes, { deviceIndex: testDeviceIndex(), hostFallback: true });
    try {
      const x = ints([2, 6], 5);
      const got = await fb.run({ x });
      assert.equal(compareTensors(interpret(tfidfModel(), { x }).get('y') as Tensor, got.y, { rtol: 0, atol: 0 }), undefined);
      assert.deepEqual(fb.staged!.fallbackNodes.map((f) => f.opType), ['TfIdfVectorizer']);
    } finally {
      await fb.release();
    }
  });
});

/** The NonZero node's output name in nonZeroModel. */
function nz0(model: Model): string {
  return model.graph.nodes.find((n) => n.opType === 'NonZero')!.outputs[0];
}
