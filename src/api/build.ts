/**
 * Builder and runtime joined: a model in, a loaded Engine out. The builder (src/builder) plans and
 * compiles, the runtime (src/runtime) loads; only this layer knows both.
 */
import type { BuilderConfig } from '../builder/builder';
import { buildSerialized, buildSerializedAsync } from '../builder/build';
import type { TuningOptions } from '../builder/tuning/tune';
import './refit';
import { Device } from '../gpu/device';
import type { Model } from '../ir/graph';
import { Engine } from '../runtime/engine';

export interface EngineOptions extends BuilderConfig {
  /** The device to build for; default: a new device on the default GPU (disposed with the engine). */
  device?: Device;
}

/**
 * Builds an engine with auto-tuning (BuilderConfig.optimizationLevel, default 3: the candidates of
 * every layer timed on the device; timingCache: a file of timings kept across builds) and loads it.
 */
export async function buildEngineAsync(model: Model, options: EngineOptions & Omit<TuningOptions, 'cache' | 'optimizationLevel'> = {}): Promise<Engine> {
  const t0 = performance.now();
  const device = options.device ?? Device.create();
  try {
    const built = await buildSerializedAsync(model, device, options, { timer: options.timer, onProgress: options.onProgress });
    return Engine.load(built, { device, ownsDevice: !options.device }, t0);
  } catch (e) {
    if (!options.device) device.dispose();
    throw e;
  }
}

/** Builds an engine for a model (see BuilderConfig) and loads it on the device. */
export function buildEngine(model: Model, options: EngineOptions = {}): Engine {
  const t0 = performance.now();
  const device = options.device ?? Device.create();
  try {
    return Engine.load(buildSerialized(model, device, options), { device, ownsDevice: !options.device }, t0);
  } catch (e) {
    if (!options.device) device.dispose();
    throw e;
  }
}
