/**
 * What a planned dispatch binds: one function shared by program recording (engine.ts) and the
 * checks of loaded plans (plan-check.ts), so both always read a plan the same way.
 */
import { EngineFileError } from '../errors';
import type { EnginePlan, PlannedDispatch, PlannedLayer } from '../kernel/plan';

/** Where a dispatch binding lives: which of the engine's buffers, and the byte range. */
export interface BindingRange {
  buffer: 'arena' | 'weights' | 'scratch';
  /** Which arena or weight buffer (plans with several, EnginePlan.arenaBuffers / weightBuffers); 0 otherwise. */
  index: number;
  offset: number;
  range: number;
}

/**
 * The buffer ranges a dispatch binds, in binding order. Used to record programs and to check loaded
 * plans, so both always agree on what a plan means.
 */
export function bindingRanges(plan: EnginePlan, layer: PlannedLayer, d: PlannedDispatch): BindingRange[] {
  return d.bindings.map((b): BindingRange => {
    if ('tensor' in b) {
      const t = plan.tensors.get(b.tensor);
      if (!t) throw new EngineFileError('corrupt', `layer '${layer.name}' binds tensor '${b.tensor}', which the plan does not have`);
      return { buffer: t.kind === 'weight' ? 'weights' : 'arena', index: t.buffer ?? 0, offset: t.offset, range: t.bytes };
    }
    if ('kernelWeight' in b) {
      const w = layer.kernelWeights[b.kernelWeight];
      if (!w) throw new EngineFileError('corrupt', `layer '${layer.name}' binds kernel weight ${b.kernelWeight}, which it does not have`);
      return { buffer: 'weights', index: w.buffer ?? 0, offset: w.offset, range: w.bytes };
    }
    const sc = layer.scratch[b.scratch];
    if (!sc) throw new EngineFileError('corrupt', `layer '${layer.name}' binds scratch ${b.scratch}, which it does not have`);
    return { buffer: 'scratch', index: 0, offset: sc.offset, range: sc.bytes };
  });
}
