import type { RunTiming } from './context';
/**
 * Runs as a Chrome trace (the Trace Event Format's JSON object form), which Perfetto and
 * chrome://tracing open: one process "vkrt <engine>", a "host" thread with each run's phases
 * (H2D, enqueue, wait, D2H) and a "GPU queue N" thread with each layer as a complete ('X') event.
 * Times are microseconds (the format's unit) from the first run's start.
 *
 * The GPU's timestamp clock and the host's clock are not correlated here (that would need
 * VK_EXT_calibrated_timestamps), so a run's GPU events start at the instant the host submitted the
 * run; their durations and gaps are the GPU's own fencepost deltas.
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

const PID = 1, HOST_TID = 1, GPU_TID = 2;

/**
 * Builds the trace of `runs`. Runs without per-layer times contribute only their host phases.
 * @param layers the engine's layers in execution order (name; kernel and precision become args).
 */
export function buildTrace(
  runs: readonly RunTiming[],
  layers: readonly { name: string; kernel?: string; precision?: string }[],
  meta: { engine: string; device: string; queue?: number },
): Trace {
  const events: TraceEvent[] = [
    { name: 'process_name', ph: 'M', ts: 0, pid: PID, tid: 0, args: { name: `vkrt ${meta.engine}` } },
    { name: 'thread_name', ph: 'M', ts: 0, pid: PID, tid: HOST_TID, args: { name: 'host' } },
    { name: 'thread_name', ph: 'M', ts: 0, pid: PID, tid: GPU_TID, args: { name: `GPU queue ${meta.queue ?? 0} (${meta.device})` } },
    { name: 'thread_sort_index', ph: 'M', ts: 0, pid: PID, tid: HOST_TID, args: { sort_index: 0 } },
    { name: 'thread_sort_index', ph: 'M', ts: 0, pid: PID, tid: GPU_TID, args: { sort_index: 1 } },
  ];
  if (!runs.length) return { traceEvents: events, displayTimeUnit: 'ms' };
  const origin = runs[0].startMs;
  const us = (ms: number) => Math.round((ms - origin) * 1e6) / 1000; // µs with ns resolution
  // Events from rounded endpoints, so a phase never sticks out of its run by a rounding step.
  const slice = (name: string, tid: number, start: number, end: number, cat: string, args: Record<string, unknown>): TraceEvent =>
    ({ name, ph: 'X', ts: us(start), dur: Math.max(0, Math.round((us(end) - us(start)) * 1000) / 1000), pid: PID, tid, cat, args });
  runs.forEach((r, run) => {
    const t0 = r.startMs, t1 = t0 + r.h2dMs, t2 = t1 + r.enqueueMs, t3 = t1 + r.waitMs, t4 = t0 + r.latencyMs;
    events.push(slice(`run ${run}`, HOST_TID, t0, t4, 'run', { run, gpuMs: r.gpuMs }));
    events.push(slice('H2D', HOST_TID, t0, t1, 'host', { run }));
    events.push(slice('enqueue', HOST_TID, t1, t2, 'host', { run }));
    events.push(slice('wait for GPU', HOST_TID, t2, Math.max(t2, t3), 'host', { run }));
    events.push(slice('D2H', HOST_TID, Math.min(t3, t4), t4, 'host', { run }));
    if (!r.layerMs) return;
    let t = t1;
    r.layerMs.forEach((ms, i) => {
      const l = layers[i];
      events.push(slice(l?.name ?? `layer ${i}`, GPU_TID, t, t + ms, 'layer', { run, layer: i, kernel: l?.kernel, precision: l?.precision, ms }));
      t += ms;
    });
  });
  return { traceEvents: events, displayTimeUnit: 'ms', otherData: { engine: meta.engine, device: meta.device, runs: runs.length } };
}
