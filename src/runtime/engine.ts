/**
 * Engine and ExecutionContext in TensorRT's shape. An Engine owns the compiled pipelines and the
 * weights on one device; each ExecutionContext owns its activation arena and one program recorded
 * once (every layer's dispatches and barriers), so a run crosses into native code a fixed number of
 * times whatever the layer count: write inputs, submit (awaited on the queue's waiter thread), read outputs.
 *
 * Concurrency (docs/async.md): runs of one context go through the queue in order, up to
 * maxInFlight at once with their transfers overlapped (they share its arena); separate contexts
 * (streams) run independently, each on the least used queue where the device has several.
 *
 * An engine serializes to an engine file (plan, weights, SPIR-V, pipeline cache; engine-file.ts)
 * and loads from one without graph work or GLSL compilation. A context runs in four timed phases
 * (upload, enqueue, wait, read back); with a profiler it submits a second program, recorded on first
 * use, that writes a timestamp fencepost around every layer (profiler.ts).
 */
import { BufferSet, bufferSizes } from './buffer-set';
import { DisposedError, EngineFileError, InputError, VkrtError } from '../errors';
import { compileDispatchShader } from '../gpu/compile';
import { Device } from '../gpu/device';
import { Pipeline } from '../gpu/pipeline';
import type { BuiltEngine, EngineIO, EnginePlan, ProfileRange, RefitWeight, ShaderTable } from '../kernel/plan';
import type { OpRegistry } from '../ops/registry';
import { ExecutionContext } from './context';
import { DeviceTensor } from './device-tensor';
import { checkFingerprint, EngineFileContents, EngineKey, fingerprintOf, readEngineFile, writeEngineFile } from './engine-file';
import { checkLoadedPlan } from './plan-check';
import { decodePlainData, encodePlainData, Json } from './plan-codec';
import { verifyPlanSources } from './plan-verify';
import { refitEngine, refitEngineFromOnnx, RefitResult, RefitWeights } from './refit';
import { createPipelineSteps, type PipelineRequest } from './pipelines';
import { Specializations } from './profiles';
import { PROGRESS_SPAN, type BuildProgress } from '../kernel/progress';

/** Options of {@link Engine.load}. */
export interface LoadOptions {
  /** The device to load on; default: a new device on the default GPU (disposed with the engine). */
  device?: Device;
  /** The engine disposes the given device with itself (as it does one it opened). */
  ownsDevice?: boolean;
  /**
   * The engine holds the given device open ({@link Device.retain}) until it is disposed, as an
   * engine built by a Builder holds the builder's device: disposing the builder does not break it.
   */
  holdDevice?: boolean;
}

/** Options of {@link Engine.deserialize} / Runtime.deserializeEngine. */
export interface DeserializeOptions {
  /**
   * The device to load on; it must be the device and driver the engine was built for. Default: the
   * first device that matches the engine's fingerprint, opened with the file's pipeline cache
   * (disposed with the engine).
   */
  device?: Device;
  /** Names the file in error messages. */
  file?: string;
  /**
   * The file is not trusted (downloaded, handed in by a user): the SPIR-V is compiled again from
   * the dispatches' (checked) GLSL instead of taken from the file, and the engine runs on a device
   * with robust buffer access (opened so when no device is given; a given device must have been
   * created with `robustBufferAccess: true`). Costs a shader compile at load and some speed per
   * run (docs/engine-file.md). Default false: the file is checked, its SPIR-V validated, and run.
   */
  untrusted?: boolean;
  /** Refuse the file (EngineFileError 'signature') unless it was signed with this key ({@link SerializeOptions.signingKey}). */
  key?: EngineKey;
  /** The operators the engine was built with, when the build used a plugin registry. */
  registry?: OpRegistry;
  /** The engine holds the given device open until it is disposed (see LoadOptions.holdDevice). */
  holdDevice?: boolean;
}

