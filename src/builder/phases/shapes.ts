/** Phase 3, shapes: every value's type for the concrete input shapes, with constant folding. */
import { inferShapes } from '../../ops/infer-shapes';
import type { BuildState } from '../state';

export function inferTypes(state: BuildState): void {
  const { types, constants, folded } = inferShapes(state.model.graph, state.model.opsets, { registry: state.registry, inputTypes: state.inputTypes });
  state.types = types;
  state.constants = constants;
  state.folded = folded;
}
