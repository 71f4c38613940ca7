/**
 * The dynamic batcher's scheduling, on an executor that records the batches it is given and
 * computes y = 10 * x + instance-free offset per row (no GPU): Triton's rules for max batch,
 * preferred sizes, the queue delay, a batch that cannot grow, timeouts, a full queue, an engine
 * failure confined to its batch, and drain.
 */
import { strict as assert } from 'assert';
import { Tensor } from '../../src/ir/tensor';
import { DynamicBatcher, type BatchResult } from '../../src/serve/batcher';
import { ServeError } from '../../src/serve/errors';
import type { IoSpec, ModelExecutor } from '../../src/serve/executor';

class RecordingExecutor implements ModelExecutor {
  readonly inputs: IoSpec[] = [{ name: 'x', dtype: 'float32', dims: [-1, 2] }];
  readonly outputs: IoSpec[] = [{ name: 'y', dtype: 'float32', dims: [-1, 2] }];
  readonly builtSizes = [];
  readonly batches: { instance: number; rows: number }[] = [];
  /** Executions wait for release() when gated. */
  gate?: Promise<void>;
  private open?: () => void;
  failWhen?: (x: Float32Array) => boolean;
  running = 0;
  maxRunning = 0;
  constructor(readonly maxBatch: number, readonly instances = 1) {}
  hold(): void {
    this.gate = new Promise((r) => { this.open = r; });
  }
  release(): void {
    this.open?.();
    this.gate = undefined;
  }
  async prepare(): Promise<void> {}
  async execute(instance: number, inputs: Map<string, Tensor>, rows: number): Promise<Map<string, Tensor>> {
    this.batches.push({ instance, rows });
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      await this.gate;
      await new Promise((r) => setImmediate(r));
      const x = inputs.get('x')!;
      assert.equal(x.dims[0], rows || x.dims[0]);
      const d = x.data as Float32Array;
      if (this.failWhen?.(d)) throw new Error('kernel exploded');
      return new Map([['y', new Tensor('float32', [...x.dims], d.map((v) => 10 * v))]]);
    } finally {
      this.running--;
    }
  }
  dispose(): void {}
}

/** A request of `rows` rows whose values are `tag`, `tag`+0.5, ... */
function rowsOf(tag: number, rows: number): Map<string, Tensor> {
  return new Map([['x', new Tensor('float32', [rows, 2], Float32Array.from({ length: rows * 2 }, (_, i) => tag + i / 2))]]);
}