/** Options of {@link Engine.serialize}. */
export interface SerializeOptions {
  /** Sign the file (HMAC-SHA256) so that loaders given the same key refuse any file not signed with it. */
  signingKey?: EngineKey;
}

/** Options of {@link decodeEngine}. */
export interface DecodeOptions {
  /** Compile the SPIR-V again from the checked dispatches instead of using the file's. */
  recompile?: boolean;
  registry?: OpRegistry;
}

/** What an engine file's manifest holds besides the plan's data sections. */
interface Manifest {
  plan: Json;
  /** Per layer, per dispatch: the index of its SPIR-V module among the file's SPIR-V sections. */
  shaders: number[][];
  /** Per shader of the plan's optimization profiles (plan.profiles.shaders), its SPIR-V module. */
  profileShaders?: number[];
}

/** An optimized model for one device. Lifetime: dispose() (idempotent) frees its GPU objects. */
export class Engine {
  readonly plan: EnginePlan;
  readonly device: Device;
  /** The engine holds its device open (Device.retain) and releases it when disposed. */
  private readonly holdsDevice: boolean;
  /** @internal The pipeline of each layer's dispatches, in plan order. */
  readonly pipelines: Pipeline[][];
  /** @internal The weight buffer. */
  readonly weights: BufferSet;
  private readonly contexts = new Set<ExecutionContext>();
  /** The SPIR-V modules the pipelines were made from (deduplicated), kept for serialize(). */
  private readonly shaders: ShaderTable;
  /** Every pipeline of the engine by key (pipelines.ts), the plan's and those of other profile shapes. */
  private pipelineCache!: Map<string, Pipeline>;
  /** @internal The plan's own shapes and, with optimization profiles, the others run so far (docs/dynamic-shapes.md). */
  readonly specializations: Specializations;
  private disposedFlag = false;
  /**
   * Milliseconds from the start of the build (plan, GLSL, pipelines, weights) or of
   * Engine.deserialize (checks, decode, pipelines, weights) to a ready engine.
   */
  readonly buildMs: number;
  /** True for an engine loaded from an engine file. */
  readonly loaded: boolean;

  private constructor(built: BuiltEngine, device: Device, ownsDevice: boolean, t0: number, file?: { name?: string }, holdDevice = false, prepared?: Prepared) {
    this.plan = built.plan;
    this.shaders = built.shaders;
    this.device = device;
    this.holdsDevice = ownsDevice || holdDevice;
    this.loaded = !!file;
    try {
      const made = prepared ?? prepareNow(device, prepareSteps(device, this.plan, this.shaders, file));
      this.pipelines = made.pipelines;
      this.weights = made.weights;
      this.pipelineCache = made.cache;
      const contexts = this.contexts;
      this.specializations = new Specializations({
        plan: this.plan, device, weights: this.weights, pipelines: this.pipelines, shaders: this.shaders, pipelineCache: this.pipelineCache,
        evicted: (s) => { for (const c of contexts) c.dropSpecialization(s); },
      });
    } catch (e) {
      if (ownsDevice) device.dispose();
      throw e;
    }
    if (this.holdsDevice) device.retain();
    this.buildMs = performance.now() - t0;
  }

  /**
   * An engine from a built plan and its SPIR-V (what the builder produces). Makes the pipelines and
   * uploads the weights.
   * @param startMs performance.now() when the build began (for buildMs); default now.
   */
  static load(built: BuiltEngine, options: LoadOptions = {}, startMs = performance.now(), progress?: (p: BuildProgress) => void): Engine {
    const device = options.device ?? Device.create();
    const owns = !options.device || !!options.ownsDevice;
    let prepared: Prepared;
    try {
      prepared = prepareNow(device, prepareSteps(device, built.plan, built.shaders, undefined), progress);
    } catch (e) {
      if (owns) device.dispose();
      throw e;
    }
    return new Engine(built, device, owns, startMs, undefined, !!options.holdDevice, prepared);
  }

