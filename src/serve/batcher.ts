/**
 * The dynamic batcher, with Triton's semantics. Requests queue in arrival order; whenever an
 * instance (an execution context) is free, a batch is formed from the head of the queue:
 *
 * - requests join in order while their rows (first dimension) fit max_batch_size;
 * - a batch of max_batch_size, or of the largest preferred size, goes at once;
 * - otherwise, while the oldest request has waited less than max_queue_delay and more requests
 *   could still join, the batcher waits (a timer, or the next arrival) for the batch to grow;
 * - when it sends, it sends the largest preferred size it can form from the head of the queue,
 *   or, when it can form none, every request that fits.
 *
 * Each request gets its own rows of the outputs, so responses never mix. A request still queued
 * when its timeout expires is answered 504 at once; a full queue answers 429; a batch that fails
 * in the engine fails its own requests only (500). A request whose client went away (its abort
 * signal) leaves the queue unrun. Models without a batch dimension
 * (max_batch_size 0) run one request per execution, through the same queue and instances.
 */
import type { Tensor } from '../ir/tensor';
import { ServeError } from './errors';
import type { ModelExecutor } from './executor';
import { concatRows, sliceRows } from './rows';

export interface BatcherOptions {
  /** Preferred batch sizes (rows). */
  preferred?: readonly number[];
  /** Microseconds the oldest request may wait for a batch to grow (0: none). */
  maxQueueDelayUs?: number;
  /** Queued requests beyond which submit() refuses with 429 (0: unbounded). */
  maxQueueSize?: number;
}

/** What the batcher tells the metrics about each execution. */
export interface BatchObserver {
  batch?(info: { rows: number; requests: number; computeMs: number; failed: boolean }): void;
}

/** A request's outputs and where its time went. */
export interface BatchResult {
  outputs: Map<string, Tensor>;
  /** Milliseconds in the queue (arrival to its batch starting). */
  queueMs: number;
  /** Milliseconds of its batch's execution (inputs in to outputs out). */
  computeMs: number;
  /** Rows in its batch (the engine may have run more, padded). */
  batchRows: number;
}

interface Pending {
  inputs: Map<string, Tensor>;
  rows: number;
  enqueued: number;
  timeoutUs?: number;
  timer?: NodeJS.Timeout;
  resolve(r: BatchResult): void;
  reject(e: Error): void;
}

export class DynamicBatcher {
  private readonly queue: Pending[] = [];
  private readonly idle: number[];
  private readonly preferred: number[];
  private readonly maxPreferred: number;
  private delayTimer?: NodeJS.Timeout;
  private delayAt = 0;
  private running = 0;
  private drainWaiters: (() => void)[] = [];
  private stopped = false;

  constructor(private readonly executor: ModelExecutor, private readonly options: BatcherOptions = {}, private readonly observer: BatchObserver = {}) {
    // instance 0 first: pop() takes from the end
    this.idle = Array.from({ length: executor.instances }, (_, i) => executor.instances - 1 - i);
    this.preferred = [...new Set(options.preferred ?? [])].filter((p) => p <= executor.maxBatch).sort((a, b) => a - b);
    this.maxPreferred = this.preferred.length ? this.preferred[this.preferred.length - 1] : executor.maxBatch;
  }

  /** Requests waiting for an instance. */
  get queued(): number {
    return this.queue.length;
  }

  /** Batches executing now. */
  get executing(): number {
    return this.running;
  }

