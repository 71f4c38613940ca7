/**
 * The public API in two shapes:
 * - TensorRT's: `new Builder().buildEngine(model, config)` -> Engine -> createExecutionContext()
 *   -> `await context.execute(inputs)`;
 * - onnxruntime-node's: `await InferenceSession.create(pathOrBytes, options)` -> `session.run(feeds)`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DisposedError, InputError } from '../errors';
import { Device } from '../gpu/device';
import type { DType } from '../ir/dtype';
import { Model } from '../ir/graph';
import { Tensor } from '../ir/tensor';
import { loadModel, parseModel } from '../onnx/parse';
import { Engine } from '../runtime/engine';
import { isEngineFile } from '../runtime/engine-file';
import type { BuilderConfig } from '../builder/builder';
import { ExecutionContext, type RunTiming } from '../runtime/context';
import { buildTrace } from '../runtime/trace';
import { buildEngine, buildEngineAsync, type AsyncEngineOptions } from './build';
import { buildStagedEngine, hasDataDependentNodes, mayHaveDataDependentNodes, StagedEngine } from './staged';
import { NetworkDefinition, NetworkOptions } from '../network/network';

export type { BuilderConfig, BuildProgress } from '../builder/builder';
export { Engine } from '../runtime/engine';
export type { DeserializeOptions } from '../runtime/engine';
export { ExecutionContext } from '../runtime/context';
export type { RunTiming, ExecuteOptions, InferenceRun, Feeds } from '../runtime/context';
export { DeviceTensor } from '../runtime/device-tensor';
export { buildEngine, buildEngineAsync } from './build';
export type { EngineOptions, AsyncEngineOptions } from './build';
export { Runtime } from '../runtime/runtime';
export { LayerProfile } from '../runtime/profiler';
export type { Profiler, LayerProfileRow } from '../runtime/profiler';

/** Builds engines for one device (TensorRT's IBuilder). Lifetime: dispose() if you passed no device. */
export class Builder {
  readonly device: Device;
  private readonly ownsDevice: boolean;
  private disposedFlag = false;

  /**
   * @param device the device engines are built for; default: the default GPU, opened here and held
   *   by the builder and by every engine it builds (disposing the builder leaves its engines working;
   *   the last of them to be disposed closes the device).
   */
  constructor(device?: Device) {
    this.device = device ?? Device.create().retain();
    this.ownsDevice = !device;
  }

  private modelOf(model: Model | NetworkDefinition | Uint8Array | string): Model {
    return typeof model === 'string' ? loadModel(model) : model instanceof Uint8Array ? parseModel(model) : model instanceof NetworkDefinition ? model.toModel() : model;
  }

  /**
   * An empty network to define layer by layer (TensorRT's createNetworkV2); build it with
   * {@link buildEngine} like a model, or export it with `network.toOnnx()`.
   */
  createNetwork(name = 'network', options: NetworkOptions = {}): NetworkDefinition {
    return new NetworkDefinition(name, options);
  }

  private check(): void {
    if (this.disposedFlag) throw new DisposedError('Builder');
  }

  /**
   * Builds an engine from a model object, ONNX bytes or a path, blocking until it is done (see
   * {@link buildEngineAsync} for a build that keeps the event loop running).
   * @throws ParseError, UnsupportedError (every unsupported node listed), InputError (shapes).
   */
  buildEngine(model: Model | NetworkDefinition | Uint8Array | string, config: BuilderConfig = {}): Engine {
    this.check();
    return buildEngine(this.modelOf(model), { ...config, device: this.device, holdDevice: this.ownsDevice });
  }

  /**
   * Builds an engine without blocking the event loop: parsing, planning and the GLSL compiles run
   * in a worker thread, pipelines and weights are made in slices; `config.progress` hears each
   * phase ({ phase, layer, layers, fraction }). Same errors as {@link buildEngine}.
   */
  async buildEngineAsync(model: Model | NetworkDefinition | Uint8Array | string, config: Omit<AsyncEngineOptions, 'device' | 'holdDevice'> = {}): Promise<Engine> {
    this.check();
    const m = model instanceof NetworkDefinition ? model.toModel() : model;
    return buildEngineAsync(m, { ...config, device: this.device, holdDevice: this.ownsDevice });
  }

  /** Releases the builder's hold on the device it opened; engines it built keep working. Idempotent. */
  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    if (this.ownsDevice) this.device.release();
  }
}