  /**
   * {@link load} without holding the event loop: each pipeline is compiled on a worker thread
   * (Device.createPipelineAsync) and the weights are uploaded in chunks with the event loop let run
   * in between (a build keeps timers and I/O going). `progress` hears each pipeline and chunk.
   */
  static async loadAsync(built: BuiltEngine, options: LoadOptions = {}, startMs = performance.now(), progress?: (p: BuildProgress) => void): Promise<Engine> {
    const device = options.device ?? Device.create();
    const owns = !options.device || !!options.ownsDevice;
    let prepared: Prepared;
    try {
      prepared = await prepareLater(device, prepareSteps(device, built.plan, built.shaders, undefined), progress);
    } catch (e) {
      if (owns) device.dispose();
      throw e;
    }
    const engine = new Engine(built, device, owns, startMs, undefined, !!options.holdDevice, prepared);
    progress?.({ phase: 'done', fraction: 1 });
    return engine;
  }

  /**
   * The engine as an engine file (TensorRT's IHostMemory from serialize()): the plan, its weights,
   * the SPIR-V of every pipeline and the driver's pipeline cache, for this device and driver only.
   * See docs/engine-file.md.
   */
  serialize(options: SerializeOptions = {}): Uint8Array {
    this.check();
    // kernel weights are derived data: the loader gets them from the kernel it re-runs (plan-verify.ts);
    // a plugin layer keeps them (a process without the plugin loads the engine without re-running it)
    const plan: EnginePlan = { ...this.plan, layers: this.plan.layers.map((l) => (l.plugin ? l : { ...l, kernelWeights: l.kernelWeights.map((w) => ({ offset: w.offset, bytes: w.bytes, ...(w.buffer !== undefined ? { buffer: w.buffer } : {}) })) as EnginePlan['layers'][number]['kernelWeights'] })) };
    const { json, sections } = encodePlainData(plan);
    const manifest: Manifest = { plan: json, shaders: this.shaders.dispatchModule, ...(this.shaders.profileModules ? { profileShaders: this.shaders.profileModules } : {}) };
    return writeEngineFile({
      fingerprint: fingerprintOf(this.device.info), manifest: manifest as unknown as Json,
      data: sections, spirv: this.shaders.modules, pipelineCache: this.device.pipelineCacheData(),
    }, { signingKey: options.signingKey });
  }

  /**
   * Loads an engine file written by {@link serialize}. Does no graph work and compiles no GLSL:
   * it checks the file, decodes the plan, re-derives every layer's dispatches from what produced
   * it (plan-verify.ts), validates the SPIR-V and makes pipelines from it (or, with `untrusted`,
   * from SPIR-V compiled again).
   * @throws EngineFileError (reason foreign, version, truncated, corrupt, device, driver or signature);
   *   InputError for `untrusted` with a device that has no robust buffer access.
   */
  static deserialize(bytes: Uint8Array, options: DeserializeOptions = {}): Engine {
    const t0 = performance.now();
    const file = readEngineFile(bytes, options.file, { key: options.key });
    let device = options.device;
    if (device) {
      checkFingerprint(file.fingerprint, device.info, options.file);
      if (options.untrusted && device.info.robustBufferAccess === 'none') throw new InputError('an untrusted engine file needs a device with robust buffer access: create it with Device.create({ robustBufferAccess: true }), or give no device');
    } else device = openMatchingDevice(file, options.file, !!options.untrusted);
    try {
      const built = decodeEngine(file, device, options.file, { recompile: !!options.untrusted, registry: options.registry });
      return new Engine(built, device, !options.device, t0, { name: options.file }, !!options.holdDevice);
    } catch (e) {
      if (!options.device) device.dispose();
      throw e;
    }
  }

  get inputs(): readonly EngineIO[] { return this.plan.inputs; }

