/** Phase 7, weight layout: graph weights then kernel weights in one buffer, each aligned. */
import { alignUp } from '../../kernel/storage';
import type { BuildState } from '../state';

export function layoutWeights(state: BuildState): void {
  const a = state.caps.alignment;
  let off = 0;
  for (const t of state.tensors.values()) {
    if (t.kind !== 'weight') continue;
    t.offset = off;
    off = alignUp(off + t.bytes, a);
  }
  for (const l of state.layers) for (const w of l.kernelWeights) { w.offset = off; off = alignUp(off + w.bytes, a); }
  state.weightBytes = Math.max(off, a);
  state.log(`memory: arena ${state.arenaBytes} bytes (naive sum ${state.naiveActivationBytes}), weights ${off} bytes, ${state.layers.length} layers, ${state.folded.size} folded, ${state.views} views`);
}
