/**
 * Control flow (the phase after input shapes): If, Loop and Scan unrolled into the graph
 * (passes/unroll.ts) for the concrete input shapes, so that the later phases plan their bodies as ordinary layers. Runs with
 * fusion off too: it is what makes these operators run on the GPU at all.
 */
import { unrollControlFlow } from '../passes/unroll';
import type { BuildState } from '../state';

export function unrollControl(state: BuildState): void {
  state.model = unrollControlFlow(state.model, { registry: state.registry, inputTypes: state.inputTypes, log: state.log });
}
