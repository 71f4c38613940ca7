/**
 * ExecutionContext (TensorRT's IExecutionContext): one engine's activation arena and scratch on
 * the device, and the program recorded once over them (every layer's dispatches and barriers), so
 * a run crosses into native code a fixed number of times whatever the layer count. A run has four
 * timed phases (upload, enqueue, wait, read back); with a profiler it submits a second program,
 * recorded on first use, that writes a timestamp fencepost around every layer (profiler.ts).
 */
import { DeviceLostError, DisposedError, InputError, NonFiniteError } from '../errors';
import type { GpuBuffer } from '../gpu/buffer';
import type { Device } from '../gpu/device';
import type { Pipeline } from '../gpu/pipeline';
import type { Command, Program } from '../gpu/program';
import { ticksToMs, timestampDeltasMs } from '../gpu/timing';
import { allocData, float16Bits, float16Values, Tensor } from '../ir/tensor';
import type { EnginePlan } from '../kernel/plan';
import { fromGpuArray, gpuBytes, isPacked, toGpuArray } from '../kernel/storage';
import { planBarriers } from './barriers';
import { bindingRanges } from './bindings';
import type { Profiler } from './profiler';
import { checkInputShape, matchProfile, type Specialization, type SpecializationCost, type Specializations } from './profiles';

/** What a context needs of its engine (engine.ts implements it). */
export interface ContextHost {
  readonly plan: EnginePlan;
  readonly device: Device;
  readonly pipelines: readonly (readonly Pipeline[])[];
  readonly weights: GpuBuffer;
  /** The plan's own shapes and, with optimization profiles, the others (profiles.ts). */
  readonly specializations: Specializations;
  /** Throws DisposedError once the engine is disposed. */
  check(): void;
  /** Called by a disposed context. */
  forget(ctx: ExecutionContext): void;
}

/**
 * Records a plan's program over a context's buffers. `timestamps`: 'none' (no queries), 'bracket'
 * (before the first and after the last layer) or 'layers' (fenceposts: before the first layer and
 * after each layer, N+1 in all). Barriers go only where data flows (barriers.ts), except in
 * 'layers' mode: a per-layer time needs each layer to finish before the next starts.
 */
function recordProgram(host: ContextHost, spec: Specialization, arena: GpuBuffer, scratch: GpuBuffer | undefined, timestamps: TimestampMode, only?: number): Program {
  const cmds: Command[] = [];
  const plan = spec.plan;
  const buffers = { arena, weights: spec.weights, scratch: scratch! };
  const before = timestamps === 'layers' || only !== undefined ? undefined : planBarriers(plan);
  if (timestamps !== 'none') cmds.push({ op: 'timestamp', index: 0 });
  plan.layers.forEach((layer, li) => {
    if (only !== undefined && li !== only) return;
    layer.dispatches.forEach((d, di) => {
      if (before?.[li][di]) cmds.push({ op: 'barrier' });
      const bindings = bindingRanges(plan, layer, d).map((r) => ({ buffer: buffers[r.buffer], offset: r.offset, range: r.range }));
      const push = plan.paramMode === 'push' ? new Uint32Array(d.params.length ? d.params : [0]) : undefined;
      cmds.push({ op: 'dispatch', pipeline: spec.pipelines[li][di], bindings, push, groups: d.groups });
      if (!before) cmds.push({ op: 'barrier' });
    });
    if (timestamps === 'layers') cmds.push({ op: 'timestamp', index: li + 1 });
  });
  if (timestamps === 'bracket') cmds.push({ op: 'timestamp', index: 1 });
  return host.device.createProgram(cmds);
}

/** How many plans' programs a context keeps recorded (least recently used dropped first; optimization profiles). */
export const PROGRAM_LIMIT = 8;

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
  /**
   * Optimization profiles: present on the run that made the plan for its input shapes (the
   * engine's first at them), what that cost (no tuning; pipelines and SPIR-V reused). It came
   * before the upload, so it is not in latencyMs.
   */
  specialization?: SpecializationCost;
  /** Milliseconds spent recording this context's program for these shapes (first run at them here; not in latencyMs). */
  recordMs?: number;
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

