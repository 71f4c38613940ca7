import { strict as assert } from 'assert';
import { buildTrace } from '../../src/runtime/trace';
import { checkTrace } from './check-trace';
import type { RunTiming } from '../../src/runtime/context';

describe('Chrome/Perfetto trace', () => {
  const run = (start: number, layerMs?: number[]): RunTiming => ({
    startMs: start, h2dMs: 0.1, enqueueMs: 0.05, waitMs: 2.2, d2hMs: 0.3, latencyMs: 0.1 + 2.2 + 0.3, gpuMs: 2, layerMs,
  });

  it('puts each layer of each run on the GPU track as a complete event, host phases on the host track', () => {
    const layers = [{ name: 'conv1+relu1', kernel: 'conv', precision: 'fp32' }, { name: 'fc', kernel: 'gemm', precision: 'fp16' }];
    const t = buildTrace([run(1000.123456, [1.5, 0.5]), run(1003.3, [1.25, 0.75])], layers, { engine: 'm.engine', device: 'lavapipe' });
    checkTrace(t);
    const gpu = t.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'layer');
    assert.deepEqual(gpu.map((e) => e.name), ['conv1+relu1', 'fc', 'conv1+relu1', 'fc']);
    assert.deepEqual(gpu.map((e) => e.dur), [1500, 500, 1250, 750]); // microseconds
    assert.equal(gpu[0].ts, 100); // the first run starts at 0; its GPU work at the submit, after 0.1 ms of H2D
    assert.equal(gpu[1].ts, 1600);
    assert.ok(new Set(gpu.map((e) => e.tid)).size === 1);
    const host = t.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'host');
    assert.deepEqual(host.slice(0, 4).map((e) => e.name), ['H2D', 'enqueue', 'wait for GPU', 'D2H']);
    assert.ok(host.every((e) => e.tid !== gpu[0].tid));
  });

  it('overlapping runs (two in flight, two streams) get a host track per stream and slot; a queue runs them one after another', () => {
    // runs of 2 ms GPU each, submitted 0.5 ms apart on one queue: the queue serializes them
    const mk = (start: number, slot: number, stream: number, wait: number) => ({ ...run(start), slot, stream, queue: 0, waitMs: wait, latencyMs: 0.1 + wait + 0.3, gpuMs: 2 });
    const runs = [mk(0, 0, 0, 2.2), mk(0.5, 1, 0, 3.9), mk(0.6, 0, 1, 5.8)];
    const t = buildTrace(runs, [], { engine: 'e', device: 'd' });
    checkTrace(t); // slices on one track nest or are disjoint
    const hostRuns = t.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'run');
    assert.equal(new Set(hostRuns.map((e) => e.tid)).size, 3, 'one host track per stream and slot');
    assert.ok(hostRuns[1].ts < hostRuns[0].ts + hostRuns[0].dur!, 'the host tracks overlap in time');
    const gpu = t.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'gpu');
    assert.equal(gpu.length, 3);
    assert.equal(new Set(gpu.map((e) => e.tid)).size, 1);
    assert.deepEqual(gpu.map((e) => e.ts), [100, 2100, 4100], 'each run starts on the queue when the previous one ended');
    const names = t.traceEvents.filter((e) => e.name === 'thread_name').map((e) => e.args!.name);
    assert.ok(names.includes('host stream 1 slot 0') && names.includes('GPU queue 0 (d)'));
  });

  it('runs without layer times give host phases only; no runs give metadata only', () => {
    const t = buildTrace([run(5)], [{ name: 'a' }], { engine: 'e', device: 'd' });
    checkTrace(t);
    assert.equal(t.traceEvents.filter((e) => e.cat === 'layer').length, 0);
    const empty = buildTrace([], [], { engine: 'e', device: 'd' });
    checkTrace(empty);
    assert.ok(empty.traceEvents.every((e) => e.ph === 'M'));
  });
});
