import type { RunTiming } from './context';
/**
 * Runs as a Chrome trace (the Trace Event Format's JSON object form), which Perfetto and
 * chrome://tracing open: one process "vkrt <engine>"; host threads with each run's phases (H2D,
 * enqueue, wait, D2H), one per stream and staging slot ("host stream S slot K"), so runs in
 * flight at once (docs/async.md) show side by side; and a "GPU queue N" thread per queue with each
 * run's GPU time (when measured) and its layers (when profiled) as complete ('X') events.
 * Times are microseconds (the format's unit) from the first run's start.
 *
 * The GPU's timestamp clock and the host's clock are not correlated here (that would need
 * VK_EXT_calibrated_timestamps), so a run's GPU events start at the instant the host submitted the
 * run, or when the previous run on that queue ended if that is later (a queue runs its work in
 * order); their durations and gaps are the GPU's own fencepost deltas.
 */

/** One trace event (the fields Perfetto needs: ph, ts, dur for 'X', pid, tid, name). */
export interface TraceEvent {
  name: string;
  /** 'X' complete event, 'M' metadata. */
  ph: 'X' | 'M';
  /** Microseconds. */
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  cat?: string;
  args?: Record<string, unknown>;
}

export interface Trace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  otherData?: Record<string, unknown>;
}

const PID = 1, GPU_TID_BASE = 1, HOST_TID_BASE = 100;

/**
 * Builds the trace of `runs`. Runs without per-layer times contribute only their host phases.
 * @param layers the engine's layers in execution order (name; kernel and precision become args).
 */
export function buildTrace(
  runs: readonly (RunTiming & { stream?: number })[],
  layers: readonly { name: string; kernel?: string; precision?: string }[],
  meta: { engine: string; device: string; queue?: number },
): Trace {
  const events: TraceEvent[] = [
    { name: 'process_name', ph: 'M', ts: 0, pid: PID, tid: 0, args: { name: `vkrt ${meta.engine}` } },
  ];
  const named = new Set<number>();
  /** The host track of a stream's slot, named on first use (host tracks first, GPU queues after). */
  const hostTid = (stream: number, slot: number): number => {
    const tid = HOST_TID_BASE + stream * 32 + slot;
    if (!named.has(tid)) {
      named.add(tid);
      events.push({ name: 'thread_name', ph: 'M', ts: 0, pid: PID, tid, args: { name: `host stream ${stream} slot ${slot}` } });
      events.push({ name: 'thread_sort_index', ph: 'M', ts: 0, pid: PID, tid, args: { sort_index: tid - HOST_TID_BASE } });
    }
    return tid;
  };
  const gpuTid = (queue: number): number => {
    const tid = GPU_TID_BASE + queue;
    if (!named.has(tid)) {
      named.add(tid);
      events.push({ name: 'thread_name', ph: 'M', ts: 0, pid: PID, tid, args: { name: `GPU queue ${queue} (${meta.device})` } });
      events.push({ name: 'thread_sort_index', ph: 'M', ts: 0, pid: PID, tid, args: { sort_index: 10000 + queue } });
    }
    return tid;
  };
  if (!runs.length) {
    hostTid(0, 0);
    gpuTid(meta.queue ?? 0);
    return { traceEvents: events, displayTimeUnit: 'ms' };
  }
  const origin = runs[0].startMs;
  const us = (ms: number) => Math.round((ms - origin) * 1e6) / 1000; // µs with ns resolution
  // Events from rounded endpoints, so a phase never sticks out of its run by a rounding step.
  const slice = (name: string, tid: number, start: number, end: number, cat: string, args: Record<string, unknown>): TraceEvent =>
    ({ name, ph: 'X', ts: us(start), dur: Math.max(0, Math.round((us(end) - us(start)) * 1000) / 1000), pid: PID, tid, cat, args });
  /** Per queue, when its last run's GPU work ended (a queue runs its work in submission order). */
  const gpuEnd = new Map<number, number>();
  // in submission order (runs are listed as they completed; streams interleave)
  const order = runs.map((r, run) => ({ r, run })).sort((a, b) => (a.r.startMs + a.r.h2dMs) - (b.r.startMs + b.r.h2dMs));
  for (const { r, run } of order) {
    const stream = r.stream ?? 0, queue = r.queue ?? meta.queue ?? 0, host = hostTid(stream, r.slot ?? 0);
    const t0 = r.startMs, t1 = t0 + r.h2dMs, t2 = t1 + r.enqueueMs, t3 = t1 + r.waitMs, t4 = t0 + r.latencyMs;
    events.push(slice(`run ${run}`, host, t0, t4, 'run', { run, stream, slot: r.slot, queue, gpuMs: r.gpuMs }));
    events.push(slice('H2D', host, t0, t1, 'host', { run }));
    events.push(slice('enqueue', host, t1, t2, 'host', { run }));
    events.push(slice('wait for GPU', host, t2, Math.max(t2, t3), 'host', { run }));
    events.push(slice('D2H', host, Math.min(t3, t4), t4, 'host', { run }));
    const gpuMs = r.layerMs ? r.layerMs.reduce((a, b) => a + b, 0) : r.gpuMs;
    if (gpuMs === undefined) continue;
    const tid = gpuTid(queue);
    // on the queue after the previous run, but never past this run's own completion
    const begin = Math.max(t1, Math.min(gpuEnd.get(queue) ?? t1, t3 - gpuMs));
    gpuEnd.set(queue, begin + gpuMs);
    events.push(slice(`run ${run}`, tid, begin, begin + gpuMs, 'gpu', { run, stream, ms: gpuMs }));
    if (!r.layerMs) continue;
    let t = begin;
    r.layerMs.forEach((ms, i) => {
      const l = layers[i];
      events.push(slice(l?.name ?? `layer ${i}`, tid, t, t + ms, 'layer', { run, layer: i, kernel: l?.kernel, precision: l?.precision, ms }));
      t += ms;
    });
  }
  return { traceEvents: events, displayTimeUnit: 'ms', otherData: { engine: meta.engine, device: meta.device, runs: runs.length } };
}
