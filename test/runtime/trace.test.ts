import { strict as assert } from 'assert';
import type { RunTiming } from '../../src/runtime/engine';
import { buildTrace, Trace } from '../../src/runtime/trace';

/**
 * Checks a trace against the Trace Event Format's JSON object form as Perfetto's importer reads
 * it: a traceEvents array; every event has name (string), ph, pid and tid (integers), ts
 * (microseconds, a finite number >= 0); complete events ('X') have dur >= 0; metadata events ('M')
 * carry args.name / args.sort_index. Slices on one thread must nest or be disjoint (Perfetto drops
 * improperly nested slices).
 */
export function checkTrace(trace: unknown): asserts trace is Trace {
  assert.ok(trace && typeof trace === 'object' && Array.isArray((trace as Trace).traceEvents), 'traceEvents array');
  const events = (trace as Trace).traceEvents;
  const slices = new Map<string, { ts: number; end: number; name: string }[]>();
  for (const e of events) {
    assert.equal(typeof e.name, 'string');
    assert.ok(e.ph === 'X' || e.ph === 'M', `ph ${e.ph}`);
    assert.ok(Number.isInteger(e.pid) && Number.isInteger(e.tid), 'pid/tid integers');
    assert.ok(typeof e.ts === 'number' && Number.isFinite(e.ts) && e.ts >= 0, `ts ${e.ts}`);
    if (e.ph === 'M') {
      assert.ok(['process_name', 'thread_name', 'thread_sort_index'].includes(e.name));
      assert.ok(e.args && ('name' in e.args || 'sort_index' in e.args));
      continue;
    }
    assert.ok(typeof e.dur === 'number' && Number.isFinite(e.dur) && e.dur >= 0, `dur ${e.dur}`);
    const k = `${e.pid}/${e.tid}`;
    if (!slices.has(k)) slices.set(k, []);
    slices.get(k)!.push({ ts: e.ts, end: e.ts + e.dur!, name: e.name });
  }
  const eps = 1e-6;
  for (const [k, list] of slices) {
    list.sort((a, b) => a.ts - b.ts || b.end - a.end);
    const open: { end: number; name: string }[] = [];
    for (const s of list) {
      while (open.length && open[open.length - 1].end <= s.ts + eps) open.pop();
      if (open.length) assert.ok(s.end <= open[open.length - 1].end + eps, `thread ${k}: '${s.name}' overlaps '${open[open.length - 1].name}' without nesting`);
      open.push(s);
    }
  }
  JSON.parse(JSON.stringify(trace)); // plain JSON
}

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
