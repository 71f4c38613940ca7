/**
 * Engine and ExecutionContext in TensorRT's shape. An Engine owns the compiled pipelines and the
 * weights on one device; each ExecutionContext owns its activation arena and one program recorded
 * once (every layer's dispatches and barriers), so a run crosses into native code a fixed number of
 * times whatever the layer count: write inputs, submit (awaited on a worker thread), read outputs.
 *
 * Concurrency: execute() calls on one context are queued (they share its arena); separate contexts
 * run independently, each on its own queue where the device has several (multi-stream).
 *
 * An engine serializes to an engine file (plan, weights, SPIR-V, pipeline cache; engine-file.ts)
 * and loads from one without graph work or GLSL compilation. A context runs in four timed phases
 * (upload, enqueue, wait, read back); with a profiler it submits a second program, recorded on first
 * use, that writes a timestamp fencepost around every layer (profiler.ts).
 */
import { DisposedError, EngineFileError } from '../errors';
import { GpuBuffer } from '../gpu/buffer';
import { Device } from '../gpu/device';
import { Pipeline } from '../gpu/pipeline';
import type { BuiltEngine, EngineIO, EnginePlan, RefitWeight, ShaderTable } from '../kernel/plan';
import { ExecutionContext } from './context';
import { checkFingerprint, EngineFileContents, fingerprintOf, readEngineFile, writeEngineFile } from './engine-file';
import { checkLoadedPlan } from './plan-check';
import { decodePlainData, encodePlainData, Json } from './plan-codec';
import { createPipelines } from './pipelines';
import { refitEngine, refitEngineFromOnnx, RefitResult, RefitWeights } from './refit';

/** Options of {@link Engine.load}. */
export interface LoadOptions {
  /** The device to load on; default: a new device on the default GPU (disposed with the engine). */
  device?: Device;
  /** The engine disposes the given device with itself (as it does one it opened). */
  ownsDevice?: boolean;
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
}

/** What an engine file's manifest holds besides the plan's data sections. */
interface Manifest {
  plan: Json;
  /** Per layer, per dispatch: the index of its SPIR-V module among the file's SPIR-V sections. */
  shaders: number[][];
}

/** An optimized model for one device. Lifetime: dispose() (idempotent) frees its GPU objects. */
export class Engine {
  readonly plan: EnginePlan;
  readonly device: Device;
  private readonly ownsDevice: boolean;
  /** @internal The pipeline of each layer's dispatches, in plan order. */
  readonly pipelines: Pipeline[][];
  /** @internal The weight buffer. */
  readonly weights: GpuBuffer;
  private readonly contexts = new Set<ExecutionContext>();
  /** The SPIR-V modules the pipelines were made from (deduplicated), kept for serialize(). */
  private readonly shaders: ShaderTable;
  private disposedFlag = false;
  /**
   * Milliseconds from the start of the build (plan, GLSL, pipelines, weights) or of
   * Engine.deserialize (checks, decode, pipelines, weights) to a ready engine.
   */
  readonly buildMs: number;
  /** True for an engine loaded from an engine file. */
  readonly loaded: boolean;

  private constructor(built: BuiltEngine, device: Device, ownsDevice: boolean, t0: number, file?: { name?: string }) {
    this.plan = built.plan;
    this.shaders = built.shaders;
    this.device = device;
    this.ownsDevice = ownsDevice;
    this.loaded = !!file;
    let pipelines: Pipeline[][] = [];
    try {
      this.pipelines = pipelines = createPipelines(device, this.plan, this.shaders, file);
      this.weights = device.createBuffer(this.plan.weightBytes, 'device');
      for (const t of this.plan.tensors.values()) {
        if (t.kind !== 'weight') continue;
        const data = this.plan.weightData.get(t.name)!;
        if (data.length) this.weights.write(data, t.offset);
      }
      for (const l of this.plan.layers) for (const w of l.kernelWeights) if (w.data.length) this.weights.write(w.data, w.offset);
    } catch (e) {
      for (const ps of pipelines) for (const p of ps) p.dispose();
      if (ownsDevice) device.dispose();
      throw e;
    }
    this.buildMs = performance.now() - t0;
  }

