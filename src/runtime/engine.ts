/**
 * Engine and ExecutionContext in TensorRT's shape. An Engine owns the compiled pipelines and the
 * weights on one device; each ExecutionContext owns its activation arena and one program recorded
 * once (every layer's dispatches and barriers), so a run crosses into native code a fixed number of
 * times whatever the layer count: write inputs, submit (awaited on a worker thread), read outputs.
 *
 * Concurrency: execute() calls on one context are queued (they share its arena); separate contexts
 * run independently, each on its own queue where the device has several (multi-stream).
 */
import * as fs from 'fs';
import * as path from 'path';
import { DisposedError, InputError } from '../api/errors';
import { buildPlan, BuilderConfig, EngineIO, EnginePlan, PlannedDispatch, toGpuArray } from '../build/builder';
import { DeviceCaps } from '../build/kernel';
import { Device } from '../gpu/device';
import { GpuBuffer } from '../gpu/buffer';
import { Pipeline, SpecConstant } from '../gpu/pipeline';
import { Command, Program } from '../gpu/program';
import { Model } from '../ir/graph';
import { Tensor } from '../ir/tensor';
import { packageRoot } from '../native';

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

/** An optimized model for one device. Lifetime: dispose() (idempotent) frees its GPU objects. */
export class Engine {
  readonly plan: EnginePlan;
  readonly device: Device;
  private readonly ownsDevice: boolean;
  private readonly pipelines: Pipeline[][] = [];
  private readonly weights: GpuBuffer;
  private readonly contexts = new Set<ExecutionContext>();
  private disposedFlag = false;
  /** Build time in milliseconds. */
  readonly buildMs: number;

  private constructor(plan: EnginePlan, device: Device, ownsDevice: boolean, t0: number) {
    this.plan = plan;
    this.device = device;
    this.ownsDevice = ownsDevice;
    try {
      const pipeCache = new Map<string, Pipeline>();
      const spirvIds = new Map<Uint32Array, number>();
      for (const layer of plan.layers) {
        this.pipelines.push(layer.dispatches.map((d) => {
          const spirv = compile(device, d, plan.paramMode);
          if (!spirvIds.has(spirv)) spirvIds.set(spirv, spirvIds.size);
          const declared = spirvSpecIds(spirv);
          const spec: SpecConstant[] = d.workgroup.map((v, k) => ({ id: 100 + k, type: 'uint' as const, value: v }));
          if (plan.paramMode === 'spec') d.params.forEach((v, k) => spec.push({ id: k, type: 'uint', value: v >>> 0 }));
          for (let k = spec.length - 1; k >= 0; k--) if (!declared.has(spec[k].id)) spec.splice(k, 1);
          const key = `${spirvIds.get(spirv)}|${d.bindings.length}|${spec.map((s) => `${s.id}=${s.value}`).join(',')}|${plan.paramMode === 'push' ? d.params.length : 0}`;
          let p = pipeCache.get(key);
          if (!p) {
            p = device.createPipeline({
              spirv, name: `${layer.name}:${d.shader}`, bindingCount: d.bindings.length,
              pushConstantSize: plan.paramMode === 'push' ? 4 * Math.max(1, d.params.length) : 0,
              specialization: spec,
            });
            pipeCache.set(key, p);
          }
          return p;
        }));
      }
      this.weights = device.createBuffer(plan.weightBytes, 'device');
      for (const t of plan.tensors.values()) {
        if (t.kind !== 'weight') continue;
        const data = plan.weightData.get(t.name)!;
        if (data.length) this.weights.write(data, t.offset);
      }
      for (const l of plan.layers) for (const w of l.kernelWeights) if (w.data.length) this.weights.write(w.data, w.offset);
    } catch (e) {
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

  get inputs(): readonly EngineIO[] { return this.plan.inputs; }
  get outputs(): readonly EngineIO[] { return this.plan.outputs; }

  /** A context with its own activation memory; runs on queue `index % queueCount`. */
  createExecutionContext(): ExecutionContext {
    this.check();
    const ctx = new ExecutionContext(this, this.contexts.size % Math.max(1, this.device.info.queueCount));
    this.contexts.add(ctx);
    return ctx;
  }

  /** @internal */
  recordProgram(arena: GpuBuffer, scratch: GpuBuffer | undefined, timestamps: boolean): Program {
    const cmds: Command[] = [];
    const plan = this.plan;
    if (timestamps) cmds.push({ op: 'timestamp', index: 0 });
    plan.layers.forEach((layer, li) => {
      layer.dispatches.forEach((d, di) => {
        const bindings = d.bindings.map((b) => {
          if ('tensor' in b) {
            const t = plan.tensors.get(b.tensor)!;
            return { buffer: t.kind === 'weight' ? this.weights : arena, offset: t.offset, range: t.bytes };
          }
          if ('kernelWeight' in b) {
            const w = layer.kernelWeights[b.kernelWeight];
            return { buffer: this.weights, offset: w.offset, range: w.bytes };
          }
          const sc = layer.scratch[b.scratch];
          return { buffer: scratch!, offset: sc.offset, range: sc.bytes };
        });
        const push = plan.paramMode === 'push' ? new Uint32Array(d.params.length ? d.params : [0]) : undefined;
        cmds.push({ op: 'dispatch', pipeline: this.pipelines[li][di], bindings, push, groups: d.groups });
        cmds.push({ op: 'barrier' });
      });
      if (timestamps) cmds.push({ op: 'timestamp', index: li + 1 });
    });
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

export type Feeds = Record<string, Tensor> | Map<string, Tensor>;

/** Runs an engine. Lifetime: dispose() (idempotent); the engine's dispose() disposes it too. */
export class ExecutionContext {
  private readonly arena: GpuBuffer;
  private readonly scratch?: GpuBuffer;
  private readonly program: Program;
  private queueTail: Promise<unknown> = Promise.resolve();
  private disposedFlag = false;

  /** @internal */
  constructor(readonly engine: Engine, readonly queue: number) {
    this.arena = engine.device.createBuffer(engine.plan.arenaBytes, 'device');
    if (engine.plan.scratchBytes > 0) this.scratch = engine.device.createBuffer(engine.plan.scratchBytes, 'device');
    this.program = engine.recordProgram(this.arena, this.scratch, false);
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

  private async run(feeds: Feeds): Promise<Map<string, Tensor>> {
    if (this.disposedFlag) throw new DisposedError('ExecutionContext');
    this.engine.check();
    const plan = this.engine.plan;
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
      const pt = plan.tensors.get(io.name);
      if (pt && t.size) this.arena.write(toGpuArray(t, io.gpu), pt.offset);
    }
    await this.program.submit(this.queue);
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

  get disposed(): boolean { return this.disposedFlag; }

  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    this.program.dispose();
    this.arena.dispose();
    this.scratch?.dispose();
    this.engine.forget(this);
  }
}