function isShared(a: ArrayBufferView): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && a.buffer instanceof SharedArrayBuffer;
}

/**
 * An input's data as it is at run time (a Tensor's data can be detached or replaced after it was
 * made): the dtype's host array (ir/tensor.ts) holding exactly the `n` elements the engine reads.
 * Anything else would upload too few bytes and run on the previous run's memory.
 */
function checkData(name: string, t: Tensor, n: number): void {
  const d = t.data as unknown;
  if (t.dtype === 'string') {
    if (!Array.isArray(d) || !d.every((s) => typeof s === 'string')) throw new InputError(`input '${name}' is string, whose data is an array of strings; make it with Tensor.from('string', dims, values)`);
    if (d.length !== n) throw new InputError(`input '${name}' (string[${t.dims.join(',')}]) needs ${n} elements; its data holds ${d.length}`);
    return;
  }
  const want = (allocData(t.dtype, 0) as object).constructor.name;
  if (!ArrayBuffer.isView(d) || d instanceof DataView) {
    throw new InputError(`input '${name}': its data is ${Array.isArray(d) ? 'a plain array' : typeof d}, not the ${want} a ${t.dtype} tensor holds; make it with new Tensor('${t.dtype}', dims, ${want}) or Tensor.from('${t.dtype}', dims, values)`);
  }
  const tag = (d as unknown as { [Symbol.toStringTag]: string })[Symbol.toStringTag];
  const halfBits = (t.dtype === 'float16' || t.dtype === 'bfloat16') && tag === 'Uint16Array'; // onnxruntime's convention
  if (tag !== want && !halfBits) throw new InputError(`input '${name}' is ${t.dtype}, whose data is a ${want}; got a ${tag} (Tensor.from('${t.dtype}', dims, values) converts)`);
  const len = (d as unknown as ArrayLike<unknown>).length;
  if (len === n) return;
  if (n > 0 && d.byteLength === 0 && d.buffer.byteLength === 0) {
    throw new InputError(`input '${name}': its data was detached (its ArrayBuffer was transferred, e.g. to a worker with postMessage, after the tensor was made); give a tensor whose data is still here`);
  }
  throw new InputError(`input '${name}' (${t.dtype}[${t.dims.join(',')}]) needs ${n} elements; its data holds ${len} (was it replaced after the tensor was made?)`);
}

/** Runs an engine. Lifetime: dispose() (idempotent); the engine's dispose() disposes it too. */
export class ExecutionContext {
  private arena: GpuBuffer;
  private scratch?: GpuBuffer;
  /**
   * Per plan (the engine's shapes, or other shapes inside its profiles), the program of each
   * timestamp mode, recorded on first use ('none' at once for the engine's own); least recently
   * used plans first, at most PROGRAM_LIMIT.
   */
  private readonly programs = new Map<Specialization, Map<TimestampMode, Program>>();
  /** The profile runs use (undefined: the first that holds the shapes). */
  private profileIndex?: number;
  /** Shapes given by setInputShape. */
  private readonly givenShapes = new Map<string, number[]>();
  private queueTail: Promise<unknown> = Promise.resolve();
  private disposedFlag = false;
  /** Set when a run failed because the device was lost or a GPU job timed out: the context is broken. */
  private brokenBy?: DeviceLostError;
  private profilerRef?: Profiler;
  private gpuTimingFlag = false;
  /** Timing of the last completed run. */
  lastTiming?: RunTiming;