  /**
   * The engine's optimization profiles (BuilderConfig.profiles): per profile, the min, opt and max
   * shape of each input that may vary. Empty for an engine of fixed shapes.
   */
  get profiles(): readonly Readonly<Record<string, Readonly<ProfileRange>>>[] {
    return this.plan.profiles?.profiles.map((p) => p.inputs) ?? [];
  }
  get outputs(): readonly EngineIO[] { return this.plan.outputs; }

  /** True when the engine was built refittable (BuilderConfig.refittable). */
  get refittable(): boolean { return !!this.plan.refit; }

  /** The weights {@link refit} accepts, by ONNX initializer name (empty unless refittable). */
  get refittableWeights(): readonly RefitWeight[] { return this.plan.refit?.weights ?? []; }

  /**
   * Replaces weights by ONNX initializer name (TensorRT's IRefitter): checks names, dtypes and
   * shapes, re-applies the build's weight transforms (BN folding, re-layout, FP16 conversion) and
   * uploads; contexts see the new weights on their next run. Not while a run is in flight.
   * @throws RefitError for an engine not built refittable, an unknown name, a wrong dtype or
   *   shape, or a value the build folded into more than weight bytes (named).
   */
  refit(weights: RefitWeights): RefitResult {
    this.check();
    return refitEngine(this.refitHost(), weights);
  }

  /** {@link refit} with every weight of an ONNX file of the same graph (a fine-tuned export). */
  refitFromOnnx(file: string): RefitResult {
    this.check();
    return refitEngineFromOnnx(this.refitHost(), file);
  }

  private refitHost() {
    return { plan: this.plan, device: this.device, weights: this.weights, busy: () => [...this.contexts].some((c) => c.busy) };
  }

  /**
   * A context with its own activation memory (a stream): it runs on the device queue the fewest of
   * this engine's live contexts use, so contexts run concurrently on separate queues where the
   * device has several (docs/async.md).
   */
  createExecutionContext(): ExecutionContext {
    this.check();
    const uses = new Array<number>(Math.max(1, this.device.info.queueCount)).fill(0);
    for (const c of this.contexts) uses[c.queue]++;
    const ctx = new ExecutionContext(this, uses.indexOf(Math.min(...uses)));
    this.contexts.add(ctx);
    return ctx;
  }

  /**
   * A DeviceTensor on this engine's device for its input or output `name` (its dtype, GPU storage
   * and shape; `dims` for another shape inside an optimization profile), owned by the caller: give
   * it to execute()/enqueue() as the input, or in `options.outputs` (docs/async.md).
   */
  createDeviceTensor(name: string, dims?: readonly number[]): DeviceTensor {
    this.check();
    const io = this.plan.inputs.find((i) => i.name === name) ?? this.plan.outputs.find((o) => o.name === name);
    if (!io) throw new InputError(`'${name}' is not an input or output of this engine (inputs: ${this.plan.inputs.map((i) => i.name).join(', ')}; outputs: ${this.plan.outputs.map((o) => o.name).join(', ')})`);
    return DeviceTensor.alloc(this.device, io.dtype, dims ?? io.dims, io.gpu);
  }

  /** @internal */
  check(): void {
    if (this.disposedFlag) throw new DisposedError('Engine');
  }

  /** @internal */
  forget(ctx: ExecutionContext): void {
    this.contexts.delete(ctx);
  }

  get disposed(): boolean { return this.disposedFlag; }

  /**
   * Frees the engine's contexts, pipelines and weights, and releases the device it holds (one it
   * opened, or a builder's): the last holder disposes the device.
   */
  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    if (!this.device.disposed) {
      for (const c of [...this.contexts]) c.dispose();
      this.specializations.dispose();
      for (const p of this.pipelineCache.values()) p.dispose();
      this.weights.dispose();
    }
    if (this.holdsDevice) this.device.release();
  }
}

