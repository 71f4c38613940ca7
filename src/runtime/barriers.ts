/**
 * Barriers only where data flows. A recorded program used to put a full compute barrier after every
 * dispatch, which serialises independent work (the branches of an Inception block, the heads of a
 * network). Here a dispatch gets a barrier before it only when it depends on work recorded since the
 * last barrier: it reads bytes written there (read after write), or writes bytes read or written
 * there (write after read, write after write — the memory plan reuses arena bytes, so a later layer
 * may overwrite what an earlier one still reads). Byte ranges, not tensor names, decide, so aliases,
 * in-place slices and reused arena offsets are all seen. A barrier orders everything before it
 * against everything after it, so the pending sets restart empty after each one.
 *
 * What a binding does is read from the plan: bindings to a layer's outputs and scratch are written
 * (and may be read), everything else is only read.
 */
import type { EnginePlan, PlannedLayer } from '../kernel/plan';
import { bindingRanges, BindingRange } from './bindings';

interface Access extends BindingRange {
  write: boolean;
}

function overlaps(a: BindingRange, b: BindingRange): boolean {
  return a.buffer === b.buffer && a.index === b.index && a.offset < b.offset + b.range && b.offset < a.offset + a.range;
}

function accessesOf(plan: EnginePlan, layer: PlannedLayer, di: number): Access[] {
  const d = layer.dispatches[di];
  const outputs = new Set(layer.outputs);
  const ranges = bindingRanges(plan, layer, d);
  return d.bindings.map((b, k) => ({ ...ranges[k], write: ('tensor' in b && outputs.has(b.tensor)) || 'scratch' in b }));
}

/**
 * Per layer, per dispatch: whether a barrier must be recorded before it. The first dispatch never
 * needs one (the submission orders it after the host's uploads).
 */
export function planBarriers(plan: EnginePlan): boolean[][] {
  let reads: Access[] = [];
  let writes: Access[] = [];
  return plan.layers.map((layer) => layer.dispatches.map((_, di) => {
    const acc = accessesOf(plan, layer, di);
    const hazard = acc.some((a) => writes.some((w) => overlaps(a, w)) || (a.write && reads.some((r) => overlaps(a, r))));
    if (hazard) { reads = []; writes = []; }
    for (const a of acc) (a.write ? writes : reads).push(a);
    return hazard;
  }));
}

/** Barriers a program records: one after every dispatch (the old rule) and with planBarriers. */
export function barrierCounts(plan: EnginePlan): { dispatches: number; planned: number } {
  const b = planBarriers(plan);
  return { dispatches: b.reduce((n, l) => n + l.length, 0), planned: b.reduce((n, l) => n + l.filter(Boolean).length, 0) };
}