  /** @internal */
  constructor(readonly engine: ContextHost, readonly queue: number) {
    // memory for the largest shapes of every profile (planned at build for each profile's max)
    const plan = engine.plan, profiles = plan.profiles?.profiles ?? [];
    const arenaBytes = Math.max(plan.arenaBytes, ...profiles.map((p) => p.arenaBytes));
    const scratchBytes = Math.max(plan.scratchBytes, ...profiles.map((p) => p.scratchBytes));
    this.arena = engine.device.createBuffer(arenaBytes, 'device');
    if (scratchBytes > 0) this.scratch = engine.device.createBuffer(scratchBytes, 'device');
    const base = engine.specializations.base;
    this.programs.set(base, new Map([['none', recordProgram(engine, base, this.arena, this.scratch, 'none')]]));
  }

  /**
   * The optimization profile runs use (TensorRT's setOptimizationProfileAsync): an index of
   * engine.profiles, or undefined (the default) for the first profile that holds the inputs' shapes.
   */
  get optimizationProfile(): number | undefined { return this.profileIndex; }
  set optimizationProfile(index: number | undefined) {
    const n = this.engine.plan.profiles?.profiles.length ?? 0;
    if (index !== undefined && (!Number.isInteger(index) || index < 0 || index >= n)) throw new InputError(`the engine has ${n} optimization profile(s): ${index} is not one`);
    this.profileIndex = index;
  }

  /**
   * Gives the shape of an input for the runs to come (TensorRT's setInputShape): checked against
   * the engine's profiles at once; once every input that may vary has one, the plan for those shapes
   * is made and its program recorded, so the first execute() at them does not pay for it.
   * execute() runs the shapes of the tensors it is given.
   * @throws ProfileShapeError for a shape outside every profile (or not the fixed shape of an
   *   input no profile covers); InputError for an unknown input.
   */
  setInputShape(name: string, dims: readonly number[]): void {
    const plan = this.engine.plan;
    const io = plan.inputs.find((i) => i.name === name);
    if (!io) throw new InputError(`'${name}' is not an input of this engine (inputs: ${plan.inputs.map((i) => i.name).join(', ')})`);
    if (!Array.isArray(dims) || !dims.every((d) => Number.isInteger(d) && d >= 0)) throw new InputError(`setInputShape('${name}'): dims must be an array of non-negative integers`);
    checkInputShape(plan, io, dims);
    this.givenShapes.set(name, [...dims]);
    const profiled = Object.keys(plan.profiles?.profiles[0].inputs ?? {});
    if (profiled.every((n) => this.givenShapes.has(n))) this.programFor(this.specializationFor((n) => this.givenShapes.get(n) ?? plan.inputs.find((i) => i.name === n)!.dims), 'none');
  }

  /**
   * The shape of an input or output (TensorRT's getTensorShape): for inputs, the one given to
   * setInputShape (else the engine's); for outputs, what the given input shapes produce.
   */
  getTensorShape(name: string): number[] {
    const plan = this.engine.plan;
    const input = plan.inputs.find((i) => i.name === name);
    if (input) return [...(this.givenShapes.get(name) ?? input.dims)];
    const output = plan.outputs.find((o) => o.name === name);
    if (!output) throw new InputError(`'${name}' is not an input or output of this engine`);
    const spec = this.specializationFor((n) => this.givenShapes.get(n) ?? plan.inputs.find((i) => i.name === n)!.dims);
    return [...spec.plan.outputs.find((o) => o.name === name)!.dims];
  }

  /** The plan for the inputs' shapes (made on the engine's first run at them). */
  private specializationFor(dimsOf: (name: string) => readonly number[]): Specialization {
    const plan = this.engine.plan;
    const { index, shapes } = matchProfile(plan, plan.inputs, dimsOf, this.profileIndex);
    return this.engine.specializations.get(index, shapes);
  }

