/**
 * The public API in two shapes:
 * - TensorRT's: `new Builder().buildEngine(model, config)` -> Engine -> createExecutionContext()
 *   -> `await context.execute(inputs)`;
 * - onnxruntime-node's: `await InferenceSession.create(pathOrBytes, options)` -> `session.run(feeds)`.
 */
import { InputError } from '../errors';
import { Device } from '../gpu/device';
import { Model } from '../ir/graph';
import { Tensor } from '../ir/tensor';
import { loadModel, parseModel } from '../onnx/parse';
import * as fs from 'fs';
import { Engine } from '../runtime/engine';
import { isEngineFile } from '../runtime/engine-file';
import type { BuilderConfig } from '../builder/builder';
import { ExecutionContext } from '../runtime/context';
import { buildEngine, EngineOptions } from './build';
import { NetworkDefinition, NetworkOptions } from '../network/network';

export type { BuilderConfig } from '../builder/builder';
export { Engine } from '../runtime/engine';
export type { DeserializeOptions } from '../runtime/engine';
export { ExecutionContext } from '../runtime/context';
export type { RunTiming } from '../runtime/context';
export { buildEngine } from './build';
export type { EngineOptions } from './build';
export { Runtime } from '../runtime/runtime';
export { LayerProfile } from '../runtime/profiler';
export type { Profiler, LayerProfileRow } from '../runtime/profiler';

/** Builds engines for one device (TensorRT's IBuilder). Lifetime: dispose() if you passed no device. */
export class Builder {
  readonly device: Device;
  private readonly ownsDevice: boolean;

  /** @param device the device engines are built for; default: the default GPU. */
  constructor(device?: Device) {
    this.device = device ?? Device.create();
    this.ownsDevice = !device;
  }

  /**
   * An empty network to define layer by layer (TensorRT's createNetworkV2); build it with
   * {@link buildEngine} like a model, or export it with `network.toOnnx()`.
   */
  createNetwork(name = 'network', options: NetworkOptions = {}): NetworkDefinition {
    return new NetworkDefinition(name, options);
  }

  /**
   * Builds an engine from a model object, a network definition, ONNX bytes or a path.
   * @throws ParseError, UnsupportedError (every unsupported node listed), InputError (shapes).
   */
  buildEngine(model: Model | NetworkDefinition | Uint8Array | string, config: BuilderConfig = {}): Engine {
    const m = typeof model === 'string' ? loadModel(model) : model instanceof Uint8Array ? parseModel(model) : model instanceof NetworkDefinition ? model.toModel() : model;
    return buildEngine(m, { ...config, device: this.device });
  }

  dispose(): void {
    if (this.ownsDevice) this.device.dispose();
  }
}

export interface SessionOptions extends BuilderConfig {
  /** Device index (see `vkrt devices`). */
  deviceIndex?: number;
  device?: Device;
}

/** A model ready to run, in onnxruntime-node's shape. */
export class InferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** A device the session opened itself (deviceIndex), released with it. */
  private ownedDevice?: Device;
  private constructor(readonly engine: Engine, private readonly context: ExecutionContext) {
    this.inputNames = engine.inputs.map((i) => i.name);
    this.outputNames = [...engine.outputs.map((o) => o.name), ...engine.plan.constantOutputs.keys()];
  }

  /**
   * Parses the model and builds its engine for the device; given an engine file (path or bytes,
   * see `engine.serialize()`), loads it instead (build options do not apply then).
   */
  static async create(pathOrBytes: string | Uint8Array, options: SessionOptions = {}): Promise<InferenceSession> {
    const device = options.device ?? (options.deviceIndex !== undefined ? Device.create({ index: options.deviceIndex }) : undefined);
    const owned = options.device ? undefined : device;
    try {
      const bytes = typeof pathOrBytes === 'string' ? readHead(pathOrBytes) : pathOrBytes;
      if (bytes && isEngineFile(bytes)) {
        const file = typeof pathOrBytes === 'string' ? pathOrBytes : undefined;
        const engine = Engine.deserialize(file ? fs.readFileSync(file) : bytes, { device, file });
        return InferenceSession.owning(engine, owned);
      }
      const model = typeof pathOrBytes === 'string' ? loadModel(pathOrBytes) : parseModel(pathOrBytes);
      const engineOptions: EngineOptions = { ...options, device };
      const engine = buildEngine(model, engineOptions);
      return InferenceSession.owning(engine, owned);
    } catch (e) {
      owned?.dispose();
      throw e;
    }
  }

  private static owning(engine: Engine, device: Device | undefined): InferenceSession {
    const s = new InferenceSession(engine, engine.createExecutionContext());
    s.ownedDevice = device;
    return s;
  }

  /** Runs the model: feeds by input name, outputs by name. Concurrent runs are queued. */
  async run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    if (!feeds || typeof feeds !== 'object') throw new InputError('run(feeds): feeds must be an object of Tensors keyed by input name');
    const out = await this.context.execute(feeds);
    return Object.fromEntries(out);
  }

  /** Frees the GPU objects (idempotent). */
  async release(): Promise<void> {
    this.engine.dispose();
    this.ownedDevice?.dispose();
  }
}

/** The first bytes of a file (to tell engine files from ONNX), or undefined when it cannot be read. */
function readHead(file: string): Uint8Array | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const b = new Uint8Array(8);
    return b.subarray(0, fs.readSync(fd, b, 0, 8, 0));
  } catch {
    return undefined; // loadModel reports the missing file with its own error
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
