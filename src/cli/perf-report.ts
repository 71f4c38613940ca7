/**
 * What `vkrt exec` prints and exports about a benchmark, in trtexec's shapes: the performance
 * summary, the per-layer profile table, and the --exportTimes / --exportProfile JSON files.
 */

import type { LayerProfile } from '../runtime/profiler';
import { summarize, Summary } from '../runtime/stats';
import type { RunTiming } from '../runtime/context';

function ms(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  return v >= 100 ? v.toFixed(2) : v >= 1 ? v.toFixed(4) : v.toFixed(5);
}

/** trtexec's "min = ..., max = ..., mean = ..., median = ..., percentile(90%) = ..." line. */
export function formatSummary(s: Summary): string {
  return `min = ${ms(s.min)} ms, max = ${ms(s.max)} ms, mean = ${ms(s.mean)} ms, median = ${ms(s.median)} ms, `
    + `percentile(90%) = ${ms(s.p90)} ms, percentile(95%) = ${ms(s.p95)} ms, percentile(99%) = ${ms(s.p99)} ms`;
}

/** GPU compute time of a run: timestamps when recorded, else the host's wait for the fence. */
export function computeMs(r: RunTiming): number {
  return r.gpuMs ?? r.waitMs;
}

/** The "=== Performance summary ===" block. `wallMs`: host wall time of the timed loop. */
export function performanceSummary(runs: readonly RunTiming[], wallMs: number): string[] {
  const gpuFromTimestamps = runs.length > 0 && runs.every((r) => r.gpuMs !== undefined);
  const compute = runs.map(computeMs);
  return [
    '=== Performance summary ===',
    `Throughput: ${(runs.length / Math.max(wallMs / 1000, 1e-9)).toFixed(3)} qps`,
    `Latency: ${formatSummary(summarize(runs.map((r) => r.latencyMs)))}`,
    `Enqueue Time: ${formatSummary(summarize(runs.map((r) => r.enqueueMs)))}`,
    `H2D Latency: ${formatSummary(summarize(runs.map((r) => r.h2dMs)))}`,
    `GPU Compute Time: ${formatSummary(summarize(compute))}${gpuFromTimestamps ? '' : ' (host fence wait: this device has no timestamps)'}`,
    `D2H Latency: ${formatSummary(summarize(runs.map((r) => r.d2hMs)))}`,
    `Total Host Walltime: ${(wallMs / 1000).toFixed(5)} s`,
    `Total GPU Compute Time: ${(compute.reduce((a, b) => a + b, 0) / 1000).toFixed(5)} s`,
    'Latency is one whole inference as the host sees it: H2D + enqueue + wait for the GPU + D2H. GPU Compute Time is from the GPU timestamps around the program.',
  ];
}

/** trtexec's --avgRuns line for a group of consecutive runs. */
export function averageLine(group: readonly RunTiming[]): string {
  const mean = (f: (r: RunTiming) => number) => group.reduce((a, r) => a + f(r), 0) / group.length;
  return `Average on ${group.length} runs - GPU latency: ${ms(mean(computeMs))} ms - Host latency: ${ms(mean((r) => r.latencyMs))} ms (enqueue ${ms(mean((r) => r.enqueueMs))} ms)`;
}

/**
 * The --dumpProfile table: one row per layer in execution order (as trtexec prints it), a Total
 * row, then the `top` most expensive layers.
 */
export function profileTable(profile: LayerProfile, top = 5, tactics?: readonly string[]): string[] {
  const rows = profile.rows();
  const total = rows.reduce((a, r) => a + r.timeMs, 0);
  const n = profile.runs;
  const out = [`=== Profile (${n} iterations ) ===`];
  const fmt = (t: string, a: string, m: string, p: string, name: string) => `${t.padStart(12)} ${a.padStart(12)} ${m.padStart(12)} ${p.padStart(9)}   ${name}`;
  out.push(fmt('Time(ms)', 'Avg.(ms)', 'Median(ms)', 'Time(%)', tactics ? 'Layer [tactic]' : 'Layer'));
  rows.forEach((r, i) => out.push(fmt(r.timeMs.toFixed(2), r.averageMs.toFixed(4), r.medianMs.toFixed(4), r.percentage.toFixed(1), tactics ? `${r.name} [${tactics[i]}]` : r.name)));
  const totals = profile.runTotals().sort((a, b) => a - b);
  const med = totals.length ? (totals.length % 2 ? totals[(totals.length - 1) / 2] : (totals[totals.length / 2 - 1] + totals[totals.length / 2]) / 2) : 0;
  out.push(fmt(total.toFixed(2), (n ? total / n : 0).toFixed(4), med.toFixed(4), '100.0', 'Total'));
  if (rows.length > top) {
    out.push(`Top ${top} layers by time:`);
    for (const r of [...rows].sort((a, b) => b.timeMs - a.timeMs).slice(0, top)) out.push(`  ${r.percentage.toFixed(1).padStart(5)}%  ${r.averageMs.toFixed(4)} ms  ${r.name}`);
  }
  return out;
}

/** --exportProfile: `[{count}, {name, timeMs, averageMs, medianMs, percentage}, ...]` (trtexec's layout). */
export function profileJson(profile: LayerProfile): unknown[] {
  return [{ count: profile.runs }, ...profile.rows()];
}

/**
 * --exportTimes: one object per timed run, times in ms from the first run's start (trtexec's
 * field names). The enqueue is the host handing the program to the queue; compute spans the GPU
 * time (timestamps) starting at the submit; D2H follows the fence.
 */
export function timesJson(runs: readonly RunTiming[]): Record<string, number>[] {
  if (!runs.length) return [];
  const o = runs[0].startMs;
  return runs.map((r) => {
    const h2dEnd = r.startMs + r.h2dMs - o;
    const d2hStart = r.startMs + r.h2dMs + r.waitMs - o;
    return {
      startH2dMs: r.startMs - o, endH2dMs: h2dEnd,
      startEnqMs: h2dEnd, endEnqMs: h2dEnd + r.enqueueMs,
      startComputeMs: h2dEnd, endComputeMs: h2dEnd + computeMs(r),
      startD2hMs: d2hStart, endD2hMs: d2hStart + r.d2hMs,
      h2dMs: r.h2dMs, computeMs: computeMs(r), d2hMs: r.d2hMs, enqueueMs: r.enqueueMs, latencyMs: r.latencyMs,
    };
  });
}