/** An engine's GPU objects: a pipeline per dispatch and the weight buffer. */
interface Prepared {
  pipelines: Pipeline[][];
  weights: BufferSet;
  /** Every pipeline made, by key (createPipelineSteps): plans for other profile shapes reuse them. */
  cache: Map<string, Pipeline>;
}

/** Bytes of weights written per step of {@link prepareSteps}. */
const WEIGHT_CHUNK = 8 << 20;

/** A step of {@link prepareSteps}: a pipeline to create (sent back through next()), or progress. */
type PrepareStep = { pipeline: PipelineRequest } | { progress: BuildProgress };

/**
 * Makes a plan's pipelines (each asked of the caller, who creates it synchronously or not) and
 * uploads its weights in chunks, reporting progress in between; returns them. On failure disposes
 * what it made.
 */
function* prepareSteps(device: Device, plan: EnginePlan, shaders: ShaderTable, file?: { name?: string }): Generator<PrepareStep, Prepared, Pipeline | undefined> {
  let pipelines: Pipeline[][] = [];
  const cache = new Map<string, Pipeline>();
  let weights: BufferSet | undefined;
  let done = false;
  const layers = plan.layers.length;
  const [p0, p1] = PROGRESS_SPAN.pipelines;
  try {
    const steps = createPipelineSteps(device, plan, shaders, file, cache);
    for (let r = steps.next(); ; ) {
      if (r.done) { pipelines = r.value; break; }
      const request = r.value;
      let made: Pipeline;
      try {
        made = (yield { pipeline: request })!;
      } catch (e) {
        r = steps.throw(e);
        continue;
      }
      r = steps.next(made);
      yield { progress: { phase: 'pipelines', layer: request.layer, layers, fraction: p0 + ((p1 - p0) * (request.layer + 1)) / Math.max(1, layers) } };
    }
    weights = BufferSet.create(device, bufferSizes(plan, 'weights'));
    const writes: [ArrayBufferView, number, number][] = [];
    for (const t of plan.tensors.values()) {
      if (t.kind !== 'weight') continue;
      const data = plan.weightData.get(t.name)!;
      if (data.length) writes.push([data, t.offset, t.buffer ?? 0]);
    }
    for (const l of plan.layers) for (const w of l.kernelWeights) if (w.data.length) writes.push([w.data, w.offset, w.buffer ?? 0]);
    const total = writes.reduce((a, [d]) => a + d.byteLength, 0);
    let written = 0, sinceYield = 0;
    const [w0, w1] = PROGRESS_SPAN.weights;
    for (const [data, offset, index] of writes) {
      // large tensors go in chunks, so no single write holds the thread for long
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      for (let at = 0; at < bytes.length; at += WEIGHT_CHUNK) {
        const part = bytes.subarray(at, Math.min(bytes.length, at + WEIGHT_CHUNK));
        weights.write(part, offset + at, index);
        written += part.length;
        sinceYield += part.length;
        if (sinceYield >= WEIGHT_CHUNK) {
          sinceYield = 0;
          yield { progress: { phase: 'weights', fraction: w0 + ((w1 - w0) * written) / Math.max(1, total) } };
        }
      }
    }
    done = true;
    return { pipelines, weights, cache };
  } finally {
    if (!done) {
      for (const p of cache.values()) p.dispose();
      weights?.dispose();
    }
  }
}

/** Runs {@link prepareSteps} synchronously (Device.createPipeline). */
function prepareNow(device: Device, steps: Generator<PrepareStep, Prepared, Pipeline | undefined>, progress?: (p: BuildProgress) => void): Prepared {
  for (let r = steps.next(); ; ) {
    if (r.done) return r.value;
    if ('pipeline' in r.value) {
      let p: Pipeline;
      try {
        p = device.createPipeline(r.value.pipeline.desc);
      } catch (e) {
        r = steps.throw(e);
        continue;
      }
      r = steps.next(p);
    } else {
      progress?.(r.value.progress);
      r = steps.next(undefined);
    }
  }
}