  /**
   * Queues a request: inputs whose first dimension is `rows` (0 for a model without a batch
   * dimension), already checked against the model. Resolves with its own outputs.
   * @param timeoutUs its queue timeout in microseconds (undefined or 0: none)
   * @throws (rejects) ServeError 429 (queue full), 503 (stopped), 504 (timed out in the queue),
   *   500 (the engine failed)
   */
  submit(inputs: Map<string, Tensor>, rows: number, timeoutUs?: number, signal?: AbortSignal): Promise<BatchResult> {
    if (this.stopped) return Promise.reject(new ServeError(503, 'the model is unloading; no new requests are taken'));
    if (signal?.aborted) return Promise.reject(cancelled());
    const max = this.options.maxQueueSize ?? 0;
    if (max > 0 && this.queue.length >= max) {
      return Promise.reject(new ServeError(429, `the queue is full (${max} requests waiting; max_queue_size); try again later`));
    }
    return new Promise<BatchResult>((resolve, reject) => {
      const onAbort = () => this.cancel(p);
      const settle = () => signal?.removeEventListener('abort', onAbort);
      const p: Pending = {
        inputs, rows, enqueued: performance.now(), timeoutUs,
        resolve: (r) => { settle(); resolve(r); },
        reject: (e) => { settle(); reject(e); },
      };
      if (timeoutUs && timeoutUs > 0) {
        p.timer = setTimeout(() => this.expire(p), Math.max(1, timeoutUs / 1000));
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(p);
      this.schedule();
    });
  }

  private expire(p: Pending): void {
    const i = this.queue.indexOf(p);
    if (i < 0) return; // already running: it completes
    this.queue.splice(i, 1);
    const waited = performance.now() - p.enqueued;
    p.reject(new ServeError(504, `the request timed out after ${waited.toFixed(1)} ms in the queue (timeout ${p.timeoutUs} us); the server is busy or the timeout is too short`));
    this.schedule();
    this.checkDrained();
  }

  /** The client went away: a queued request leaves the queue (a running one completes unread). */
  private cancel(p: Pending): void {
    const i = this.queue.indexOf(p);
    if (i < 0) return;
    this.queue.splice(i, 1);
    clearTimeout(p.timer);
    p.reject(cancelled());
    this.schedule();
    this.checkDrained();
  }

  /** Forms batches while instances are free; see the file comment. */
  private schedule(): void {
    while (this.idle.length && this.queue.length) {
      const n = this.pick();
      if (n === 0) return;
      const batch = this.queue.splice(0, n);
      for (const p of batch) clearTimeout(p.timer);
      void this.run(this.idle.pop()!, batch);
    }
    if (!this.queue.length && this.delayTimer) {
      clearTimeout(this.delayTimer);
      this.delayTimer = undefined;
    }
  }

  /** How many requests from the head of the queue form the next batch; 0: wait for more. */
  private pick(): number {
    const max = this.executor.maxBatch;
    if (max === 0) return 1;
    let rows = 0, count = 0, preferredCount = 0;
    for (const p of this.queue) {
      if (rows + p.rows > max) break;
      rows += p.rows;
      count++;
      if (this.preferred.includes(rows)) preferredCount = count;
    }
    if (count === 0) return 1; // cannot happen: requests are checked against max_batch_size
    if (rows === max) return count;
    const full = rows >= this.maxPreferred || count < this.queue.length; // cannot grow into anything better
    const delayMs = (this.options.maxQueueDelayUs ?? 0) / 1000;
    const waited = performance.now() - this.queue[0].enqueued;
    if (!full && !this.stopped && waited < delayMs) {
      this.armDelay(this.queue[0].enqueued + delayMs);
      return 0;
    }
    return preferredCount || count;
  }

  private armDelay(at: number): void {
    if (this.delayTimer && this.delayAt <= at) return;
    clearTimeout(this.delayTimer);
    this.delayAt = at;
    this.delayTimer = setTimeout(() => {
      this.delayTimer = undefined;
      this.schedule();
    }, Math.max(0, at - performance.now()));
  }

  private async run(instance: number, batch: Pending[]): Promise<void> {
    this.running++;
    const started = performance.now();
    const rows = this.executor.maxBatch > 0 ? batch.reduce((a, p) => a + p.rows, 0) : 0;
    let computeMs = 0;
    try {
      await this.executor.prepare(rows);
      let inputs: Map<string, Tensor>;
      if (batch.length === 1) inputs = batch[0].inputs;
      else {
        inputs = new Map();
        for (const name of batch[0].inputs.keys()) inputs.set(name, concatRows(batch.map((p) => p.inputs.get(name)!), rows));
      }
      const t0 = performance.now();
      const out = await this.executor.execute(instance, inputs, rows);
      computeMs = performance.now() - t0;
      this.observer.batch?.({ rows: rows || 1, requests: batch.length, computeMs, failed: false });
      let at = 0;
      for (const p of batch) {
        let outputs = out;
        if (batch.length > 1) {
          outputs = new Map();
          for (const [name, t] of out) outputs.set(name, sliceRows(t, at, at + p.rows));
        }
        at += p.rows;
        p.resolve({ outputs, queueMs: started - p.enqueued, computeMs, batchRows: rows || 1 });
      }
    } catch (e) {
      this.observer.batch?.({ rows: rows || 1, requests: batch.length, computeMs, failed: true });
      const err = e instanceof ServeError ? e : new ServeError(500, `the engine failed: ${(e as Error)?.message ?? String(e)}`);
      for (const p of batch) p.reject(err);
    } finally {
      this.running--;
      this.idle.push(instance);
      this.schedule();
      this.checkDrained();
    }
  }

  /**
   * Stops taking requests (submit() rejects with 503) and resolves once every queued and running
   * request has been answered. Queued requests still run (a batch no longer waits for more).
   */
  drain(): Promise<void> {
    this.stopped = true;
    this.schedule();
    return new Promise((resolve) => {
      this.drainWaiters.push(resolve);
      this.checkDrained();
    });
  }

  /** Answers every queued request with 503 (a drain that ran out of time). */
  abort(reason: string): void {
    this.stopped = true;
    for (const p of this.queue.splice(0)) {
      clearTimeout(p.timer);
      p.reject(new ServeError(503, reason));
    }
    clearTimeout(this.delayTimer);
    this.checkDrained();
  }

  private checkDrained(): void {
    if (!this.stopped || this.queue.length || this.running) return;
    for (const w of this.drainWaiters.splice(0)) w();
  }
}

function cancelled(): ServeError {
  return new ServeError(499, 'the client closed the connection before the request ran');
}
