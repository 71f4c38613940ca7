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
import * as fs from 'fs';
import * as path from 'path';
import { DisposedError, EngineFileError, InputError, VkrtError, VulkanError } from '../api/errors';
import { buildPlan, BuilderConfig, EngineIO, EnginePlan, PlannedDispatch, PlannedLayer, toGpuArray } from '../build/builder';
import { DeviceCaps } from '../build/kernel';
import { Device } from '../gpu/device';
import { GpuBuffer } from '../gpu/buffer';
import { Pipeline, SpecConstant } from '../gpu/pipeline';
import { Command, Program } from '../gpu/program';
import { ticksToMs, timestampDeltasMs } from '../gpu/timing';
import { Model } from '../ir/graph';
import { Tensor } from '../ir/tensor';
import { packageRoot } from '../native';
import { checkFingerprint, EngineFileContents, fingerprintOf, readEngineFile, writeEngineFile } from './engine-file';
import { decodePlainData, encodePlainData, Json } from './plan-codec';
import { bindingRanges } from './bindings';
import { checkLoadedPlan, ShaderTable } from './plan-check';
import type { Profiler } from './profiler';

/** The device facts the builder needs. */
export function deviceCaps(device: Device): DeviceCaps & { alignment: number } {
  const i = device.info;
  return {
    subgroupSize: i.subgroupSize || 32,
    maxGroupsX: i.maxComputeWorkGroupCount[0],
    maxGroupsY: i.maxComputeWorkGroupCount[1],
    maxWorkgroupInvocations: i.maxComputeWorkGroupInvocations,
    fp16: i.fp16,
    alignment: Math.max(16, Number(i.minStorageBufferOffsetAlignment) || 256),
  };
}

/**
 * The specialization constant ids a SPIR-V module declares (OpDecorate <id> SpecId <n>). The
 * compiler drops constants a shader never reads; their params must not be passed.
 */
export function spirvSpecIds(spirv: Uint32Array): Set<number> {
  const ids = new Set<number>();
  for (let i = 5; i < spirv.length;) {
    const word = spirv[i];
    const count = word >>> 16, opcode = word & 0xffff;
    if (count === 0) break;
    if (opcode === 71 && count >= 4 && spirv[i + 2] === 1) ids.add(spirv[i + 3]); // OpDecorate, SpecId
    i += count;
  }
  return ids;
}

/** SPIR-V cache per process, keyed by source text, defines and parameter mode. */
const spirvCache = new Map<string, Uint32Array>();

function shaderSource(d: PlannedDispatch): string {
  if (d.source) return d.source;
  const file = path.join(packageRoot(), 'shaders', `${d.shader}.comp`);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    throw new InputError(`shader '${d.shader}' not found at ${file}`);
  }
}

function compile(device: Device, d: PlannedDispatch, mode: 'spec' | 'push'): Uint32Array {
  const src = shaderSource(d);
  const defines: Record<string, string | number> = { ...(d.defines ?? {}) };
  if (mode === 'push') {
    defines.VKRT_PUSH_PARAMS = 1;
    defines.VKRT_NUM_PARAMS = Math.max(1, d.params.length);
  }
  const key = `${JSON.stringify(defines)}\n${src}`;
  let spirv = spirvCache.get(key);
  if (!spirv) {
    spirv = device.compileGlsl(src, { name: d.shader, defines });
    spirvCache.set(key, spirv);
  }
  return spirv;
}

export interface EngineOptions extends BuilderConfig {
  /** The device to build for; default: a new device on the default GPU (disposed with the engine). */
  device?: Device;
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
  private readonly pipelines: Pipeline[][] = [];
  private readonly weights: GpuBuffer;
  private readonly contexts = new Set<ExecutionContext>();
  /** The SPIR-V modules the pipelines were made from (deduplicated), kept for serialize(). */
  private readonly shaders: ShaderTable;
  private disposedFlag = false;
  /**
   * Milliseconds from the start of Engine.build (plan, GLSL, pipelines, weights) or of
   * Engine.deserialize (checks, decode, pipelines, weights) to a ready engine.
   */
  readonly buildMs: number;
  /** True for an engine loaded from an engine file. */
  readonly loaded: boolean;

