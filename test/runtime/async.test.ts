/**
 * Asynchronous, overlapped runs (docs/async.md): enqueue() with several runs in flight gives the
 * outputs of runs one at a time (under the validation layer with synchronization validation, which
 * useGpu turns on), in order; inputs are snapshotted at submission; DeviceTensors chain two engines
 * on the device as the host round trip does; several contexts (streams) run concurrently.
 */
import { strict as assert } from 'assert';
import { buildEngine } from '../../src/api/build';
import { DeviceTensorError, DisposedError, InputError, ProfileShapeError } from '../../src/errors';
import { Device } from '../../src/gpu/device';
import { GraphBuilder } from '../../src/ir/builder';
import type { Model } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { DeviceTensor } from '../../src/runtime/device-tensor';
import type { Engine } from '../../src/runtime/engine';
import { openDevice, pattern, useGpu, assertNoValidationMessages } from '../helpers/gpu';
import { mobilenetV2Like } from '../helpers/nets';

/** x[1,C,H,W] -> 1x1 Conv (C->C) -> Relu -> y: a stage whose output can feed the next. */
function stage(name: string, seed: number, c = 8, hw = 16, pool = false): Model {
  const b = new GraphBuilder(name, { '': 13 });
  const x = b.input('x', 'float32', [1, c, hw, hw]);
  const w = b.initializer('w', Tensor.from('float32', [c, c, 1, 1], Array.from({ length: c * c }, (_, i) => (((i + seed) * 37) % 17) / 17 - 0.5)));
  const conv = b.node('Conv', [x, w], { kernel_shape: [1, 1] }, { name: 'conv' })[0];
  const r = b.node('Relu', [conv], {}, { name: 'relu', outputs: pool ? undefined : ['y'] })[0];
  const y = pool ? b.node('GlobalAveragePool', [r], {}, { name: 'pool', outputs: ['y'] })[0] : r;
  b.output(y);
  return b.build();
}

function randomInput(dims: number[], seed: number): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const bytes = pattern(n, seed);
  return new Tensor('float32', dims, Float32Array.from(bytes, (v) => v / 64 - 2));
}

function same(a: Map<string, Tensor | DeviceTensor>, b: Map<string, Tensor>, what: string): void {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort(), what);
  for (const [k, t] of b) {
    const u = a.get(k);
    assert.ok(u instanceof Tensor, `${what}: '${k}' is a host Tensor`);
    assert.deepEqual(u.dims, t.dims, `${what}: '${k}' dims`);
    assert.deepEqual(u.data, t.data, `${what}: '${k}' values`);
  }
}