  /** @internal An evicted plan: its programs are dropped (the engine's plan cache let it go). */
  dropSpecialization(s: Specialization): void {
    const ps = this.programs.get(s);
    if (!ps) return;
    for (const p of ps.values()) p.dispose();
    this.programs.delete(s);
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

  /**
   * Check every float output of each run for NaN and Inf; on one, run the layers again one at a time
   * to find the first layer whose output holds one, and reject with a NonFiniteError naming it (FP16
   * overflow shows up this way: pin that layer with BuilderConfig.fp32Layers). Off by default: the
   * check reads every output value; the search runs only when something is found.
   */
  checkFinite = false;

  /** The program of a plan and timestamp mode, recorded on first use; the time it took, when it was recorded now. */
  private programFor(spec: Specialization, mode: TimestampMode): { program: Program; recordMs?: number } {
    let ps = this.programs.get(spec);
    if (ps) {
      this.programs.delete(spec); // most recently used last
      this.programs.set(spec, ps);
    } else {
      if (spec.plan.arenaBytes > this.arena.size || spec.plan.scratchBytes > (this.scratch?.size ?? 0)) this.grow(spec.plan);
      ps = new Map();
      this.programs.set(spec, ps);
      for (const [s, old] of this.programs) {
        if (this.programs.size <= PROGRAM_LIMIT) break;
        if (s === this.engine.specializations.base || s === spec) continue;
        for (const p of old.values()) p.dispose();
        this.programs.delete(s);
      }
    }
    let program = ps.get(mode);
    if (program) return { program };
    const t0 = performance.now();
    program = recordProgram(this.engine, spec, this.arena, this.scratch, mode);
    ps.set(mode, program);
    return { program, recordMs: performance.now() - t0 };
  }

  /**
   * A plan needs more memory than the profiles' max shapes planned (a memory plan need not grow
   * monotonically with the shapes): larger buffers, every program recorded again on use.
   */
  private grow(plan: EnginePlan): void {
    for (const ps of this.programs.values()) for (const p of ps.values()) p.dispose();
    for (const ps of this.programs.values()) ps.clear();
    if (plan.arenaBytes > this.arena.size) {
      this.arena.dispose();
      this.arena = this.engine.device.createBuffer(plan.arenaBytes, 'device');
    }
    if (plan.scratchBytes > (this.scratch?.size ?? 0)) {
      this.scratch?.dispose();
      this.scratch = this.engine.device.createBuffer(plan.scratchBytes, 'device');
    }
  }

  /**
   * Runs the engine on named inputs; resolves to the outputs by name. Inputs backed by a
   * SharedArrayBuffer are copied when the run starts.
   * @throws InputError for a missing or unknown input, a wrong dtype or shape, or data that does
   *   not hold the tensor's elements (detached, replaced, another array type).
   */
  execute(feeds: Feeds): Promise<Map<string, Tensor>> {
    const run = this.queueTail.then(() => this.run(feeds));
    this.queueTail = run.catch(() => undefined);
    this.pending++;
    const done = () => { this.pending--; };
    run.then(done, done);
    return run;
  }

  private pending = 0;
  /** True while a run is queued or in flight (an engine refit waits for none). */
  get busy(): boolean { return this.pending > 0; }

  private checkFeeds(feeds: Feeds): { map: Map<string, Tensor>; spec: Specialization } {
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
    }
    // the plan for these shapes: the engine's own, or (profiles) one made on the first run at them
    const spec = this.specializationFor((n) => map.get(n)!.dims);
    for (const io of spec.plan.inputs) checkData(io.name, map.get(io.name)!, io.dims.reduce((a, b) => a * b, 1));
    return { map, spec };
  }

  /** Phase 1 (H2D): inputs into the arena. */
  private upload(map: Map<string, Tensor>, plan: EnginePlan): void {
    const strings = new Map<string, number>(); // string inputs: one id table for the run
    for (const io of plan.inputs) {
      const t = map.get(io.name)!;
      const pt = plan.tensors.get(io.name);
      if (!pt || !t.size) continue;
      const a = toGpuArray(t, io.gpu, strings);
      // SharedArrayBuffer-backed data is copied first (native code takes plain ArrayBuffers): the
      // run sees a snapshot taken here; writes by other threads during the copy race with it
      this.arena.write(isShared(a) ? a.slice() : a, pt.offset);
    }
  }