/** onnxruntime-node's SessionOptions that vkrt reads (the others are accepted and ignored). */
export interface OrtSessionOptions {
  /**
   * Values of symbolic dimensions by name (onnxruntime's freeDimensionOverrides): an input whose
   * shape is [batch, 3, 224, 224] is built for [overrides.batch, 3, 224, 224].
   */
  freeDimensionOverrides?: { readonly [dimensionName: string]: number };
  /** 'disabled' turns vkrt's graph optimizer (fusion) off; the other levels keep it on. */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'layout' | 'all';
  /** Start profiling at once (as startProfiling()). */
  enableProfiling?: boolean;
  /** File name prefix of endProfiling()'s trace (default 'vkrt_profile'). */
  profileFilePrefix?: string;
  /** Accepted for compatibility: vkrt always runs on its Vulkan device. */
  executionProviders?: readonly unknown[];
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  enableCpuMemArena?: boolean;
  enableMemPattern?: boolean;
  executionMode?: 'sequential' | 'parallel';
  logId?: string;
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  logVerbosityLevel?: number;
  extra?: Record<string, unknown>;
}

export interface SessionOptions extends BuilderConfig, OrtSessionOptions {
  /** Device index (see `vkrt devices`). */
  deviceIndex?: number;
  device?: Device;
  /** Build in a worker thread (default true); see Builder.buildEngineAsync. */
  worker?: boolean;
}

/** onnxruntime-node's RunOptions: accepted and checked; vkrt reads `tag` (named in profiles). */
export interface RunOptions {
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  logVerbosityLevel?: number;
  terminate?: boolean;
  tag?: string;
  extra?: Record<string, unknown>;
}

/** onnxruntime-node's value metadata (inputMetadata / outputMetadata). */
export interface ValueMetadata {
  readonly name: string;
  readonly isTensor: true;
  readonly type: DType;
  /** The engine's shape: concrete numbers (vkrt builds for one shape per input). */
  readonly shape: readonly number[];
}

export type FetchesType = readonly string[] | { readonly [name: string]: Tensor | null };