/** Runs {@link prepareSteps} with pipelines compiled off the JS thread and the event loop let run between steps. */
async function prepareLater(device: Device, steps: Generator<PrepareStep, Prepared, Pipeline | undefined>, progress?: (p: BuildProgress) => void): Promise<Prepared> {
  for (let r = steps.next(); ; ) {
    if (r.done) return r.value;
    if ('pipeline' in r.value) {
      let p: Pipeline;
      try {
        p = await device.createPipelineAsync(r.value.pipeline.desc);
      } catch (e) {
        r = steps.throw(e);
        continue;
      }
      r = steps.next(p);
    } else {
      progress?.(r.value.progress);
      await yieldToEventLoop();
      r = steps.next(undefined);
    }
  }
}

/** Resolves after the event loop has run once (timers, I/O). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * The plan and shader table of a checked engine file, validated against the device it will run on:
 * buffer ranges and limits (plan-check.ts), then every layer against what produced it
 * (plan-verify.ts). Without a device (inspecting a file) only the first checks run.
 */
export function decodeEngine(file: EngineFileContents, device: Device | undefined, name?: string, options: DecodeOptions = {}): BuiltEngine {
  const m = file.manifest as unknown as Manifest;
  if (!m || typeof m !== 'object' || !('plan' in m) || !Array.isArray(m.shaders)) throw new EngineFileError('corrupt', 'the manifest lacks the plan or the shader table', name);
  const plan = decodePlainData(m.plan, file.data, name) as EnginePlan;
  let shaders: ShaderTable = { modules: file.spirv, dispatchModule: m.shaders };
  checkLoadedPlan(plan, shaders, device?.info, name);
  if (file.formatVersion < 3 && (plan.profiles !== undefined || m.profileShaders !== undefined)) throw new EngineFileError('corrupt', `a format ${file.formatVersion} file holds no optimization profiles, yet this one has them`, name);
  const profileModules = checkProfileShaders(plan, m.profileShaders, file.spirv.length, name);
  if (profileModules) shaders.profileModules = profileModules;
  if (device) verifyPlanSources(plan, device.info, { registry: options.registry, file: name, shaders, requireAll: options.recompile });
  if (options.recompile) shaders = recompileShaders(plan, name);
  else if (device && profileModules) {
    // the profile shapes' modules run later (no dispatch of the plan names them): validated now
    for (const k of new Set(profileModules)) {
      const v = Device.validateSpirv(file.spirv[k]);
      if (!v.valid) throw new EngineFileError('corrupt', `SPIR-V module ${k} (an optimization profile's shader) is not valid SPIR-V: ${v.message}`, name);
    }
  }
  return { plan, shaders };
}

/**
 * The module index of each shader of the plan's optimization profiles, checked: a file with
 * profiles (format 3) lists one per ProfileRecord.shaders entry, each an existing module.
 */
