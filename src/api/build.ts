/**
 * Builder and runtime joined: a model in, a loaded Engine out. The builder (src/builder) plans and
 * compiles, the runtime (src/runtime) loads; only this layer knows both.
 */
import type { BuilderConfig } from '../builder/builder';
import { buildSerialized } from '../builder/build';
import { Device } from '../gpu/device';
import type { Model } from '../ir/graph';
import { Engine } from '../runtime/engine';

export interface EngineOptions extends BuilderConfig {
  /** The device to build for; default: a new device on the default GPU (disposed with the engine). */
  device?: Device;
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