describe('asynchronous runs (enqueue, staging slots)', function () {
  this.timeout(300000);
  const gpu = useGpu();
  let engine: Engine;
  before(() => { engine = buildEngine(mobilenetV2Like({ size: 16 }), { device: gpu.device }); });
  after(() => engine?.dispose());

  const inputsOf = (seed: number) => new Map(engine.inputs.map((io) => [io.name, randomInput(io.dims, seed)]));

  it('runs in flight at once give the outputs of runs one at a time, settling in order', async () => {
    const ctx = engine.createExecutionContext();
    const feeds = [1, 2, 3, 4, 5, 6, 7].map(inputsOf);
    const sequential: Map<string, Tensor>[] = [];
    for (const f of feeds) sequential.push(await ctx.execute(f));
    // distinct inputs give distinct outputs, so a run reading another's staging would show
    assert.notDeepEqual(sequential[0].get(engine.outputs[0].name)!.data, sequential[1].get(engine.outputs[0].name)!.data);
    for (const depth of [2, 3, 4]) {
      ctx.maxInFlight = depth;
      const order: number[] = [];
      const runs = feeds.map((f, i) => {
        const r = ctx.enqueue(f);
        void r.outputs.then(() => order.push(i));
        return r;
      });
      assert.equal(ctx.inFlight, feeds.length);
      const outs = await Promise.all(runs.map((r) => r.outputs));
      outs.forEach((o, i) => same(o, sequential[i], `depth ${depth}, run ${i}`));
      assert.deepEqual(order, feeds.map((_, i) => i), 'runs settle in the order they were enqueued');
      assert.equal(ctx.inFlight, 0);
    }
    ctx.dispose();
  });

  it('with free slots, every run is on the queue before the first completes (several programs in flight on one queue)', async () => {
    const ctx = engine.createExecutionContext();
    ctx.maxInFlight = 3;
    const events: string[] = [];
    const runs = [1, 2, 3].map((seed, i) => {
      const r = ctx.enqueue(inputsOf(seed));
      void r.submitted.then(() => events.push(`submitted ${i}`));
      void r.outputs.then(() => events.push(`outputs ${i}`));
      return r;
    });
    await Promise.all(runs.map((r) => r.outputs));
    assert.deepEqual(events, ['submitted 0', 'submitted 1', 'submitted 2', 'outputs 0', 'outputs 1', 'outputs 2']);
    const slots = await Promise.all(runs.map(async (r) => (await r.timing).slot));
    assert.deepEqual(slots, [0, 1, 2], 'each run in flight has a staging slot of its own');
    ctx.dispose();
  });

  it('enqueue() submits before it returns when a slot is free; host inputs may change once submitted', async () => {
    const ctx = engine.createExecutionContext();
    const a = inputsOf(11), b = inputsOf(12);
    const wantA = await ctx.execute(a), wantB = await ctx.execute(b);
    const fresh = inputsOf(11); // same values as a
    const r1 = ctx.enqueue(fresh);
    let submitted = false;
    void r1.submitted.then(() => { submitted = true; });
    await r1.submitted;
    assert.ok(submitted);
    // overwrite the inputs while the run may still be on the GPU: its staging holds a snapshot
    for (const [n, t] of fresh) (t.data as Float32Array).set(b.get(n)!.data as Float32Array);
    const r2 = ctx.enqueue(fresh);
    same(await r1.outputs, wantA, 'run 1 saw the inputs as they were at submission');
    same(await r2.outputs, wantB, 'run 2 saw the new values');
    ctx.dispose();
  });

  it('checks inputs synchronously; execute() rejects instead; a disposed context refuses; queued runs fail when it is disposed', async () => {
    const ctx = engine.createExecutionContext();
    assert.throws(() => ctx.enqueue({}), InputError);
    await assert.rejects(ctx.execute({}), InputError);
    assert.throws(() => { ctx.maxInFlight = 0; }, InputError);
    ctx.maxInFlight = 1;
    const first = ctx.enqueue(inputsOf(1));
    const queued = ctx.enqueue(inputsOf(2)); // waits for run 1's slot
    ctx.dispose();
    same(await first.outputs, await (async () => { const c = engine.createExecutionContext(); const o = await c.execute(inputsOf(1)); c.dispose(); return o; })(), 'a run submitted before dispose() completes');
    await assert.rejects(queued.outputs, DisposedError);
    await assert.rejects(queued.submitted, DisposedError);
    assert.throws(() => ctx.enqueue(inputsOf(3)), DisposedError);
  });

  it('checkFinite runs do not overlap and still give the same outputs', async () => {
    const ctx = engine.createExecutionContext();
    const feeds = [1, 2, 3].map(inputsOf);
    const want: Map<string, Tensor>[] = [];
    for (const f of feeds) want.push(await ctx.execute(f));
    ctx.checkFinite = true;
    const outs = await Promise.all(feeds.map((f) => ctx.execute(f)));
    outs.forEach((o, i) => same(o, want[i], `checkFinite run ${i}`));
    ctx.dispose();
  });

  it('several contexts (streams) of one engine run concurrently with the same outputs', async () => {
    const ctxs = [0, 1, 2].map(() => engine.createExecutionContext());
    const feeds = [1, 2, 3, 4].map(inputsOf);
    const want: Map<string, Tensor>[] = [];
    for (const f of feeds) want.push(await ctxs[0].execute(f));
    const all = ctxs.flatMap((c) => feeds.map((f) => c.execute(f)));
    const outs = await Promise.all(all);
    outs.forEach((o, i) => same(o, want[i % feeds.length], `stream ${Math.floor(i / feeds.length)}, run ${i % feeds.length}`));
    const q = gpu.device.info.queueCount;
    assert.deepEqual(ctxs.map((c) => c.queue), [0, 1, 2].map((i) => i % q), 'contexts spread over the queues');
    for (const c of ctxs) c.dispose();
  });
});

