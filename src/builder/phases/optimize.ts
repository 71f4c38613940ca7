/** Phase 2, the graph optimizer (passes/: fusions, simplifications) on a copy of the model. */
import { optimize } from '../passes/optimize';
import type { BuildState } from '../state';

export function optimizeGraph(state: BuildState): void {
  if (state.config.fusion === false) return;
  state.model = optimize(state.model, { registry: state.registry, inputTypes: state.inputTypes, log: state.log }).model;
}
