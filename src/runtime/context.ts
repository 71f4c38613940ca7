/**
 * ExecutionContext (TensorRT's IExecutionContext): one engine's activation arena and scratch on
 * the device, and the program recorded once over them (every layer's dispatches and barriers), so
 * a run crosses into native code a fixed number of times whatever the layer count. A run has four
 * timed phases (upload, enqueue, wait, read back); with a profiler it submits a second program,
 * recorded on first use, that writes a timestamp fencepost around every layer (profiler.ts).
 *
 * Runs are asynchronous and overlapped (docs/async.md): a run's host inputs go into one of
 * `maxInFlight` host-visible staging slots, and its program copies them into the arena on the
 * queue, runs the layers and copies the outputs back into the slot's read-back staging. So with
 * several runs enqueued, the host writes run n+1's inputs and reads run n-1's outputs while the GPU
 * computes run n. Runs of one context are submitted, executed and settled in order; each program
 * begins with a barrier, so a run never touches the arena before the previous run is done with it.
 * DeviceTensor inputs and outputs are copied on the queue by small programs submitted around it.
 */
import { DeviceLostError, DisposedError, InputError, NonFiniteError } from '../errors';
import { DeviceTensor } from './device-tensor';
import type { GpuBuffer } from '../gpu/buffer';
import type { Device } from '../gpu/device';
import type { Pipeline } from '../gpu/pipeline';
import type { Command, Program } from '../gpu/program';
import { ticksToMs, timestampDeltasMs } from '../gpu/timing';
import { allocData, float16Bits, float16Values, sizeOf, Tensor } from '../ir/tensor';
import type { EngineIO, EnginePlan } from '../kernel/plan';
import { fromGpuArray, gpuBytes, isPacked, toGpuArray } from '../kernel/storage';
import { planBarriers } from './barriers';
import { bindingRanges, type BindingRange } from './bindings';
import { BufferSet, bufferSizes } from './buffer-set';
import type { Profiler } from './profiler';
import { checkInputShape, matchProfile, type Specialization, type SpecializationCost, type Specializations } from './profiles';

