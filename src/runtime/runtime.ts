/**
 * TensorRT's IRuntime: turns engine files back into engines. `Runtime.deserializeEngine(bytes)`
 * is the static form; an instance binds a device, as `createInferRuntime` does.
 */
import { Device } from '../gpu/device';
import { DeserializeOptions, Engine } from './engine';

/** Loads engine files (docs/engine-file.md). */
export class Runtime {
  /** @param device the device engines are loaded on; default: the device each file was built for. */
  constructor(readonly device?: Device) {}

  /**
   * An engine from the bytes of an engine file (`engine.serialize()`, `vkrt exec --saveEngine`).
   * No graph work, no GLSL: pipelines come from the stored SPIR-V and pipeline cache.
   * @throws EngineFileError whose `reason` says why the file was refused: foreign, version,
   *   truncated, corrupt, device or driver.
   */
  static deserializeEngine(bytes: Uint8Array, options: DeserializeOptions = {}): Engine {
    return Engine.deserialize(bytes, options);
  }

  /** {@link Runtime.deserializeEngine} on this runtime's device (when it has one). */
  deserializeEngine(bytes: Uint8Array, options: DeserializeOptions = {}): Engine {
    return Engine.deserialize(bytes, { device: this.device, ...options });
  }
}
