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

/** Plans the model for the device and compiles every dispatch's shader. */
export function buildSerialized(model: Model, device: Device, config: BuilderConfig = {}): BuiltEngine {
  const plan = buildPlan(model, deviceCaps(device), config);
  return { plan, shaders: compileShaders(plan) };
}