  private constructor(plan: EnginePlan, device: Device, ownsDevice: boolean, t0: number, loaded?: ShaderTable) {
    this.plan = plan;
    this.device = device;
    this.ownsDevice = ownsDevice;
    this.loaded = !!loaded;
    try {
      const pipeCache = new Map<string, Pipeline>();
      const modules: Uint32Array[] = loaded ? loaded.modules : [];
      const moduleIds = new Map<Uint32Array, number>(modules.map((m, i) => [m, i]));
      const dispatchModule: number[][] = [];
      plan.layers.forEach((layer, li) => {
        const row: number[] = [];
        this.pipelines.push(layer.dispatches.map((d, di) => {
          let spirv: Uint32Array;
          if (loaded) spirv = loaded.modules[loaded.dispatchModule[li][di]];
          else {
            spirv = compile(device, d, plan.paramMode);
            if (!moduleIds.has(spirv)) { moduleIds.set(spirv, modules.length); modules.push(spirv); }
          }
          row.push(moduleIds.get(spirv)!);
          const declared = spirvSpecIds(spirv);
          const spec: SpecConstant[] = d.workgroup.map((v, k) => ({ id: 100 + k, type: 'uint' as const, value: v }));
          if (plan.paramMode === 'spec') d.params.forEach((v, k) => spec.push({ id: k, type: 'uint', value: v >>> 0 }));
          for (let k = spec.length - 1; k >= 0; k--) if (!declared.has(spec[k].id)) spec.splice(k, 1);
          const key = `${moduleIds.get(spirv)}|${d.bindings.length}|${spec.map((x) => `${x.id}=${x.value}`).join(',')}|${plan.paramMode === 'push' ? d.params.length : 0}`;
          let p = pipeCache.get(key);
          if (!p) {
            try {
              p = device.createPipeline({
                spirv, name: `${layer.name}:${d.shader}`, bindingCount: d.bindings.length,
                pushConstantSize: plan.paramMode === 'push' ? 4 * Math.max(1, d.params.length) : 0,
                specialization: spec,
              });
            } catch (e) {
              // A stored module that disagrees with its dispatch is a damaged file, not a bad call.
              if (loaded && e instanceof VkrtError && !(e instanceof VulkanError)) throw new EngineFileError('corrupt', `layer '${layer.name}' dispatch ${di}: ${e.message}`);
              throw e;
            }
            pipeCache.set(key, p);
          }
          return p;
        }));
        dispatchModule.push(row);
      });
      this.shaders = { modules, dispatchModule };
      this.weights = device.createBuffer(plan.weightBytes, 'device');
      for (const t of plan.tensors.values()) {
        if (t.kind !== 'weight') continue;
        const data = plan.weightData.get(t.name)!;
        if (data.length) this.weights.write(data, t.offset);
      }
      for (const l of plan.layers) for (const w of l.kernelWeights) if (w.data.length) this.weights.write(w.data, w.offset);
    } catch (e) {
      for (const ps of this.pipelines) for (const p of ps) p.dispose();
      if (ownsDevice) device.dispose();
      throw e;
    }
    this.buildMs = performance.now() - t0;
  }