/** A model ready to run, in onnxruntime-node's shape (docs/onnxruntime.md compares them row by row). */
export class InferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ValueMetadata[];
  readonly outputMetadata: readonly ValueMetadata[];
  private released = false;
  private profiling?: { runs: RunTiming[]; prefix: string };
  private profilePrefix = 'vkrt_profile';

  /** The staged engine of a session with data-dependent shapes or host fallback (then `engine` throws). */
  readonly staged?: StagedEngine;
  private readonly gpuEngine?: Engine;
  private readonly gpuContext?: ExecutionContext;

  /** The engine (a session on a staged engine has none: see `staged`). */
  get engine(): Engine {
    if (!this.gpuEngine) throw new InputError('this session runs a staged engine (data-dependent shapes or host fallback): see session.staged');
    return this.gpuEngine;
  }

  private get context(): ExecutionContext {
    if (!this.gpuContext) throw new InputError('profiling is not available on a staged engine (data-dependent shapes or host fallback)');
    return this.gpuContext;
  }

  private constructor(engine: Engine | StagedEngine, context?: ExecutionContext) {
    if (engine instanceof StagedEngine) {
      this.staged = engine;
      const g = engine.sourceModel.graph;
      const meta = (name: string): ValueMetadata => {
        const t = g.types.get(name);
        return Object.freeze({ name, isTensor: true as const, type: t?.dtype ?? 'float32', shape: Object.freeze((t?.shape ?? []).map((d) => (typeof d === 'number' ? d : -1))) });
      };
      this.inputNames = g.inputs.filter((i) => !g.initializers.has(i));
      this.outputNames = [...g.outputs];
      this.inputMetadata = Object.freeze(this.inputNames.map(meta));
      this.outputMetadata = Object.freeze(this.outputNames.map(meta));
      return;
    }
    this.gpuEngine = engine;
    this.gpuContext = context;
    this.inputNames = engine.inputs.map((i) => i.name);
    const constants = [...engine.plan.constantOutputs];
    this.outputNames = [...engine.outputs.map((o) => o.name), ...constants.map(([name]) => name)];
    const meta = (io: { name: string; dtype: DType; dims: readonly number[] }): ValueMetadata =>
      Object.freeze({ name: io.name, isTensor: true as const, type: io.dtype, shape: Object.freeze([...io.dims]) });
    this.inputMetadata = Object.freeze(engine.inputs.map(meta));
    this.outputMetadata = Object.freeze([...engine.outputs.map(meta), ...constants.map(([name, t]) => meta({ name, dtype: t.dtype, dims: t.dims }))]);
  }

  /**
   * Creates a session from an ONNX model (path, bytes, an ArrayBuffer or a slice of one) by
   * building its engine for the device, or from an engine file (`engine.serialize()`), which loads
   * without a build. The build runs off the main thread (see Builder.buildEngineAsync);
   * `options.progress` hears its phases.
   * @throws ParseError, UnsupportedError, InputError (shapes: give `inputShapes` or
   *   `freeDimensionOverrides`), VulkanError, EngineFileError.
   */
  static create(uri: string | Uint8Array, options?: SessionOptions): Promise<InferenceSession>;
  static create(buffer: Uint8Array | ArrayBufferLike, options?: SessionOptions): Promise<InferenceSession>;
  static create(buffer: ArrayBufferLike, byteOffset: number, byteLength?: number, options?: SessionOptions): Promise<InferenceSession>;
  static async create(arg0: string | Uint8Array | ArrayBufferLike, arg1?: SessionOptions | number, arg2?: number, arg3?: SessionOptions): Promise<InferenceSession> {
    let source: string | Uint8Array;
    let options: SessionOptions;
    if (typeof arg0 === 'string') {
      source = arg0;
      options = optionsArg(arg1);
    } else if (arg0 instanceof Uint8Array) {
      source = arg0;
      options = optionsArg(arg1);
    } else if (arg0 instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && arg0 instanceof SharedArrayBuffer)) {
      if (typeof arg1 === 'number') {
        const length = arg2 ?? arg0.byteLength - arg1;
        if (!Number.isInteger(arg1) || arg1 < 0 || arg1 > arg0.byteLength || !Number.isInteger(length) || length < 0 || arg1 + length > arg0.byteLength) {
          throw new InputError(`InferenceSession.create: byteOffset ${arg1} and byteLength ${arg2} do not fit a buffer of ${arg0.byteLength} bytes`);
        }
        source = new Uint8Array(arg0, arg1, length);
        options = optionsArg(arg3);
      } else {
        source = new Uint8Array(arg0);
        options = optionsArg(arg1);
      }
    } else {
      throw new InputError('InferenceSession.create: give a model path (string), a Uint8Array or an ArrayBuffer');
    }
    const bytes = typeof source === 'string' ? readHead(source) : source;
    const engineFile = !!bytes && isEngineFile(bytes);
    // An engine file opens the device it was built for unless told which; a build, the default GPU.
    const device = options.device ?? (options.deviceIndex !== undefined ? Device.create({ index: options.deviceIndex }) : engineFile ? undefined : Device.create());
    const owned = options.device ? undefined : device?.retain();
    try {
      let engine: Engine;
      if (engineFile) {
        const file = typeof source === 'string' ? source : undefined;
        engine = Engine.deserialize(file ? fs.readFileSync(file) : (source as Uint8Array), { device, file, holdDevice: !!owned });
      } else if (options.hostFallback || (mayHaveDataDependentNodes(typeof source === 'string' ? readAll(source) : source, options.registry) && hasDataDependentNodes(modelOf(source), options.registry))) {
        // data-dependent shapes or host fallback: a staged engine (its later stages built at run time)
        const inputShapes = await shapesWithOverrides(source, options);
        const staged = buildStagedEngine(modelOf(source), { ...options, device, holdDevice: !!owned, inputShapes, fusion: options.graphOptimizationLevel === 'disabled' ? false : options.fusion });
        return new InferenceSession(staged);
      } else {
        // onnxruntime's create builds without timing candidates (optimizationLevel 0, in a worker) unless asked
        const config: AsyncEngineOptions = { ...options, device, holdDevice: !!owned, optimizationLevel: options.optimizationLevel ?? 0 };
        config.inputShapes = await shapesWithOverrides(source, options);
        if (options.graphOptimizationLevel === 'disabled') config.fusion = false;
        engine = await buildEngineAsync(source, config);
      }
      const session = new InferenceSession(engine, engine.createExecutionContext());
      if (options.profileFilePrefix !== undefined) session.profilePrefix = options.profileFilePrefix;
      if (options.enableProfiling) session.startProfiling();
      return session;
    } finally {
      owned?.release(); // the engine holds the device now; on failure this closes it
    }
  }

  private check(): void {
    if (this.released) throw new DisposedError('InferenceSession');
  }

  /**
   * Runs the model (onnxruntime-node's run): `feeds` by input name; `fetches` (optional) names the
   * outputs to return, as an array or as an object whose values are null or preallocated Tensors
   * (filled in place); `options` is RunOptions. Concurrent runs are queued.
   * @throws InputError for a missing or unknown input, a wrong type or shape, an unknown output.
   */
  async run(feeds: Record<string, Tensor>, options?: RunOptions): Promise<Record<string, Tensor>>;
  async run(feeds: Record<string, Tensor>, fetches: FetchesType, options?: RunOptions): Promise<Record<string, Tensor>>;
  async run(feeds: Record<string, Tensor>, arg1?: FetchesType | RunOptions, arg2?: RunOptions): Promise<Record<string, Tensor>> {
    this.check();
    if (!feeds || typeof feeds !== 'object' || Array.isArray(feeds) || feeds instanceof Tensor) {
      throw new InputError('run(feeds): feeds must be an object of Tensors keyed by input name');
    }
    let wanted: string[] = [...this.outputNames];
    const preallocated: Record<string, Tensor> = {};
    let options: RunOptions | undefined;
    if (Array.isArray(arg1)) {
      wanted = [...new Set(arg1 as readonly string[])];
      if (wanted.some((n) => typeof n !== 'string')) throw new InputError('run(feeds, fetches): fetches must be output names');
      options = arg2;
    } else if (arg1 && typeof arg1 === 'object') {
      if (arg1 instanceof Tensor) throw new InputError('run(feeds, fetches): fetches is a Tensor; give output names or { name: null | Tensor }');
      // onnxruntime's rule: an object with an output name mapped to null or a Tensor is fetches
      const keys = Object.keys(arg1);
      const fetch = keys.filter((k) => this.outputNames.includes(k) && ((arg1 as Record<string, unknown>)[k] === null || (arg1 as Record<string, unknown>)[k] instanceof Tensor));
      if (fetch.length) {
        const unknown = keys.filter((k) => !this.outputNames.includes(k));
        if (unknown.length) throw new InputError(`run(feeds, fetches): '${unknown[0]}' is not an output of this model (outputs: ${this.outputNames.join(', ')})`);
        wanted = fetch;
        for (const k of fetch) {
          const t = (arg1 as Record<string, Tensor | null>)[k];
          if (t) preallocated[k] = t;
        }
        options = arg2;
      } else {
        options = arg1 as RunOptions;
        if (arg2 !== undefined) throw new InputError('run(feeds, fetches, options): fetches names no output of this model');
      }
    } else if (arg1 !== undefined) {
      throw new InputError('run(feeds, fetches?, options?): fetches must be an array of output names or an object');
    }
    for (const n of wanted) {
      if (!this.outputNames.includes(n)) throw new InputError(`run(feeds, fetches): '${n}' is not an output of this model (outputs: ${this.outputNames.join(', ')})`);
    }
    checkRunOptions(options);
    let out: Map<string, Tensor>;
    if (this.staged) {
      out = new Map();
      for (const [k, v] of await this.staged.execute(feeds)) {
        if (!(v instanceof Tensor)) throw new InputError(`output '${k}' is a sequence or optional; InferenceSession returns tensors (run the staged engine, session.staged, for the value)`);
        out.set(k, v);
      }
    } else {
      out = await this.context.execute(feeds);
      if (this.profiling && this.context.lastTiming) this.profiling.runs.push(this.context.lastTiming);
    }
    const result: Record<string, Tensor> = {};
    for (const n of wanted) {
      const t = out.get(n)!;
      const into = preallocated[n];
      if (into) {
        if (into.dtype !== t.dtype || into.dims.join(',') !== t.dims.join(',')) {
          throw new InputError(`run(feeds, fetches): the preallocated '${n}' is ${into.dtype}[${into.dims.join(',')}]; the output is ${t.dtype}[${t.dims.join(',')}]`);
        }
        copyInto(into, t);
        result[n] = into;
      } else result[n] = t;
    }
    return result;
  }

  /**
   * Starts recording per-layer GPU times of every run (onnxruntime's startProfiling); no-op while
   * already profiling.
   */
  startProfiling(): void {
    this.check();
    if (this.profiling) return;
    this.profiling = { runs: [], prefix: this.profilePrefix };
    this.context.profiler = { reportLayerTime() {} }; // timestamps around every layer; the times arrive in lastTiming
  }

  /**
   * Stops profiling and writes the runs since startProfiling() as a Chrome/Perfetto trace
   * (`<profileFilePrefix>_<date>.json` in the working directory, as onnxruntime does); returns
   * the file's path, or undefined when profiling was not on.
   */
  endProfiling(): string | undefined {
    this.check();
    const p = this.profiling;
    if (!p) return undefined;
    this.profiling = undefined;
    this.context.profiler = undefined;
    const layers = this.engine.plan.layers.map((l) => ({ name: l.name, kernel: l.kernel, precision: l.precision }));
    const trace = buildTrace(p.runs, layers, { engine: 'InferenceSession', device: this.engine.device.info.name, queue: this.context.queue });
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '_');
    const file = path.resolve(`${p.prefix}_${stamp}.json`);
    fs.writeFileSync(file, JSON.stringify(trace));
    return file;
  }

  /** Frees the GPU objects (idempotent); the device closes with its last holder. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.gpuEngine?.dispose();
    this.staged?.dispose();
  }
}

/** The model of a path or ONNX bytes (parsed once per call; the staged path reads it whole). */
const parsedModels = new WeakMap<Uint8Array, Model>();
function modelOf(source: string | Uint8Array): Model {
  if (typeof source === 'string') return loadModel(source);
  let m = parsedModels.get(source);
  if (!m) parsedModels.set(source, (m = parseModel(source)));
  return m;
}