function checkProfileShaders(plan: EnginePlan, table: unknown, modules: number, name?: string): number[] | undefined {
  const p = plan.profiles;
  if (!p) {
    if (table !== undefined) throw new EngineFileError('corrupt', 'the manifest lists profile shaders for a plan without optimization profiles', name);
    return undefined;
  }
  if (!p || typeof p !== 'object' || !Array.isArray(p.profiles) || !p.profiles.length || !(p.model instanceof Uint8Array) || !Array.isArray(p.shaders) || !p.config || typeof p.config !== 'object') {
    throw new EngineFileError('corrupt', 'the plan\'s optimization profiles are malformed', name);
  }
  p.profiles.forEach((q, k) => {
    const ok = q && typeof q === 'object' && q.inputs && typeof q.inputs === 'object' && q.kernels && typeof q.kernels === 'object'
      && Number.isSafeInteger(q.arenaBytes) && q.arenaBytes >= 0 && Number.isSafeInteger(q.scratchBytes) && q.scratchBytes >= 0
      && Object.entries(q.inputs).every(([n, r]) => plan.inputs.some((i) => i.name === n) && ['min', 'opt', 'max'].every((w) => Array.isArray((r as unknown as Record<string, unknown>)[w]) && ((r as unknown as Record<string, number[]>)[w]).every((d) => Number.isSafeInteger(d) && d >= 0)));
    if (!ok) throw new EngineFileError('corrupt', `optimization profile ${k} is malformed`, name);
  });
  if (!Array.isArray(table) || table.length !== p.shaders.length || !table.every((x) => Number.isInteger(x) && x >= 0 && x < modules)) {
    throw new EngineFileError('corrupt', `the manifest's profile shader table does not list one existing SPIR-V module per profile shader (${p.shaders.length})`, name);
  }
  for (const [k, ref] of p.shaders.entries()) {
    if (!ref || typeof ref.shader !== 'string' || !Number.isInteger(ref.paramCount) || ref.paramCount < 0 || ref.paramCount > 32) throw new EngineFileError('corrupt', `profile shader ${k} is malformed`, name);
  }
  return table as number[];
}

/** The SPIR-V of a checked plan compiled here, as the builder compiles it (the file's is not used). */
function recompileShaders(plan: EnginePlan, name?: string): ShaderTable {
  const modules: Uint32Array[] = [];
  const ids = new Map<Uint32Array, number>();
  const dispatchModule = plan.layers.map((layer) => layer.dispatches.map((d, di) => {
    let spirv: Uint32Array;
    try {
      spirv = compileDispatchShader(d, plan.paramMode);
    } catch (e) {
      if (e instanceof VkrtError) throw new EngineFileError('corrupt', `layer '${layer.name}' dispatch ${di}: ${e.message}`, name);
      throw e;
    }
    let id = ids.get(spirv);
    if (id === undefined) { id = modules.length; ids.set(spirv, id); modules.push(spirv); }
    return id;
  }));
  const profileModules = plan.profiles?.shaders.map((ref, k) => {
    let spirv: Uint32Array;
    try {
      spirv = compileDispatchShader({ shader: ref.shader, source: ref.source, defines: ref.defines, params: new Array<number>(ref.paramCount).fill(0) }, plan.paramMode);
    } catch (e) {
      if (e instanceof VkrtError) throw new EngineFileError('corrupt', `profile shader ${k}: ${e.message}`, name);
      throw e;
    }
    let id = ids.get(spirv);
    if (id === undefined) { id = modules.length; ids.set(spirv, id); modules.push(spirv); }
    return id;
  });
  return { modules, dispatchModule, ...(profileModules ? { profileModules } : {}) };
}

/** Opens the device an engine file was built for, with the file's pipeline cache (and robust buffer access for untrusted files). */
function openMatchingDevice(file: EngineFileContents, name: string | undefined, robust: boolean): Device {
  const fp = file.fingerprint;
  const all = Device.list();
  const same = all.find((d) => d.vendorId === fp.vendorId && d.deviceId === fp.deviceId && d.driverVersionRaw === fp.driverVersionRaw && d.pipelineCacheUUID === fp.pipelineCacheUUID);
  if (!same) {
    // no exact match: report against the closest device (same GPU, else the default one)
    const near = all.find((d) => d.vendorId === fp.vendorId && d.deviceId === fp.deviceId) ?? all.find((d) => d.isDefault) ?? all[0];
    if (!near) throw new EngineFileError('device', `it was built for ${fp.name}; no Vulkan device is present`, name);
    checkFingerprint(fp, near, name);
  }
  // an untrusted file's pipeline cache is not handed to the driver (its contents are the driver's format)
  const cache = file.pipelineCache.length && !robust ? file.pipelineCache : undefined;
  return Device.create({ index: same!.index, pipelineCache: cache, robustBufferAccess: robust || undefined });
}