  /** Build an engine from a model (see BuilderConfig). */
  static build(model: Model, options: EngineOptions = {}): Engine {
    const t0 = performance.now();
    const device = options.device ?? Device.create();
    let plan: EnginePlan;
    try {
      plan = buildPlan(model, deviceCaps(device), options);
    } catch (e) {
      if (!options.device) device.dispose();
      throw e;
    }
    return new Engine(plan, device, !options.device, t0);
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
      const { plan, shaders } = decodeEngine(file, device, options.file);
      return new Engine(plan, device, !options.device, t0, shaders);
    } catch (e) {
      if (!options.device) device.dispose();
      throw e;
    }
  }

  get inputs(): readonly EngineIO[] { return this.plan.inputs; }
  get outputs(): readonly EngineIO[] { return this.plan.outputs; }

  /** A context with its own activation memory; runs on queue `index % queueCount`. */
  createExecutionContext(): ExecutionContext {
    this.check();
    const ctx = new ExecutionContext(this, this.contexts.size % Math.max(1, this.device.info.queueCount));
    this.contexts.add(ctx);
    return ctx;
  }

  /**
   * @internal Records the engine's program over a context's buffers. `timestamps`: 'none' (no
   * queries), 'bracket' (before the first and after the last layer) or 'layers' (fenceposts: before
   * the first layer and after each layer, N+1 in all).
   */
  recordProgram(arena: GpuBuffer, scratch: GpuBuffer | undefined, timestamps: TimestampMode): Program {
    const cmds: Command[] = [];
    const plan = this.plan;
    const buffers = { arena, weights: this.weights, scratch: scratch! };
    if (timestamps !== 'none') cmds.push({ op: 'timestamp', index: 0 });
    plan.layers.forEach((layer, li) => {
      layer.dispatches.forEach((d, di) => {
        const bindings = bindingRanges(plan, layer, d).map((r) => ({ buffer: buffers[r.buffer], offset: r.offset, range: r.range }));
        const push = plan.paramMode === 'push' ? new Uint32Array(d.params.length ? d.params : [0]) : undefined;
        cmds.push({ op: 'dispatch', pipeline: this.pipelines[li][di], bindings, push, groups: d.groups });
        cmds.push({ op: 'barrier' });
      });
      if (timestamps === 'layers') cmds.push({ op: 'timestamp', index: li + 1 });
    });
    if (timestamps === 'bracket') cmds.push({ op: 'timestamp', index: 1 });
    return this.device.createProgram(cmds);
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
export function decodeEngine(file: EngineFileContents, device: Device | undefined, name?: string): { plan: EnginePlan; shaders: ShaderTable } {
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

/** Which timestamps a recorded program writes. */
export type TimestampMode = 'none' | 'bracket' | 'layers';

/**
 * Host and GPU times of one run, in milliseconds. Host times are `performance.now()` readings; the
 * phases follow each other: upload (H2D), enqueue, wait for the fence, read back (D2H).
 */
export interface RunTiming {
  /** performance.now() when the upload began. */
  startMs: number;
  /** Writing the inputs into the context's memory (host to device). */
  h2dMs: number;
  /** Handing the recorded program to the queue (host enqueue time). */
  enqueueMs: number;
  /** From submit to the fence signalled, as the host sees it (GPU work plus wake-up latency). */
  waitMs: number;
  /** GPU time from the first to the last timestamp; undefined when the run recorded no timestamps. */
  gpuMs?: number;
  /** Reading the outputs back (device to host). */
  d2hMs: number;
  /** The whole run: upload start to read-back end. */
  latencyMs: number;
  /** Per-layer GPU times (fencepost deltas) when the run was profiled. */
  layerMs?: number[];
}

const warnedDevices = new WeakSet<Device>();

/** Whether the device's compute queue family can write timestamps; warns once per device when not. */
function canTime(device: Device): boolean {
  const i = device.info;
  if (i.timestampValidBits > 0 && i.timestampPeriodNs > 0) return true;
  if (!warnedDevices.has(device)) {
    warnedDevices.add(device);
    console.warn(`vkrt: ${i.name} cannot time compute work (timestampValidBits ${i.timestampValidBits} on its compute queue family, timestampPeriod ${i.timestampPeriodNs} ns); profiling and GPU timing are off`);
  }
  return false;
}

export type Feeds = Record<string, Tensor> | Map<string, Tensor>;

/** Runs an engine. Lifetime: dispose() (idempotent); the engine's dispose() disposes it too. */
export class ExecutionContext {
  private readonly arena: GpuBuffer;
  private readonly scratch?: GpuBuffer;
  /** The program of each timestamp mode, recorded on first use ('none' at once). */
  private readonly programs = new Map<TimestampMode, Program>();
  private queueTail: Promise<unknown> = Promise.resolve();
  private disposedFlag = false;
  private profilerRef?: Profiler;
  private gpuTimingFlag = false;
  /** Timing of the last completed run. */
  lastTiming?: RunTiming;

  /** @internal */
  constructor(readonly engine: Engine, readonly queue: number) {
    this.arena = engine.device.createBuffer(engine.plan.arenaBytes, 'device');
    if (engine.plan.scratchBytes > 0) this.scratch = engine.device.createBuffer(engine.plan.scratchBytes, 'device');
    this.programs.set('none', engine.recordProgram(this.arena, this.scratch, 'none'));
  }

  /**
   * Receives per-layer times after each run (TensorRT's IExecutionContext::setProfiler). Runs of a
   * context without a profiler write no timestamps. On a device that cannot time compute work,
   * setting one warns once and leaves it unset.
   */
  get profiler(): Profiler | undefined { return this.profilerRef; }
  set profiler(p: Profiler | undefined) {
    if (p !== undefined && (typeof p !== 'object' || p === null || typeof p.reportLayerTime !== 'function')) throw new InputError('profiler must be an object with reportLayerTime(layerName, ms)');
    this.profilerRef = p && canTime(this.engine.device) ? p : undefined;
  }

  /**
   * Measure each run's GPU time (RunTiming.gpuMs) with two timestamps around the whole program
   * (what `vkrt exec` reports as GPU compute time). Off by default; a profiler implies it.
   */
  get gpuTiming(): boolean { return this.gpuTimingFlag; }
  set gpuTiming(on: boolean) {
    this.gpuTimingFlag = !!on && canTime(this.engine.device);
  }

  private program(mode: TimestampMode): Program {
    let p = this.programs.get(mode);
    if (!p) {
      p = this.engine.recordProgram(this.arena, this.scratch, mode);
      this.programs.set(mode, p);
    }
    return p;
  }

  /**
   * Runs the engine on named inputs; resolves to the outputs by name.
   * @throws InputError for a missing or unknown input, or a wrong dtype or shape.
   */
  execute(feeds: Feeds): Promise<Map<string, Tensor>> {
    const run = this.queueTail.then(() => this.run(feeds));
    this.queueTail = run.catch(() => undefined);
    return run;
  }

  private checkFeeds(feeds: Feeds): Map<string, Tensor> {
    const plan = this.engine.plan;
    if (!feeds || typeof feeds !== 'object') throw new InputError('execute(feeds): feeds must be a Map or an object of Tensors keyed by input name');
    const map = feeds instanceof Map ? feeds : new Map(Object.entries(feeds));
    for (const name of map.keys()) {
      if (!plan.inputs.some((i) => i.name === name)) throw new InputError(`'${name}' is not an input of this engine (inputs: ${plan.inputs.map((i) => i.name).join(', ')})`);
    }
    for (const io of plan.inputs) {
      const t = map.get(io.name);
      if (!t) throw new InputError(`input '${io.name}' is missing (${io.dtype}[${io.dims.join(',')}])`);
      if (!(t instanceof Tensor)) throw new InputError(`input '${io.name}' must be a Tensor`);
      if (t.dtype !== io.dtype) throw new InputError(`input '${io.name}' must be ${io.dtype}, got ${t.dtype}`);
      if (t.dims.length !== io.dims.length || t.dims.some((d, k) => d !== io.dims[k])) {
        throw new InputError(`input '${io.name}' must have shape [${io.dims.join(',')}], got [${t.dims.join(',')}]; build the engine for that shape`);
      }
    }
    return map;
  }

  /** Phase 1 (H2D): inputs into the arena. */
  private upload(map: Map<string, Tensor>): void {
    const plan = this.engine.plan;
    for (const io of plan.inputs) {
      const t = map.get(io.name)!;
      const pt = plan.tensors.get(io.name);
      if (pt && t.size) this.arena.write(toGpuArray(t, io.gpu), pt.offset);
    }
  }

  /** Phase 4 (D2H): outputs out of the arena. */
  private readback(): Map<string, Tensor> {
    const plan = this.engine.plan;
    const out = new Map<string, Tensor>();
    for (const o of plan.outputs) {
      const pt = plan.tensors.get(plan.outputRoots.get(o.name)!)!;
      const n = o.dims.reduce((a, b) => a * b, 1);
      if (n === 0) { out.set(o.name, Tensor.zeros(o.dtype, o.dims)); continue; }
      const bytes = this.arena.read(pt.offset, n * 4);
      const view = o.gpu === 'i32' ? new Int32Array(bytes.buffer, bytes.byteOffset, n) : new Float32Array(bytes.buffer, bytes.byteOffset, n);
      out.set(o.name, o.dtype === 'float32' ? new Tensor('float32', o.dims, Float32Array.from(view)) : Tensor.from(o.dtype, o.dims, view));
    }
    for (const [name, t] of plan.constantOutputs) out.set(name, t);
    return out;
  }

  private async run(feeds: Feeds): Promise<Map<string, Tensor>> {
    if (this.disposedFlag) throw new DisposedError('ExecutionContext');
    this.engine.check();
    const map = this.checkFeeds(feeds);
    const profiler = this.profilerRef;
    const mode: TimestampMode = profiler ? 'layers' : this.gpuTimingFlag ? 'bracket' : 'none';
    const program = this.program(mode);
    const t0 = performance.now();
    this.upload(map);
    const t1 = performance.now();
    const done = program.submit(this.queue); // the native submit happens synchronously in here
    const t2 = performance.now();
    await done;
    const t3 = performance.now();
    const out = this.readback();
    const t4 = performance.now();
    const timing: RunTiming = { startMs: t0, h2dMs: t1 - t0, enqueueMs: t2 - t1, waitMs: t3 - t1, d2hMs: t4 - t3, latencyMs: t4 - t0 };
    if (mode !== 'none') {
      const info = this.engine.device.info;
      const ticks = program.timestamps();
      timing.gpuMs = ticksToMs(ticks[0], ticks[ticks.length - 1], info.timestampPeriodNs, info.timestampValidBits);
      if (mode === 'layers') timing.layerMs = timestampDeltasMs(ticks, info.timestampPeriodNs, info.timestampValidBits);
    }
    this.lastTiming = timing;
    if (profiler && timing.layerMs) {
      const layers = this.engine.plan.layers;
      timing.layerMs.forEach((ms, i) => profiler.reportLayerTime(layers[i].name, ms));
    }
    return out;
  }

  get disposed(): boolean { return this.disposedFlag; }

  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    for (const p of this.programs.values()) p.dispose();
    this.arena.dispose();
    this.scratch?.dispose();
    this.engine.forget(this);
  }
}
