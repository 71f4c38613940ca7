/** Phase 2, the graph optimizer (passes/: fusions, simplifications) on a copy of the model. */
import { optimize } from '../passes/optimize';
import type { BuildState } from '../state';

export function optimizeGraph(state: BuildState): void {
  if (state.config.fusion === false) return;
  const slices = { alignment: state.caps.alignment, elemBytes: state.config.fp16 ? 2 : 4 };
  state.model = optimize(state.model, { registry: state.registry, inputTypes: state.inputTypes, log: state.log, slices }).model;
}