  /** Phase 4 (D2H): outputs out of the arena. */
  private readback(plan: EnginePlan): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const o of plan.outputs) {
      const pt = plan.tensors.get(plan.outputRoots.get(o.name)!)!;
      const n = o.dims.reduce((a, b) => a * b, 1);
      if (n === 0) { out.set(o.name, Tensor.zeros(o.dtype, o.dims)); continue; }
      if (isPacked(o.gpu)) { out.set(o.name, fromGpuArray(o.dtype, o.dims, o.gpu, this.arena.read(pt.offset, gpuBytes(o.gpu, n)))); continue; }
      const bytes = this.arena.read(pt.offset, n * 4);
      const view = o.gpu === 'i32' ? new Int32Array(bytes.buffer, bytes.byteOffset, n) : new Float32Array(bytes.buffer, bytes.byteOffset, n);
      // float16 outputs as IEEE half bits in a Uint16Array (onnxruntime's convention)
      out.set(o.name, o.dtype === 'float32' ? new Tensor('float32', o.dims, Float32Array.from(view))
        : o.dtype === 'float16' ? new Tensor('float16', o.dims, float16Bits(view)) : Tensor.from(o.dtype, o.dims, view));
    }
    for (const [name, t] of plan.constantOutputs) out.set(name, t);
    return out;
  }

  /**
   * Set once a run failed with a {@link DeviceLostError} (a GPU job past the device's GPU timeout,
   * or VK_ERROR_DEVICE_LOST): every later execute() rejects at once with a DeviceLostError that says
   * so. Dispose the engine and load it on a new Device.
   */
  get broken(): DeviceLostError | undefined { return this.brokenBy; }

  private async run(feeds: Feeds): Promise<Map<string, Tensor>> {
    if (this.disposedFlag) throw new DisposedError('ExecutionContext');
    if (this.brokenBy) {
      const b = this.brokenBy;
      throw new DeviceLostError(`this execution context is broken: an earlier run failed (${b.message})`, b.reason, b.call, b.result);
    }
    this.engine.check();
    try {
      return await this.runOnce(feeds);
    } catch (e) {
      if (e instanceof DeviceLostError) this.brokenBy ??= e;
      throw e;
    }
  }

  private async runOnce(feeds: Feeds): Promise<Map<string, Tensor>> {
    const makes = this.engine.specializations.made;
    const { map, spec } = this.checkFeeds(feeds);
    // this run made the plan for its shapes: say what that cost
    const made = this.engine.specializations.made > makes ? spec.cost : undefined;
    spec.runs++;
    try {
      return await this.runPlan(map, spec, made);
    } finally {
      spec.runs--;
    }
  }

  private async runPlan(map: Map<string, Tensor>, spec: Specialization, made: SpecializationCost | undefined): Promise<Map<string, Tensor>> {
    const plan = spec.plan;
    const profiler = this.profilerRef;
    const mode: TimestampMode = profiler ? 'layers' : this.gpuTimingFlag ? 'bracket' : 'none';
    const { program, recordMs } = this.programFor(spec, mode);
    const t0 = performance.now();
    this.upload(map, plan);
    const t1 = performance.now();
    const done = program.submit(this.queue); // the native submit happens synchronously in here
    const t2 = performance.now();
    await done;
    const t3 = performance.now();
    const out = this.readback(plan);
    if (this.checkFinite) await this.checkOutputsFinite(out, map, spec);
    const t4 = performance.now();
    const timing: RunTiming = { startMs: t0, h2dMs: t1 - t0, enqueueMs: t2 - t1, waitMs: t3 - t1, d2hMs: t4 - t3, latencyMs: t4 - t0 };
    if (made) timing.specialization = made;
    if (recordMs !== undefined && spec !== this.engine.specializations.base) timing.recordMs = recordMs;
    if (mode !== 'none') {
      const info = this.engine.device.info;
      const ticks = program.timestamps();
      timing.gpuMs = ticksToMs(ticks[0], ticks[ticks.length - 1], info.timestampPeriodNs, info.timestampValidBits);
      if (mode === 'layers') timing.layerMs = timestampDeltasMs(ticks, info.timestampPeriodNs, info.timestampValidBits);
    }
    this.lastTiming = timing;
    if (profiler && timing.layerMs) {
      const layers = plan.layers;
      timing.layerMs.forEach((ms, i) => profiler.reportLayerTime(layers[i].name, ms));
    }
    return out;
  }

  /** The first non-finite element of a tensor's float values, or -1. */
  private static firstNonFinite(values: ArrayLike<number>): number {
    for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
    return -1;
  }

  /** A plan tensor's float values as stored in the arena (f32 or f16), or undefined for integers. */
  private readFloats(plan: EnginePlan, name: string, gpu: string, elements: number): Float32Array | undefined {
    const pt = plan.tensors.get(name);
    if (!pt || elements === 0 || (gpu !== 'f32' && gpu !== 'f16')) return undefined;
    const bytes = this.arena.read(pt.offset, elements * (gpu === 'f16' ? 2 : 4));
    return gpu === 'f16' ? float16Values(new Uint16Array(bytes.buffer, bytes.byteOffset, elements)) : new Float32Array(bytes.buffer, bytes.byteOffset, elements);
  }

  /** checkFinite: throws NonFiniteError naming the input or the first layer that made a NaN/Inf output. */
  private async checkOutputsFinite(out: Map<string, Tensor>, feeds: Map<string, Tensor>, spec: Specialization): Promise<void> {
    const plan = spec.plan;
    const bad = [...out].find(([, t]) => (t.dtype === 'float32' || t.dtype === 'float16' || t.dtype === 'float64') && ExecutionContext.firstNonFinite(t.toNumbers() as ArrayLike<number>) >= 0);
    if (!bad) return;
    const what = `output '${bad[0]}' holds NaN or Inf`;
    for (const [name, t] of feeds) {
      if (t.dtype.startsWith('float') && ExecutionContext.firstNonFinite(t.toNumbers() as ArrayLike<number>) >= 0) throw new NonFiniteError(`${what}: input '${name}' already does`, name);
    }
    // the layers again, one program each, reading each layer's outputs as soon as it ran
    this.upload(feeds, plan);
    for (let li = 0; li < plan.layers.length; li++) {
      const layer = plan.layers[li];
      const p = recordProgram(this.engine, spec, this.arena, this.scratch, 'none', li);
      try {
        await p.submit(this.queue);
      } finally {
        p.dispose();
      }
      for (const o of layer.outputs) {
        const pt = plan.tensors.get(o);
        if (!pt) continue;
        const v = this.readFloats(plan, o, pt.gpu, pt.dims.reduce((a, b) => a * b, 1));
        const at = v ? ExecutionContext.firstNonFinite(v) : -1;
        if (at < 0) continue;
        const readers = plan.layers.filter((l) => l.inputs.includes(o)).map((l) => l.name);
        const hint = layer.source?.convert?.to === 'f16'
          ? `; it converts '${layer.inputs[0]}' to FP16 for ${readers.map((r) => `'${r}'`).join(', ')}, and FP16's largest value is 65504: keep those in FP32 with fp32Layers`
          : layer.precision === 'fp16' ? `; it runs in FP16, whose largest value is 65504: keep it in FP32 with fp32Layers: ['${layer.name}']` : '';
        throw new NonFiniteError(`${what}: the first layer to produce one is '${layer.name}' (${layer.opTypes.join('+')}, ${layer.precision}, kernel ${layer.kernel}): its output '${o}' holds ${v![at]} at element ${at}${hint}`, o, layer.name);
      }
    }
    throw new NonFiniteError(`${what}, but no layer's output does when the layers run one at a time (a race between layers?)`, bad[0]);
  }

  get disposed(): boolean { return this.disposedFlag; }

  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    for (const ps of this.programs.values()) for (const p of ps.values()) p.dispose();
    this.arena.dispose();
    this.scratch?.dispose();
    this.engine.forget(this);
  }
}
