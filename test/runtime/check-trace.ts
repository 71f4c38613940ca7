import { strict as assert } from 'assert';
import type { Trace } from '../../src/runtime/trace';

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
