/**
 * Phase 6, the memory plan: each arena tensor's lifetime in layer steps (inputs live from the
 * start, outputs to the end), offsets from the interval planner (memory-plan.ts), Concat/Split
 * slices placed inside their whole, views (Reshape, Flatten, ...) at the offset of the tensor that
 * owns their bytes.
 */
import { UnsupportedError } from '../../errors';
import { planMemory, type PlanItem } from '../memory-plan';
import { rootOf, type BuildState } from '../state';
import { outputRoot } from './io';

export function planArena(state: BuildState): void {
  const { layers, tensors } = state;
  const first = new Map<string, number>(), last = new Map<string, number>();
  layers.forEach((l, step) => {
    for (const d of l.dispatches) for (const b of d.bindings) {
      if (!('tensor' in b)) continue;
      if (!first.has(b.tensor)) first.set(b.tensor, step);
      last.set(b.tensor, step);
    }
  });
  const end = layers.length;
  const outputRoots = new Set(state.outputs.map((o) => outputRoot(state, o.name)));
  const items: PlanItem[] = [];
  const views: string[] = [];
  const unbound: PlanItem[] = [];
  for (const t of tensors.values()) {
    if (t.kind === 'weight') continue;
    // a view's bindings were resolved to the tensor that owns its bytes (phase 5): it takes no
    // arena space of its own, only its owner's offset
    const owner = tensors.get(rootOf(state, t.name));
    if (owner && owner !== t && owner.kind !== 'weight') { views.push(t.name); continue; }
    const start = t.kind === 'input' ? -1 : first.get(t.name) ?? 0;
    const stop = t.kind === 'output' || outputRoots.has(t.name) ? end : Math.max(start, last.get(t.name) ?? start);
    const item = { id: t.name, size: t.bytes, start, end: stop };
    // a whole that only its pieces bind (big-tensors.ts) lives while they do: adjustPlan widens it from nothing
    if (t.kind !== 'input' && !first.has(t.name) && state.subviews.hasSlices(t.name)) {
      item.start = Infinity;
      if (item.end !== end) item.end = -Infinity;
      unbound.push(item);
    }
    items.push(item);
  }
  const adjusted = state.subviews.adjustPlan(items);
  for (const it of unbound) if (it.start === Infinity) { it.start = 0; it.end = Math.max(0, it.end); }
  const maxBuffer = state.caps.maxBufferBytes ?? Infinity;
  let plan;
  try {
    plan = planMemory(adjusted, state.caps.alignment, maxBuffer);
  } catch (e) {
    throw new UnsupportedError(`${(e as Error).message}: the device's buffers hold at most ${maxBuffer} bytes (maxMemoryAllocationSize, maxBufferSize); reduce the batch size or the input shapes`);
  }
  for (const [id, off] of plan.offsets) {
    const t = tensors.get(id)!;
    t.offset = off;
    if (plan.bufferBytes.length > 1) t.buffer = plan.buffers.get(id)!;
  }
  state.subviews.place(tensors);
  for (const v of views) {
    const t = tensors.get(v)!, owner = tensors.get(rootOf(state, v))!;
    t.offset = owner.offset;
    if (owner.buffer !== undefined) t.buffer = owner.buffer;
  }
  state.arenaBytes = Math.max(plan.arenaBytes, state.caps.alignment);
  if (plan.bufferBytes.length > 1) {
    state.arenaBuffers = plan.bufferBytes;
    state.log(`memory: the arena spans ${plan.bufferBytes.length} buffers of at most ${maxBuffer} bytes (${plan.bufferBytes.join(', ')})`);
  }
  state.naiveActivationBytes = plan.naiveBytes;
}