  /**
   * An engine from a built plan and its SPIR-V (what the builder produces). Makes the pipelines and
   * uploads the weights.
   * @param startMs performance.now() when the build began (for buildMs); default now.
   */
  static load(built: BuiltEngine, options: LoadOptions = {}, startMs = performance.now()): Engine {
    const device = options.device ?? Device.create();
    return new Engine(built, device, !options.device || !!options.ownsDevice, startMs);
  }

  /**
   * The engine as an engine file (TensorRT's IHostMemory from serialize()): the plan, its weights,
   * the SPIR-V of every pipeline and the driver's pipeline cache, for this device and driver only.
   * See docs/engine-file.md.
   */
  serialize(): Uint8Array {
    this.check();
    const { json, sections } = encodePlainData(this.plan);
    const manifest: Manifest = { plan: json, shaders: this.shaders.dispatchModule };
    return writeEngineFile({
      fingerprint: fingerprintOf(this.device.info), manifest: manifest as unknown as Json,
      data: sections, spirv: this.shaders.modules, pipelineCache: this.device.pipelineCacheData(),
    });
  }

  /**
   * Loads an engine file written by {@link serialize}. Does no graph work and compiles no GLSL:
   * it checks the file, decodes the plan, and makes pipelines from the stored SPIR-V.
   * @throws EngineFileError (reason foreign, version, truncated, corrupt, device or driver).
   */
  static deserialize(bytes: Uint8Array, options: DeserializeOptions = {}): Engine {
    const t0 = performance.now();
    const file = readEngineFile(bytes, options.file);
    let device = options.device;
    if (device) checkFingerprint(file.fingerprint, device.info, options.file);
    else device = openMatchingDevice(file, options.file);
    try {
      return new Engine(decodeEngine(file, device, options.file), device, !options.device, t0, { name: options.file });
    } catch (e) {
      if (!options.device) device.dispose();
      throw e;
    }
  }

  get inputs(): readonly EngineIO[] { return this.plan.inputs; }
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

  /** A context with its own activation memory; runs on queue `index % queueCount`. */
  createExecutionContext(): ExecutionContext {
    this.check();
    const ctx = new ExecutionContext(this, this.contexts.size % Math.max(1, this.device.info.queueCount));
    this.contexts.add(ctx);
    return ctx;
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

  /** Frees the engine's contexts, pipelines and weights (and the device if the engine made it). */
  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    for (const c of [...this.contexts]) c.dispose();
    for (const ps of this.pipelines) for (const p of ps) p.dispose();
    this.weights.dispose();
    if (this.ownsDevice) this.device.dispose();
  }
}

/** The plan and shader table of a checked engine file, validated against the device it will run on. */
export function decodeEngine(file: EngineFileContents, device: Device | undefined, name?: string): BuiltEngine {
  const m = file.manifest as unknown as Manifest;
  if (!m || typeof m !== 'object' || !('plan' in m) || !Array.isArray(m.shaders)) throw new EngineFileError('corrupt', 'the manifest lacks the plan or the shader table', name);
  const plan = decodePlainData(m.plan, file.data, name) as EnginePlan;
  const shaders: ShaderTable = { modules: file.spirv, dispatchModule: m.shaders };
  checkLoadedPlan(plan, shaders, device?.info, name);
  return { plan, shaders };
}

/** Opens the device an engine file was built for, with the file's pipeline cache. */
function openMatchingDevice(file: EngineFileContents, name?: string): Device {
  const fp = file.fingerprint;
  const all = Device.list();
  const same = all.find((d) => d.vendorId === fp.vendorId && d.deviceId === fp.deviceId && d.driverVersionRaw === fp.driverVersionRaw && d.pipelineCacheUUID === fp.pipelineCacheUUID);
  if (!same) {
    // no exact match: report against the closest device (same GPU, else the default one)
    const near = all.find((d) => d.vendorId === fp.vendorId && d.deviceId === fp.deviceId) ?? all.find((d) => d.isDefault) ?? all[0];
    if (!near) throw new EngineFileError('device', `it was built for ${fp.name}; no Vulkan device is present`, name);
    checkFingerprint(fp, near, name);
  }
  return Device.create({ index: same!.index, pipelineCache: file.pipelineCache.length ? file.pipelineCache : undefined });
}

