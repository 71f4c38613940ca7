/**
 * Phase 7, weight layout: graph weights then kernel weights, each aligned, in one buffer, or in as
 * many as it takes when they exceed the most one buffer may have (DeviceCaps.maxBufferBytes), each
 * weight inside one buffer.
 */
import { UnsupportedError } from '../../errors';
import { alignUp } from '../../kernel/storage';
import type { BuildState } from '../state';

export function layoutWeights(state: BuildState): void {
  const a = state.caps.alignment;
  const max = state.caps.maxBufferBytes ?? Infinity;
  const ends: number[] = [0];
  const place = (slot: { offset: number; bytes: number; buffer?: number }, what: string): void => {
    if (slot.bytes > max) throw new UnsupportedError(`${what} (${slot.bytes} bytes) is larger than one buffer of the device may be (${max} bytes, maxMemoryAllocationSize and maxBufferSize)`);
    let b = ends.length - 1;
    if (ends[b] + slot.bytes > max) ends[++b] = 0;
    slot.offset = ends[b];
    slot.buffer = b;
    ends[b] = alignUp(ends[b] + slot.bytes, a);
  };
  for (const t of state.tensors.values()) if (t.kind === 'weight') place(t, `weight '${t.name}'`);
  for (const l of state.layers) l.kernelWeights.forEach((w, k) => place(w, `kernel weight ${k} of layer '${l.name}'`));
  const total = ends.reduce((x, y) => x + y, 0);
  if (ends.length > 1) {
    state.weightBuffers = ends.map((e) => Math.max(e, a));
    state.log(`memory: the weights span ${ends.length} buffers of at most ${max} bytes (${ends.join(', ')})`);
  } else {
    // one buffer: no buffer index recorded (plans and engine files stay as they were)
    for (const t of state.tensors.values()) if (t.kind === 'weight') delete t.buffer;
    for (const l of state.layers) for (const w of l.kernelWeights) delete w.buffer;
  }
  state.weightBytes = ends.length > 1 ? state.weightBuffers!.reduce((x, y) => x + y, 0) : Math.max(total, a);
  state.log(`memory: arena ${state.arenaBytes} bytes (naive sum ${state.naiveActivationBytes}), weights ${total} bytes, ${state.layers.length} layers, ${state.folded.size} folded, ${state.views} views`);
}
