import { strict as assert } from 'assert';
import { InputError } from '../../src/errors';
import { LayerProfile } from '../../src/runtime/profiler';
import { median, percentile, summarize } from '../../src/runtime/stats';

describe('performance statistics', () => {
  it('percentiles by nearest rank, median of the middle pair', () => {
    const s = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
    assert.equal(percentile(s, 90), 90);
    assert.equal(percentile(s, 99), 99);
    assert.equal(percentile(s, 100), 100);
    assert.equal(percentile([5], 99), 5);
    assert.equal(percentile([1, 2, 3], 50), 2);
    assert.ok(Number.isNaN(percentile([], 50)));
    assert.equal(median([1, 2, 3, 10]), 2.5);
    assert.equal(median([4]), 4);
  });

  it('summarize sorts its input and reports every field', () => {
    const s = summarize([3, 1, 2, 10]);
    assert.deepEqual(s, { count: 4, total: 16, min: 1, max: 10, mean: 4, median: 2.5, p90: 10, p95: 10, p99: 10 });
    const e = summarize([]);
    assert.equal(e.count, 0);
    assert.ok(Number.isNaN(e.mean));
  });

  it('LayerProfile collects per-layer times over runs in execution order', () => {
    const p = new LayerProfile(['a', 'b', 'a']);
    for (const t of [[1, 2, 3], [3, 2, 1], [2, 2, 2]]) ['a', 'b', 'a'].forEach((n, i) => p.reportLayerTime(n, t[i]));
    assert.equal(p.runs, 3);
    assert.deepEqual(p.runTotals(), [6, 6, 6]);
    const rows = p.rows();
    assert.deepEqual(rows.map((r) => r.name), ['a', 'b', 'a']);
    assert.deepEqual(rows.map((r) => r.timeMs), [6, 6, 6]);
    assert.deepEqual(rows.map((r) => r.medianMs), [2, 2, 2]);
    assert.ok(Math.abs(rows.reduce((a, r) => a + r.percentage, 0) - 100) < 1e-9);
    assert.throws(() => p.reportLayerTime('b', 1), InputError); // 'a' comes first
  });
});