/** What a context needs of its engine (engine.ts implements it). */
export interface ContextHost {
  readonly plan: EnginePlan;
  readonly device: Device;
  readonly pipelines: readonly (readonly Pipeline[])[];
  readonly weights: BufferSet;
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
function recordProgram(host: ContextHost, spec: Specialization, arena: BufferSet, scratch: GpuBuffer | undefined, timestamps: TimestampMode, only?: number): Program {
  return host.device.createProgram(layerCommands(host, spec, arena, scratch, timestamps, only));
}

/** The commands of {@link recordProgram}: every layer's dispatches with their barriers and timestamps. */
function layerCommands(host: ContextHost, spec: Specialization, arena: BufferSet, scratch: GpuBuffer | undefined, timestamps: TimestampMode, only?: number): Command[] {
  const cmds: Command[] = [];
  const plan = spec.plan;
  const buffer = (r: BindingRange): GpuBuffer => (r.buffer === 'arena' ? arena.at(r.index) : r.buffer === 'weights' ? spec.weights.at(r.index) : scratch!);
  const before = timestamps === 'layers' || only !== undefined ? undefined : planBarriers(plan);
  if (timestamps !== 'none') cmds.push({ op: 'timestamp', index: 0 });
  plan.layers.forEach((layer, li) => {
    if (only !== undefined && li !== only) return;
    layer.dispatches.forEach((d, di) => {
      if (before?.[li][di]) cmds.push({ op: 'barrier' });
      const bindings = bindingRanges(plan, layer, d).map((r) => ({ buffer: buffer(r), offset: r.offset, range: r.range }));
      const push = plan.paramMode === 'push' ? new Uint32Array(d.params.length ? d.params : [0]) : undefined;
      cmds.push({ op: 'dispatch', pipeline: spec.pipelines[li][di], bindings, push, groups: d.groups });
      if (!before) cmds.push({ op: 'barrier' });
    });
    if (timestamps === 'layers') cmds.push({ op: 'timestamp', index: li + 1 });
  });
  if (timestamps === 'bracket') cmds.push({ op: 'timestamp', index: 1 });
  return cmds;
}

/** The key of a run program: timestamp mode, slot, and which inputs/outputs are DeviceTensors. */
function programKey(mode: TimestampMode, slot: number, dtIn: Map<string, unknown>, dtOut: Map<string, unknown>): string {
  return `${mode}|${slot}|${[...dtIn.keys()].sort().join(',')}|${[...dtOut.keys()].sort().join(',')}`;
}

/** Where an output's bytes are in the arena (the tensor that owns them): its buffer and offset. */
function outputAt(plan: EnginePlan, name: string): { buffer: number; offset: number } {
  const t = plan.tensors.get(plan.outputRoots.get(name)!)!;
  return { buffer: t.buffer ?? 0, offset: t.offset };
}

/** Where each input and output sits in a staging slot's buffers (16-byte aligned, packed). */
interface StagingLayout {
  inputs: Map<string, { offset: number; bytes: number }>;
  outputs: Map<string, { offset: number; bytes: number }>;
  inputBytes: number;
  outputBytes: number;
}

const layouts = new WeakMap<EnginePlan, StagingLayout>();

function stagingLayout(plan: EnginePlan): StagingLayout {
  let l = layouts.get(plan);
  if (l) return l;
  // packed one after the other, each 16-byte aligned; empty tensors (and inputs no layer reads) take no place
  const pack = (ios: readonly EngineIO[], keep: (io: EngineIO) => boolean) => {
    const at = new Map<string, { offset: number; bytes: number }>();
    let total = 0;
    for (const io of ios) {
      const n = sizeOf(io.dims);
      const bytes = n === 0 ? 0 : gpuBytes(io.gpu, n);
      if (bytes === 0 || !keep(io)) continue;
      at.set(io.name, { offset: total, bytes });
      total += Math.ceil(bytes / 16) * 16;
    }
    return { at, total };
  };
  const ins = pack(plan.inputs, (io) => plan.tensors.has(io.name));
  const outs = pack(plan.outputs, () => true);
  l = { inputs: ins.at, outputs: outs.at, inputBytes: ins.total, outputBytes: outs.total };
  layouts.set(plan, l);
  return l;
}

/** A run's host staging: an upload buffer for its inputs, a read-back buffer for its outputs. */
interface Slot {
  index: number;
  input?: GpuBuffer;
  output?: GpuBuffer;
  /** Settles once the last run that used this slot completed and its outputs were read. */
  free: Promise<unknown>;
  idle: boolean;
  /** Submission number of its last run. */
  seq: number;
}

/** Inputs by name: host Tensors, or DeviceTensors already on the engine's device. */
export type Feeds = Record<string, Tensor | DeviceTensor> | Map<string, Tensor | DeviceTensor>;

/** Options of {@link ExecutionContext.execute} and {@link ExecutionContext.enqueue}. */
export interface ExecuteOptions {
  /**
   * Outputs to write into caller-owned device tensors, by name (onnxruntime's IO binding): the run's
   * result is copied into them on the queue and the output map holds them. Each must have the
   * output's dtype, shape and storage (engine.createDeviceTensor(name) makes one).
   */
  outputs?: Record<string, DeviceTensor> | Map<string, DeviceTensor>;
  /**
   * Where the outputs not given in `outputs` go (onnxruntime's preferredOutputLocation): 'cpu'
   * (default, host Tensors) or 'gpu-buffer' (a new DeviceTensor per output and run, owned by the
   * caller, who disposes it). Outputs folded to constants at build time stay host Tensors.
   */
  preferredOutputLocation?: 'cpu' | 'gpu-buffer';
}

/** What {@link ExecutionContext.enqueue} returns: a run on its way through the queue. */
export interface InferenceRun<T = Map<string, Tensor>> {
  /**
   * Resolves once the run is submitted to the queue: its host inputs were copied into staging and
   * may be changed or reused. (enqueue() submits before it returns when a staging slot is free.)
   */
  readonly submitted: Promise<void>;
  /** Resolves to the outputs by name once the GPU finished and they were read back. */
  readonly outputs: Promise<T>;
  /** Resolves to this run's timing (also `lastTiming` of the context) when `outputs` settles; rejects with it. */
  readonly timing: Promise<RunTiming>;
}

/** Default number of runs a context keeps in flight (staging slots). */
export const DEFAULT_MAX_IN_FLIGHT = 3;
const MAX_IN_FLIGHT_LIMIT = 16;
/** How many DeviceTensor copy programs a context keeps recorded. */
const COPY_PROGRAM_LIMIT = 16;

/** One enqueued run, from enqueue() to its settled outputs. */
interface Job {
  map: Map<string, Tensor | DeviceTensor>;
  spec: Specialization;
  made?: SpecializationCost;
  /** DeviceTensor inputs and outputs by name. */
  dtIn: Map<string, DeviceTensor>;
  dtOut: Map<string, DeviceTensor>;
  enqueuedMs: number;
  submitted: { resolve: () => void; reject: (e: unknown) => void };
  outputs: { resolve: (m: Map<string, Tensor | DeviceTensor>) => void; reject: (e: unknown) => void };
  timing: { resolve: (t: RunTiming) => void; reject: (e: unknown) => void };
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void, reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
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
  /** Milliseconds from enqueue() to the upload start: waiting for a free staging slot (runs in flight). */
  queuedMs?: number;
  /** The queue the run went to and its staging slot (runs in flight at once use different slots). */
  queue?: number;
  slot?: number;
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
  private arena: BufferSet;
  private scratch?: GpuBuffer;
  /**
   * Per plan (the engine's shapes, or other shapes inside its profiles), the run programs by
   * `mode|slot|device-tensor inputs|device-tensor outputs` (programKey), recorded on first use
   * (slot 0's 'none' at once for the engine's own); least recently used plans first, at most
   * PROGRAM_LIMIT.
   */
  private readonly programs = new Map<Specialization, Map<string, Program>>();
  /** Staging slots, one per run in flight (made on first use). */
  private readonly slots: Slot[] = [];
  /** Runs submitted so far (orders the slots' runs). */
  private submitted = 0;
  private maxInFlightN = DEFAULT_MAX_IN_FLIGHT;
  /** Runs enqueued but not yet submitted (waiting for a slot or a device tensor), in order. */
  private waiting = 0;
  private submitChain: Promise<void> = Promise.resolve();
  /** Settles when the last submitted run has completed (and its outputs were read). */
  private lastDone: Promise<unknown> = Promise.resolve();
  /** DeviceTensor copy programs by slot and tensors (least recently used first). */
  private readonly copyPrograms = new Map<string, Program>();
  /** The profile runs use (undefined: the first that holds the shapes). */
  private profileIndex?: number;
  /** Shapes given by setInputShape. */
  private readonly givenShapes = new Map<string, number[]>();
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
    const arenaBytes = bufferSizes(plan, 'arena');
    // with one arena buffer (profile plans: one each), the largest profile's
    if (arenaBytes.length === 1) arenaBytes[0] = Math.max(plan.arenaBytes, ...profiles.map((p) => p.arenaBytes));
    const scratchBytes = Math.max(plan.scratchBytes, ...profiles.map((p) => p.scratchBytes));
    this.arena = BufferSet.create(engine.device, arenaBytes);
    if (scratchBytes > 0) this.scratch = engine.device.createBuffer(scratchBytes, 'device');
    this.programFor(engine.specializations.base, 'none', this.slot(0), new Map(), new Map());
  }

