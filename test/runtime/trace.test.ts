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

  it('runs without layer times give host phases only; no runs give metadata only', () => {
    const t = buildTrace([run(5)], [{ name: 'a' }], { engine: 'e', device: 'd' });
    checkTrace(t);
    assert.equal(t.traceEvents.filter((e) => e.cat === 'layer').length, 0);
    const empty = buildTrace([], [], { engine: 'e', device: 'd' });
    checkTrace(empty);
    assert.ok(empty.traceEvents.every((e) => e.ph === 'M'));
  });
});
