/**
 * The builder's entry point (TensorRT's IBuilder::buildSerializedNetwork): a model and a device in,
 * a BuiltEngine out (the plan and the SPIR-V of its dispatches), ready for the runtime to load or to
 * serialize. It never touches the runtime.
 */
import type { Device } from '../gpu/device';
import type { Model } from '../ir/graph';
import type { BuiltEngine } from '../kernel/plan';
import { buildPlan, BuilderConfig } from './builder';
import { deviceCaps } from './caps';
import { compileShaders } from './shaders';
import { buildTuned, DEFAULT_OPTIMIZATION_LEVEL, timedSelection, TuningOptions, TuningReport } from './tuning/tune';
import { TimingCache } from './tuning/timing-cache';

/** A build's timing cache: the config's file (a warning and an empty cache when unusable). */
export function loadTimingCache(device: Device, config: BuilderConfig): TimingCache {
  return TimingCache.load(config.timingCache, device, (m) => process.emitWarning(m, 'VkrtWarning'));
}

/**
 * Plans the model for the device and compiles every dispatch's shader. No timing: with a timing
 * cache, layers whose considered candidates are all in it get the fastest; others the heuristic.
 */
export function buildSerialized(model: Model, device: Device, config: BuilderConfig = {}): BuiltEngine {
  let selection = config.selection;
  if (!selection && config.timingCache) {
    selection = timedSelection(loadTimingCache(device, config), config.optimizationLevel ?? DEFAULT_OPTIMIZATION_LEVEL, config.paramMode ?? 'spec');
  }
  const plan = buildPlan(model, deviceCaps(device, config), { ...config, selection });
  return { plan, shaders: compileShaders(plan, config.progress) };
}

/**
 * A build that times candidates on the device (auto-tuning, tuning/tune.ts), with the config's
 * timing cache read before and written after (merged).
 */
export async function buildSerializedAsync(model: Model, device: Device, config: BuilderConfig = {}, tuning: Omit<TuningOptions, 'cache' | 'optimizationLevel'> = {}): Promise<BuiltEngine & { tuning: TuningReport }> {
  const cache = loadTimingCache(device, config);
  const built = await buildTuned(model, device, config, { ...tuning, cache, optimizationLevel: config.optimizationLevel });
  if (config.timingCache && cache.added > 0) cache.save(config.timingCache);
  return built;
}