  /**
   * How many runs this context keeps in flight (TensorRT's streams overlap, onnxruntime's IO
   * binding): each has its own host staging for inputs and outputs, so the upload of run n+1 and
   * the read-back of run n-1 overlap the GPU work of run n. enqueue() beyond it waits for the
   * oldest run. 1 to 16; default 3. Memory: that many copies of the inputs' and outputs' bytes in
   * host-visible staging.
   */
  get maxInFlight(): number { return this.maxInFlightN; }
  set maxInFlight(n: number) {
    if (!Number.isInteger(n) || n < 1 || n > MAX_IN_FLIGHT_LIMIT) throw new InputError(`maxInFlight must be an integer from 1 to ${MAX_IN_FLIGHT_LIMIT}, got ${String(n)}`);
    this.maxInFlightN = n;
  }

  /** Staging slot `i` (made on first use; its buffers grow on use). */
  private slot(i: number): Slot {
    let s = this.slots[i];
    if (!s) {
      s = { index: i, free: Promise.resolve(), idle: true, seq: 0 };
      this.slots[i] = s;
    }
    return s;
  }

  /** Makes a slot's staging hold a plan's inputs and outputs; a grown slot's programs are recorded again. */
  private fitSlot(slot: Slot, layout: StagingLayout): void {
    const grow = (buf: GpuBuffer | undefined, bytes: number, kind: 'upload' | 'readback') => {
      if (bytes === 0 || (buf && buf.size >= bytes)) return buf;
      buf?.dispose();
      const drop = `|${slot.index}|`;
      for (const ps of this.programs.values()) for (const [k, p] of ps) if (k.includes(drop)) { p.dispose(); ps.delete(k); }
      return this.engine.device.createBuffer(Math.max(bytes, 2 * (buf?.size ?? 0)), kind);
    };
    slot.input = grow(slot.input, layout.inputBytes, 'upload');
    slot.output = grow(slot.output, layout.outputBytes, 'readback');
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
    if (profiled.every((n) => this.givenShapes.has(n))) this.programFor(this.specializationFor((n) => this.givenShapes.get(n) ?? plan.inputs.find((i) => i.name === n)!.dims), 'none', this.slot(0), new Map(), new Map());
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

  /**
   * The run program of a plan, timestamp mode, slot and set of DeviceTensor inputs/outputs,
   * recorded on first use; the time it took, when it was recorded now. It begins with a barrier
   * (earlier work on the queue is done with the arena), copies the host inputs from the slot's
   * staging into the arena, runs the layers and copies the host outputs into the slot's read-back
   * staging. DeviceTensor inputs and outputs are left to the copy programs around it.
   */
  private programFor(spec: Specialization, mode: TimestampMode, slot: Slot, dtIn: Map<string, unknown>, dtOut: Map<string, unknown>): { program: Program; recordMs?: number } {
    let ps = this.programs.get(spec);
    if (ps) {
      this.programs.delete(spec); // most recently used last
      this.programs.set(spec, ps);
    } else {
      if (!this.arena.holds(bufferSizes(spec.plan, 'arena')) || spec.plan.scratchBytes > (this.scratch?.size ?? 0)) this.grow(spec.plan);
      ps = new Map();
      this.programs.set(spec, ps);
      for (const [s, old] of this.programs) {
        if (this.programs.size <= PROGRAM_LIMIT) break;
        if (s === this.engine.specializations.base || s === spec) continue;
        for (const p of old.values()) p.dispose();
        this.programs.delete(s);
      }
    }
    const key = programKey(mode, slot.index, dtIn, dtOut);
    let program = ps.get(key);
    if (program) return { program };
    const t0 = performance.now();
    const plan = spec.plan, layout = stagingLayout(plan);
    this.fitSlot(slot, layout);
    const cmds: Command[] = [{ op: 'barrier' }];
    for (const [name, at] of layout.inputs) {
      if (dtIn.has(name)) continue;
      const t = plan.tensors.get(name)!;
      cmds.push({ op: 'copy', src: slot.input!, srcOffset: at.offset, dst: this.arena.at(t.buffer ?? 0), dstOffset: t.offset, size: at.bytes });
    }
    cmds.push({ op: 'barrier' }, ...layerCommands(this.engine, spec, this.arena, this.scratch, mode), { op: 'barrier' });
    for (const [name, at] of layout.outputs) {
      if (dtOut.has(name)) continue;
      const from = outputAt(plan, name);
      cmds.push({ op: 'copy', src: this.arena.at(from.buffer), srcOffset: from.offset, dst: slot.output!, dstOffset: at.offset, size: at.bytes });
    }
    program = this.engine.device.createProgram(cmds);
    ps.set(key, program);
    return { program, recordMs: performance.now() - t0 };
  }

  /**
   * A program that copies DeviceTensors into the arena ('in') or the arena into them ('out') for
   * a plan, after a barrier; cached by slot and tensors (a cached one is never in flight twice: its
   * slot's previous run has completed).
   */
  private copyProgram(plan: EnginePlan, slot: Slot, dir: 'in' | 'out', tensors: Map<string, DeviceTensor>): Program {
    const key = `${slot.index}|${dir}|${[...tensors].map(([n, t]) => `${n}=${t.id}`).join(',')}`;
    let p = this.copyPrograms.get(key);
    if (p && !p.disposed && this.copyPlans.get(p) === plan && this.copyArena.get(p) === this.arena) {
      this.copyPrograms.delete(key);
      this.copyPrograms.set(key, p);
      return p;
    }
    p?.dispose();
    const cmds: Command[] = [{ op: 'barrier' }];
    for (const [name, t] of tensors) {
      if (!t.buffer) continue;
      const pt = plan.tensors.get(name);
      const at = dir === 'in' ? pt && { buffer: pt.buffer ?? 0, offset: pt.offset } : outputAt(plan, name);
      if (at === undefined) continue;
      cmds.push(dir === 'in'
        ? { op: 'copy', src: t.buffer, dst: this.arena.at(at.buffer), dstOffset: at.offset, size: t.bytes }
        : { op: 'copy', src: this.arena.at(at.buffer), srcOffset: at.offset, dst: t.buffer, size: t.bytes });
    }
    p = this.engine.device.createProgram(cmds);
    this.copyPlans.set(p, plan);
    this.copyArena.set(p, this.arena);
    this.copyPrograms.set(key, p);
    for (const [k, old] of this.copyPrograms) {
      if (this.copyPrograms.size <= COPY_PROGRAM_LIMIT) break;
      old.dispose();
      this.copyPrograms.delete(k);
    }
    return p;
  }
  private readonly copyPlans = new WeakMap<Program, EnginePlan>();
  private readonly copyArena = new WeakMap<Program, BufferSet>();

  /**
   * A plan needs more memory than the profiles' max shapes planned (a memory plan need not grow
   * monotonically with the shapes): larger buffers, every program recorded again on use.
   */
  private grow(plan: EnginePlan): void {
    for (const ps of this.programs.values()) for (const p of ps.values()) p.dispose();
    for (const ps of this.programs.values()) ps.clear();
    const sizes = bufferSizes(plan, 'arena');
    if (!this.arena.holds(sizes)) {
      const have = this.arena.buffers.map((b) => b.size);
      this.arena.dispose();
      this.arena = BufferSet.create(this.engine.device, sizes.map((s, k) => Math.max(s, have[k] ?? 0)).concat(have.slice(sizes.length)));
    }
    if (plan.scratchBytes > (this.scratch?.size ?? 0)) {
      this.scratch?.dispose();
      this.scratch = this.engine.device.createBuffer(plan.scratchBytes, 'device');
    }
  }

  /**
   * Runs the engine on named inputs; resolves to the outputs by name: `enqueue(feeds, options).outputs`
   * (several execute() calls without awaiting each overlap like enqueue()). Inputs backed by a
   * SharedArrayBuffer are copied when the run is submitted.
   * @throws (rejects) InputError for a missing or unknown input, a wrong dtype or shape, or data
   *   that does not hold the tensor's elements (detached, replaced, another array type);
   *   DeviceTensorError for a DeviceTensor that does not fit; DisposedError.
   */
  execute(feeds: Feeds): Promise<Map<string, Tensor>>;
  execute(feeds: Feeds, options: ExecuteOptions): Promise<Map<string, Tensor | DeviceTensor>>;
  execute(feeds: Feeds, options?: ExecuteOptions): Promise<Map<string, Tensor | DeviceTensor>> {
    try {
      return this.enqueue(feeds, options ?? {}).outputs;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Submits a run and returns at once (TensorRT's enqueueV3): `submitted` resolves when it is on the
   * queue (at once when one of the `maxInFlight` staging slots is free, else when the oldest run
   * completes), `outputs` when its outputs are read back. Runs of one context go through the queue
   * and settle in the order they were enqueued; up to `maxInFlight` are in flight at once, so host
   * transfers of one overlap the GPU work of another. Host input data must not change until
   * `submitted` resolves.
   * @throws synchronously what execute() rejects with (the inputs are checked before anything is submitted).
   */
  enqueue(feeds: Feeds): InferenceRun;
  enqueue(feeds: Feeds, options: ExecuteOptions): InferenceRun<Map<string, Tensor | DeviceTensor>>;
  enqueue(feeds: Feeds, options: ExecuteOptions = {}): InferenceRun<Map<string, Tensor | DeviceTensor>> {
    const enqueuedMs = performance.now();
    this.checkRunnable();
    const makes = this.engine.specializations.made;
    const { map, spec } = this.checkFeeds(feeds);
    // this run made the plan for its shapes: say what that cost
    const made = this.engine.specializations.made > makes ? spec.cost : undefined;
    const dtIn = new Map<string, DeviceTensor>();
    for (const [n, t] of map) if (t instanceof DeviceTensor) dtIn.set(n, t);
    const dtOut = this.checkOutputOptions(spec, options, map);
    const sub = deferred<void>(), out = deferred<Map<string, Tensor | DeviceTensor>>(), timing = deferred<RunTiming>();
    void sub.promise.catch(() => undefined); // the caller may watch only `outputs`
    void timing.promise.catch(() => undefined);
    const job: Job = { map, spec, made, dtIn, dtOut, enqueuedMs, submitted: sub, outputs: out, timing };
    spec.runs++;
    this.pending++;
    void out.promise.then(() => this.settled(job), () => this.settled(job));
    void out.promise.catch((e: unknown) => timing.reject(e));
    if (this.waiting === 0 && this.readyNow(job)) {
      this.submit(job);
    } else {
      this.waiting++;
      this.submitChain = this.submitChain.then(async () => {
        for (let w = this.waitsOf(job); w.length; w = this.waitsOf(job)) await Promise.all(w.map((p) => p.catch(() => undefined)));
        this.waiting--;
        this.submit(job);
      });
    }
    return { submitted: sub.promise, outputs: out.promise, timing: timing.promise };
  }

  private pending = 0;
  /** True while a run is queued or in flight (an engine refit waits for none). */
  get busy(): boolean { return this.pending > 0; }
  /** Runs enqueued and not yet settled. */
  get inFlight(): number { return this.pending; }

  private settled(job: Job): void {
    this.pending--;
    job.spec.runs--;
  }

  /** Throws DisposedError, or DeviceLostError for a broken context (or the engine's DisposedError). */
  private checkRunnable(): void {
    if (this.disposedFlag) throw new DisposedError('ExecutionContext');
    if (this.brokenBy) {
      const b = this.brokenBy;
      throw new DeviceLostError(`this execution context is broken: an earlier run failed (${b.message})`, b.reason, b.call, b.result);
    }
    this.engine.check();
  }

  /**
   * The staging slot the next submitted run takes: the first idle one (so runs one at a time all
   * use slot 0 and its programs), or undefined when all `maxInFlight` are busy.
   */
  private peekSlot(): Slot | undefined {
    for (let i = 0; i < this.effectiveDepth(); i++) if (this.slot(i).idle) return this.slot(i);
    return undefined;
  }

  /** The busy slot whose run was submitted first (runs complete in order: it frees first). */
  private oldestSlot(): Slot {
    let o: Slot | undefined;
    for (let i = 0; i < this.effectiveDepth(); i++) if (!o || this.slot(i).seq < o.seq) o = this.slot(i);
    return o!;
  }

  /** checkFinite searches the arena after a run: then runs do not overlap. */
  private effectiveDepth(): number {
    return this.checkFinite ? 1 : this.maxInFlightN;
  }

  /** What a run must wait for before it is submitted: its slot's previous run, device tensors used on other queues. */
  private waitsOf(job: Job): Promise<unknown>[] {
    const w: Promise<unknown>[] = [];
    if (!this.peekSlot()) w.push(this.oldestSlot().free);
    if (this.checkFinite && this.slots.some((s) => !s.idle)) w.push(this.lastDone);
    for (const t of job.dtIn.values()) w.push(...t.hazards(this.queue, false));
    for (const t of job.dtOut.values()) w.push(...t.hazards(this.queue, true));
    return w;
  }

  private readyNow(job: Job): boolean {
    return this.waitsOf(job).length === 0;
  }

  /** Checks ExecuteOptions against a plan: the DeviceTensor of each output written to the device (allocated for 'gpu-buffer'). */
  private checkOutputOptions(spec: Specialization, options: ExecuteOptions, feeds: Map<string, Tensor | DeviceTensor>): Map<string, DeviceTensor> {
    const plan = spec.plan;
    if (!options || typeof options !== 'object') throw new InputError('execute/enqueue options must be an object');
    const loc = options.preferredOutputLocation ?? 'cpu';
    if (loc !== 'cpu' && loc !== 'gpu-buffer') throw new InputError(`preferredOutputLocation must be 'cpu' or 'gpu-buffer', got ${String(loc)}`);
    const given = options.outputs instanceof Map ? options.outputs : new Map(Object.entries(options.outputs ?? {}));
    const dtOut = new Map<string, DeviceTensor>();
    for (const [name, t] of given) {
      const o = plan.outputs.find((x) => x.name === name);
      if (!o) {
        if (plan.constantOutputs.has(name)) throw new InputError(`output '${name}' was folded to a constant at build time: it is returned as a host Tensor, not written to a device tensor`);
        throw new InputError(`'${name}' is not an output of this engine (outputs: ${plan.outputs.map((x) => x.name).join(', ')})`);
      }
      if (!(t instanceof DeviceTensor)) throw new InputError(`options.outputs['${name}'] must be a DeviceTensor`);
      t.checkFor(this.engine.device, 'output', name, o.dtype, o.dims, o.gpu);
      if ([...feeds.values()].includes(t)) throw new InputError(`output '${name}': its device tensor is also an input of this run; give another one`);
      if ([...dtOut.values()].includes(t)) throw new InputError(`output '${name}': its device tensor is already given for another output`);
      dtOut.set(name, t);
    }
    if (loc === 'gpu-buffer') for (const o of plan.outputs) if (!dtOut.has(o.name)) dtOut.set(o.name, DeviceTensor.alloc(this.engine.device, o.dtype, o.dims, o.gpu));
    return dtOut;
  }

  /** Writes the job's host inputs into its slot and submits its programs; settles the job later. Never throws. */
  private submit(job: Job): void {
    const sub = job.submitted, out = job.outputs;
    try {
      this.checkRunnable();
    } catch (e) {
      sub.reject(e);
      out.reject(e);
      return;
    }
    const { spec, map, dtIn, dtOut } = job;
    const plan = spec.plan;
    const profiler = this.profilerRef;
    const mode: TimestampMode = profiler ? 'layers' : this.gpuTimingFlag ? 'bracket' : 'none';
    const slot = this.peekSlot()!;
    let program: Program, recordMs: number | undefined, pre: Program | undefined, post: Program | undefined;
    let t0: number, t1: number, t2: number;
    let done: Promise<unknown>;
    try {
      ({ program, recordMs } = this.programFor(spec, mode, slot, dtIn, dtOut));
      pre = dtIn.size ? this.copyProgram(plan, slot, 'in', dtIn) : undefined;
      post = dtOut.size ? this.copyProgram(plan, slot, 'out', dtOut) : undefined;
      t0 = performance.now();
      const layout = stagingLayout(plan);
      const strings = new Map<string, number>(); // string inputs: one id table for the run
      for (const [name, at] of layout.inputs) {
        const t = map.get(name)!;
        if (t instanceof DeviceTensor) continue;
        const a = toGpuArray(t, plan.inputs.find((i) => i.name === name)!.gpu, strings);
        // SharedArrayBuffer-backed data is copied first (native code takes plain ArrayBuffers): the
        // run sees a snapshot taken here; writes by other threads during the copy race with it
        slot.input!.write(isShared(a) ? a.slice() : a, at.offset);
      }
      t1 = performance.now();
      const ps = [pre?.submit(this.queue), program.submit(this.queue), post?.submit(this.queue)];
      t2 = performance.now();
      done = Promise.all(ps);
    } catch (e) {
      if (e instanceof DeviceLostError) this.brokenBy ??= e;
      sub.reject(e);
      out.reject(e);
      return;
    }
    slot.seq = ++this.submitted;
    for (const t of dtIn.values()) t.track(this.queue, done, false);
    for (const t of dtOut.values()) t.track(this.queue, done, true);
    const finished = done.then(async () => {
      const t3 = performance.now();
      let outputs: Map<string, Tensor | DeviceTensor>;
      try {
        outputs = this.readOutputs(plan, slot, dtOut);
        if (this.checkFinite) await this.checkOutputsFinite(outputs, map, spec);
      } finally {
        slot.idle = true; // before the outputs settle: the caller's next run may take this slot
      }
      const t4 = performance.now();
      const timing: RunTiming = { startMs: t0, h2dMs: t1 - t0, enqueueMs: t2 - t1, waitMs: t3 - t1, d2hMs: t4 - t3, latencyMs: t4 - t0, queuedMs: t0 - job.enqueuedMs, queue: this.queue, slot: slot.index };
      if (job.made) timing.specialization = job.made;
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
      job.timing.resolve(timing);
      return outputs;
    });
    finished.then(out.resolve, (e: unknown) => {
      if (e instanceof DeviceLostError) this.brokenBy ??= e;
      out.reject(e);
    });
    slot.idle = false;
    const free = finished.then(() => undefined, () => { slot.idle = true; });
    slot.free = free;
    this.lastDone = free;
    sub.resolve();
  }

  /** Phase 4 (D2H): outputs out of a slot's read-back staging (host outputs) or as their DeviceTensors. */
  private readOutputs(plan: EnginePlan, slot: Slot, dtOut: Map<string, DeviceTensor>): Map<string, Tensor | DeviceTensor> {
    const out = new Map<string, Tensor | DeviceTensor>();
    const layout = stagingLayout(plan);
    for (const o of plan.outputs) {
      const dt = dtOut.get(o.name);
      if (dt) { out.set(o.name, dt); continue; }
      const at = layout.outputs.get(o.name);
      if (!at) { out.set(o.name, Tensor.zeros(o.dtype, o.dims)); continue; }
      const bytes = slot.output!.read(at.offset, at.bytes);
      if (isPacked(o.gpu)) { out.set(o.name, fromGpuArray(o.dtype, o.dims, o.gpu, bytes)); continue; }
      const n = at.bytes / 4;
      const view = o.gpu === 'i32' ? new Int32Array(bytes.buffer, bytes.byteOffset, n) : new Float32Array(bytes.buffer, bytes.byteOffset, n);
      // float16 outputs as IEEE half bits in a Uint16Array (onnxruntime's convention)
      out.set(o.name, o.dtype === 'float32' ? new Tensor('float32', o.dims, view as Float32Array)
        : o.dtype === 'float16' ? new Tensor('float16', o.dims, float16Bits(view)) : Tensor.from(o.dtype, o.dims, view));
    }
    for (const [name, t] of plan.constantOutputs) out.set(name, t);
    return out;
  }

  private checkFeeds(feeds: Feeds): { map: Map<string, Tensor | DeviceTensor>; spec: Specialization } {
    const plan = this.engine.plan;
    if (!feeds || typeof feeds !== 'object') throw new InputError('execute(feeds): feeds must be a Map or an object of Tensors keyed by input name');
    const map = feeds instanceof Map ? feeds : new Map(Object.entries(feeds));
    for (const name of map.keys()) {
      if (!plan.inputs.some((i) => i.name === name)) throw new InputError(`'${name}' is not an input of this engine (inputs: ${plan.inputs.map((i) => i.name).join(', ')})`);
    }
    for (const io of plan.inputs) {
      const t = map.get(io.name);
      if (!t) throw new InputError(`input '${io.name}' is missing (${io.dtype}[${io.dims.join(',')}])`);
      if (!(t instanceof Tensor) && !(t instanceof DeviceTensor)) throw new InputError(`input '${io.name}' must be a Tensor or a DeviceTensor`);
      if (t instanceof DeviceTensor) t.check(`input '${io.name}'`);
      if (t.dtype !== io.dtype) throw new InputError(`input '${io.name}' must be ${io.dtype}, got ${t.dtype}`);
    }
    // the plan for these shapes: the engine's own, or (profiles) one made on the first run at them
    const spec = this.specializationFor((n) => map.get(n)!.dims);
    for (const io of spec.plan.inputs) {
      const t = map.get(io.name)!;
      if (t instanceof DeviceTensor) t.checkFor(this.engine.device, 'input', io.name, io.dtype, io.dims, io.gpu);
      else checkData(io.name, t, io.dims.reduce((a, b) => a * b, 1));
    }
    return { map, spec };
  }

  /** Inputs straight into the arena (checkFinite's layer-by-layer search, with no run in flight). */
  private upload(map: Map<string, Tensor | DeviceTensor>, plan: EnginePlan): void {
    const strings = new Map<string, number>(); // string inputs: one id table for the run
    for (const io of plan.inputs) {
      const t = map.get(io.name)!;
      const pt = plan.tensors.get(io.name);
      if (!pt || !t.size) continue;
      if (t instanceof DeviceTensor) { this.arena.write(t.buffer!.read(0, t.bytes), pt.offset, pt.buffer ?? 0); continue; }
      const a = toGpuArray(t, io.gpu, strings);
      // SharedArrayBuffer-backed data is copied first (native code takes plain ArrayBuffers): the
      // run sees a snapshot taken here; writes by other threads during the copy race with it
      this.arena.write(isShared(a) ? a.slice() : a, pt.offset, pt.buffer ?? 0);
    }
  }

  /**
   * Set once a run failed with a {@link DeviceLostError} (a GPU job past the device's GPU timeout,
   * or VK_ERROR_DEVICE_LOST): every later execute() rejects at once with a DeviceLostError that says
   * so. Dispose the engine and load it on a new Device.
   */
  get broken(): DeviceLostError | undefined { return this.brokenBy; }

  /** The first non-finite element of a tensor's float values, or -1. */
  private static firstNonFinite(values: ArrayLike<number>): number {
    for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
    return -1;
  }

  /** A plan tensor's float values as stored in the arena (f32 or f16), or undefined for integers. */
  private readFloats(plan: EnginePlan, name: string, gpu: string, elements: number): Float32Array | undefined {
    const pt = plan.tensors.get(name);
    if (!pt || elements === 0 || (gpu !== 'f32' && gpu !== 'f16')) return undefined;
    const bytes = this.arena.read(pt.offset, elements * (gpu === 'f16' ? 2 : 4), pt.buffer ?? 0);
    return gpu === 'f16' ? float16Values(new Uint16Array(bytes.buffer, bytes.byteOffset, elements)) : new Float32Array(bytes.buffer, bytes.byteOffset, elements);
  }

  /** checkFinite: throws NonFiniteError naming the input or the first layer that made a NaN/Inf output. */
  private async checkOutputsFinite(out: Map<string, Tensor | DeviceTensor>, feeds: Map<string, Tensor | DeviceTensor>, spec: Specialization): Promise<void> {
    const plan = spec.plan;
    // outputs written to DeviceTensors stay on the device: not checked
    const bad = [...out].find(([, t]) => t instanceof Tensor && (t.dtype === 'float32' || t.dtype === 'float16' || t.dtype === 'float64') && ExecutionContext.firstNonFinite(t.toNumbers() as ArrayLike<number>) >= 0);
    if (!bad) return;
    const what = `output '${bad[0]}' holds NaN or Inf`;
    for (const [name, t] of feeds) {
      if (t instanceof Tensor && t.dtype.startsWith('float') && ExecutionContext.firstNonFinite(t.toNumbers() as ArrayLike<number>) >= 0) throw new NonFiniteError(`${what}: input '${name}' already does`, name);
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
    // runs in flight keep what their programs recorded alive natively until they complete
    for (const ps of this.programs.values()) for (const p of ps.values()) p.dispose();
    for (const p of this.copyPrograms.values()) p.dispose();
    this.copyPrograms.clear();
    // submitted runs complete and read their outputs first; runs still waiting reject (DisposedError)
    const slots = [...this.slots], arena = this.arena, scratch = this.scratch;
    const free = () => {
      for (const s of slots) { s.input?.dispose(); s.output?.dispose(); }
      arena.dispose();
      scratch?.dispose();
    };
    if (slots.every((s) => s.idle)) free();
    else void this.lastDone.then(free);
    this.engine.forget(this);
  }
}