function checkOwn(r: BatchResult, tag: number, rows: number): void {
  const y = r.outputs.get('y')!;
  assert.deepEqual(y.dims, [rows, 2]);
  assert.deepEqual(Array.from(y.data as Float32Array), Array.from({ length: rows * 2 }, (_, i) => 10 * (tag + i / 2)));
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('serve: dynamic batcher scheduling', () => {
  it('merges queued requests up to max_batch_size and gives each its own rows', async () => {
    const ex = new RecordingExecutor(8);
    ex.hold();
    const b = new DynamicBatcher(ex, { maxQueueDelayUs: 0 });
    const first = b.submit(rowsOf(100, 1), 1); // runs alone: the instance was free
    const sizes = [1, 2, 3, 2, 4];
    const rest = sizes.map((n, i) => b.submit(rowsOf(i * 10, n), n));
    await tick();
    assert.equal(b.queued, 5);
    ex.release();
    checkOwn(await first, 100, 1);
    const results = await Promise.all(rest);
    results.forEach((r, i) => checkOwn(r, i * 10, sizes[i]));
    // 1 | 1+2+3+2 = 8 (max) | 4
    assert.deepEqual(ex.batches.map((x) => x.rows), [1, 8, 4]);
    assert.deepEqual(results.map((r) => r.batchRows), [8, 8, 8, 8, 4]);
  });

  it('sends the largest preferred size it can form, and waits for the delay otherwise', async () => {
    const ex = new RecordingExecutor(8);
    const b = new DynamicBatcher(ex, { preferred: [2, 4], maxQueueDelayUs: 60_000_000 });
    // 3 requests: 2 is preferred but 4 could still form: the batcher waits (the delay is a minute)
    const a = [0, 1, 2].map((i) => b.submit(rowsOf(i, 1), 1));
    await tick();
    assert.equal(ex.batches.length, 0, 'sent before the largest preferred size or the delay');
    const d = b.submit(rowsOf(3, 1), 1); // 4 = the largest preferred size: goes at once
    const all = await Promise.all([...a, d]);
    all.forEach((r, i) => checkOwn(r, i, 1));
    assert.deepEqual(ex.batches.map((x) => x.rows), [4]);
  });

  it('after max_queue_delay sends the largest preferred batch, then the rest', async () => {
    const ex = new RecordingExecutor(8);
    ex.hold();
    const b = new DynamicBatcher(ex, { preferred: [2], maxQueueDelayUs: 20_000 });
    const blocker = b.submit(rowsOf(9, 2), 2); // holds the only instance
    await tick();
    const three = [0, 1, 2].map((i) => b.submit(rowsOf(i, 1), 1));
    await new Promise((r) => setTimeout(r, 40)); // past the delay while the instance is busy
    ex.release();
    const r = await Promise.all([blocker, ...three]);
    r.slice(1).forEach((x, i) => checkOwn(x, i, 1));
    // the preferred 2 first (not all 3), then the last one after its own delay
    assert.deepEqual(ex.batches.map((x) => x.rows), [2, 2, 1]);
  });

  it('does not wait when the next request cannot join (it would pass max_batch_size)', async () => {
    const ex = new RecordingExecutor(8);
    ex.hold();
    const b = new DynamicBatcher(ex, { maxQueueDelayUs: 60_000_000 });
    const p = [b.submit(rowsOf(1, 8), 8)];
    await tick();
    p.push(b.submit(rowsOf(2, 5), 5), b.submit(rowsOf(3, 5), 5));
    await tick();
    ex.release();
    checkOwn(await p[0], 1, 8);
    checkOwn(await p[1], 2, 5);
    // 8 (full), then 5 at once (the next 5 cannot join), then the last 5 waits for company: its
    // delay is a minute, so it is still queued until drain() sends it
    await tick();
    assert.deepEqual(ex.batches.map((x) => x.rows), [8, 5]);
    assert.equal(b.queued, 1);
    await b.drain();
    checkOwn(await p[2], 3, 5);
    assert.deepEqual(ex.batches.map((x) => x.rows), [8, 5, 5]);
  }).timeout(5000);

  it('runs batches on several instances at once', async () => {
    const ex = new RecordingExecutor(2, 3);
    ex.hold();
    const b = new DynamicBatcher(ex, {});
    const all = Array.from({ length: 6 }, (_, i) => b.submit(rowsOf(i, 1), 1));
    await tick();
    assert.equal(ex.maxRunning, 3);
    assert.deepEqual(new Set(ex.batches.map((x) => x.instance)), new Set([0, 1, 2]));
    ex.release();
    (await Promise.all(all)).forEach((r, i) => checkOwn(r, i, 1));
  });

  it('a model without a batch dimension runs one request per execution', async () => {
    const ex = new RecordingExecutor(0);
    ex.hold();
    const b = new DynamicBatcher(ex, { maxQueueDelayUs: 1000 });
    const all = [0, 1, 2].map((i) => b.submit(rowsOf(i, 2), 0));
    ex.release();
    (await Promise.all(all)).forEach((r, i) => checkOwn(r, i, 2));
    assert.deepEqual(ex.batches.map((x) => x.rows), [0, 0, 0]);
  });

  it('a request still queued at its timeout is answered 504; the others run', async () => {
    const ex = new RecordingExecutor(4);
    ex.hold();
    const b = new DynamicBatcher(ex, {});
    const running = b.submit(rowsOf(0, 4), 4);
    await tick();
    const late = b.submit(rowsOf(1, 1), 1, 10_000);
    const patient = b.submit(rowsOf(2, 1), 1);
    await assert.rejects(late, (e: ServeError) => e.status === 504 && /timed out after .* in the queue \(timeout 10000 us\)/.test(e.message));
    ex.release();
    checkOwn(await running, 0, 4);
    checkOwn(await patient, 2, 1);
  });

  it('a request whose client went away leaves the queue unrun (499)', async () => {
    const ex = new RecordingExecutor(1);
    ex.hold();
    const b = new DynamicBatcher(ex, {});
    const running = b.submit(rowsOf(0, 1), 1);
    await tick();
    const gone = new AbortController();
    const abandoned = b.submit(rowsOf(1, 1), 1, undefined, gone.signal);
    const kept = b.submit(rowsOf(2, 1), 1);
    gone.abort();
    await assert.rejects(abandoned, (e: ServeError) => e.status === 499 && e.reason === 'cancelled');
    assert.equal(b.queued, 1);
    ex.release();
    checkOwn(await running, 0, 1);
    checkOwn(await kept, 2, 1);
    assert.equal(ex.batches.length, 2, 'the abandoned request ran');
    const already = new AbortController();
    already.abort();
    await assert.rejects(b.submit(rowsOf(3, 1), 1, undefined, already.signal), (e: ServeError) => e.status === 499);
  });

  it('a full queue answers 429 at once', async () => {
    const ex = new RecordingExecutor(1);
    ex.hold();
    const b = new DynamicBatcher(ex, { maxQueueSize: 2 });
    const ok = [b.submit(rowsOf(0, 1), 1)];
    await tick();
    ok.push(b.submit(rowsOf(1, 1), 1), b.submit(rowsOf(2, 1), 1));
    await assert.rejects(b.submit(rowsOf(3, 1), 1), (e: ServeError) => e.status === 429 && /queue is full \(2 requests waiting/.test(e.message));
    ex.release();
    (await Promise.all(ok)).forEach((r, i) => checkOwn(r, i, 1));
  });

  it('an engine failure fails its own batch with 500 and no other', async () => {
    const ex = new RecordingExecutor(2);
    ex.failWhen = (x) => x.includes(666);
    ex.hold();
    const b = new DynamicBatcher(ex, {});
    const first = b.submit(rowsOf(0, 2), 2);
    await tick();
    const bad = [b.submit(rowsOf(666, 1), 1), b.submit(rowsOf(1, 1), 1)]; // one batch of 2
    const after = b.submit(rowsOf(5, 2), 2);
    ex.release();
    checkOwn(await first, 0, 2);
    for (const p of bad) await assert.rejects(p, (e: ServeError) => e.status === 500 && /the engine failed: kernel exploded/.test(e.message));
    checkOwn(await after, 5, 2);
  });

  it('drain() runs what is queued without waiting for the delay, then refuses with 503', async () => {
    const ex = new RecordingExecutor(8);
    const b = new DynamicBatcher(ex, { maxQueueDelayUs: 60_000_000 });
    const queued = [0, 1, 2].map((i) => b.submit(rowsOf(i, 1), 1));
    await tick();
    assert.equal(ex.batches.length, 0);
    await b.drain();
    (await Promise.all(queued)).forEach((r, i) => checkOwn(r, i, 1));
    assert.deepEqual(ex.batches.map((x) => x.rows), [3]);
    await assert.rejects(b.submit(rowsOf(0, 1), 1), (e: ServeError) => e.status === 503);
  });
});