describe('device tensors (IO binding)', function () {
  this.timeout(300000);
  const gpu = useGpu();
  let a: Engine, b: Engine;
  before(() => {
    a = buildEngine(stage('a', 1), { device: gpu.device });
    b = buildEngine(stage('b', 5, 8, 16, true), { device: gpu.device });
  });
  after(() => { a?.dispose(); b?.dispose(); });

  it("chaining two engines through a device tensor matches the host round trip", async () => {
    const ca = a.createExecutionContext(), cb = b.createExecutionContext();
    const xs = [1, 2, 3, 4].map((s) => randomInput([1, 8, 16, 16], s));
    const want: Map<string, Tensor>[] = [];
    for (const x of xs) {
      const ya = (await ca.execute({ x })).get('y')!;
      want.push(await cb.execute({ x: ya }));
    }
    // one device tensor per run in flight, reused: a's output written on the device, b reads it there
    const mids = [0, 1].map(() => a.createDeviceTensor('y'));
    const runs = xs.map((x, i) => {
      const mid = mids[i % 2];
      ca.enqueue({ x }, { outputs: { y: mid } });
      return cb.enqueue({ x: mid }).outputs;
    });
    const outs = await Promise.all(runs);
    outs.forEach((o, i) => same(o, want[i], `chained run ${i}`));
    // the intermediate downloads as a's host output
    const last = await mids[1].download();
    assert.deepEqual(last.data, (await ca.execute({ x: xs[3] })).get('y')!.data);
    for (const m of mids) m.dispose();
    ca.dispose();
    cb.dispose();
  });

  it("preferredOutputLocation 'gpu-buffer' returns caller-owned device tensors; DeviceTensor.from feeds an input", async () => {
    const ca = a.createExecutionContext();
    const x = randomInput([1, 8, 16, 16], 9);
    const host = (await ca.execute({ x })).get('y')!;
    const out = await ca.execute({ x: DeviceTensor.from(gpu.device, x) }, { preferredOutputLocation: 'gpu-buffer' });
    const y = out.get('y');
    assert.ok(y instanceof DeviceTensor && y.location === 'gpu-buffer');
    assert.deepEqual((await y.download()).data, host.data);
    y.dispose();
    assert.equal(y.location, 'none');
    await assert.rejects(y.download(), DisposedError);
    ca.dispose();
  });

  it('typed errors: another device, disposed, wrong dtype, shape or storage, an output that is also an input', async () => {
    const ca = a.createExecutionContext();
    const other: Device = openDevice();
    try {
      const foreign = DeviceTensor.alloc(other, 'float32', [1, 8, 16, 16]);
      assert.throws(() => ca.enqueue({ x: foreign }), (e: unknown) => e instanceof DeviceTensorError && e.reason === 'device' && e.tensor === 'x' && /another device/.test(e.message));
      foreign.dispose();
      assertNoValidationMessages(other, 'the other device');
    } finally {
      other.dispose();
    }
    const gone = a.createDeviceTensor('x');
    gone.dispose();
    assert.throws(() => ca.enqueue({ x: gone }), DisposedError);
    const ints = DeviceTensor.alloc(gpu.device, 'int32', [1, 8, 16, 16]);
    assert.throws(() => ca.enqueue({ x: ints }), InputError); // dtype
    const small = DeviceTensor.alloc(gpu.device, 'float32', [1, 8, 8, 8]);
    assert.throws(() => ca.enqueue({ x: small }), ProfileShapeError); // the engine's input shape, as for a host tensor
    const half = DeviceTensor.alloc(gpu.device, 'float32', [1, 8, 16, 16], 'f16');
    assert.throws(() => ca.enqueue({ x: half }), (e: unknown) => e instanceof DeviceTensorError && e.reason === 'storage');
    assert.throws(() => ca.enqueue({ x: randomInput([1, 8, 16, 16], 1) }, { outputs: { y: small } }), (e: unknown) => e instanceof DeviceTensorError && e.reason === 'shape');
    assert.throws(() => ca.enqueue({ x: randomInput([1, 8, 16, 16], 1) }, { outputs: { nope: small } }), InputError);
    const both = a.createDeviceTensor('x');
    assert.throws(() => ca.enqueue({ x: both }, { outputs: { y: both } }), /also an input/);
    await assert.rejects(ca.execute({ x: gone }), DisposedError);
    for (const t of [ints, small, half, both]) t.dispose();
    assert.throws(() => a.createDeviceTensor('nope'), InputError);
    ca.dispose();
  });
});