/** A model file's bytes (empty when unreadable: loadModel reports that with its own error). */
function readAll(file: string): Uint8Array {
  try {
    return fs.readFileSync(file);
  } catch {
    return new Uint8Array(0);
  }
}

function optionsArg(o: unknown): SessionOptions {
  if (o === undefined || o === null) return {};
  if (typeof o !== 'object' || Array.isArray(o)) throw new InputError('InferenceSession.create: options must be an object (SessionOptions)');
  return o as SessionOptions;
}

function checkRunOptions(o: RunOptions | undefined): void {
  if (o === undefined) return;
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new InputError('run(): options must be an object (RunOptions)');
  if (o.tag !== undefined && typeof o.tag !== 'string') throw new InputError('run(): options.tag must be a string');
  if (o.logSeverityLevel !== undefined && ![0, 1, 2, 3, 4].includes(o.logSeverityLevel)) throw new InputError('run(): options.logSeverityLevel must be 0, 1, 2, 3 or 4');
}

/** Copies an output into a preallocated tensor of the same type and shape. */
function copyInto(into: Tensor, from: Tensor): void {
  const dst = into.data, src = from.data;
  if (Array.isArray(dst)) (src as string[]).forEach((v, i) => ((dst as string[])[i] = v));
  else if (dst.constructor === src.constructor) (dst as Float32Array).set(src as Float32Array);
  else throw new InputError(`run(feeds, fetches): the preallocated output holds a ${dst.constructor.name}; the output is a ${src.constructor.name}`);
}

/** inputShapes with freeDimensionOverrides applied to the model's declared input shapes. */
async function shapesWithOverrides(source: string | Uint8Array, options: SessionOptions): Promise<Record<string, readonly number[]> | undefined> {
  const over = options.freeDimensionOverrides;
  if (!over || !Object.keys(over).length) return options.inputShapes;
  for (const [k, v] of Object.entries(over)) {
    if (!Number.isInteger(v) || v < 0) throw new InputError(`freeDimensionOverrides.${k} must be a non-negative integer, got ${v}`);
  }
  const model = typeof source === 'string' ? loadModel(source) : parseModel(source);
  const g = model.graph;
  const shapes: Record<string, readonly number[]> = {};
  for (const name of g.inputs) {
    if (g.initializers.has(name)) continue;
    const shape = g.types.get(name)?.shape;
    if (!shape || !shape.some((d) => typeof d === 'string' && d in over)) continue;
    shapes[name] = shape.map((d) => (typeof d === 'number' ? d : d in over ? over[d] : -1));
  }
  for (const [name, dims] of Object.entries(shapes)) {
    if (dims.includes(-1)) delete shapes[name]; // the builder names the dimension still open
  }
  return { ...shapes, ...(options.inputShapes ?? {}) };
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
