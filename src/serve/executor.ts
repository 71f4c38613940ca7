/**
 * What the batcher runs a merged batch on: a {@link ModelExecutor}. The one here,
 * {@link FixedShapeExecutor}, works with today's fixed-shape engines: it builds one engine per
 * batch size actually used (lazily, cached; the sizes of ModelConfig.engine_batch_sizes), runs a
 * batch of `rows` on the smallest engine that holds it with the rows after them zeroed, and slices
 * the outputs back to `rows`. An engine with a dynamic-shape optimization profile can replace it
 * behind the same interface (run `rows` directly, one engine).
 */
import * as fs from 'fs';
import { Builder, Engine, ExecutionContext, Runtime } from '../api/session';
import type { Device } from '../gpu/device';
import type { DType } from '../ir/dtype';
import type { Model } from '../ir/graph';
import { Tensor } from '../ir/tensor';
import { parseModel } from '../onnx/parse';
import { ServeError } from './errors';
import type { RepositoryModel } from './repository';
import { concatRows, sliceRows } from './rows';

/** An input or output as the protocol describes it: dims with -1 for the batch dimension. */
export interface IoSpec {
  name: string;
  dtype: DType;
  dims: number[];
}

/** Runs batches of one model; see the file comment. */
export interface ModelExecutor {
  /** Inputs and outputs (dims with -1 for the batch dimension when maxBatch > 0). */
  readonly inputs: readonly IoSpec[];
  readonly outputs: readonly IoSpec[];
  /** Largest batch; 0: no batch dimension (every request gives the full shapes). */
  readonly maxBatch: number;
  /** Concurrent executions (instances). */
  readonly instances: number;
  /** Makes ready what a batch of `rows` needs (an engine build), so that execute() times only the run. */
  prepare(rows: number): Promise<void>;
  /**
   * Runs inputs whose first dimension is `rows` (maxBatch > 0; with maxBatch 0, `rows` is 0 and
   * the inputs have the model's shapes) on instance `instance` (0 <= instance < instances);
   * resolves to every output with first dimension `rows`.
   */
  execute(instance: number, inputs: Map<string, Tensor>, rows: number): Promise<Map<string, Tensor>>;
  /** The batch sizes engines exist for now (for logs and tests). */
  readonly builtSizes: readonly number[];
  dispose(): void;
}

interface EngineSet {
  size: number;
  engine: Engine;
  contexts: ExecutionContext[];
}

export interface ExecutorOptions {
  device: Device;
  /** Build log lines (engine builds, their times). */
  log?: (line: string) => void;
}

/** The default max_batch_size of an ONNX model whose inputs all have a symbolic first dimension. */
export const DEFAULT_MAX_BATCH = 8;

/** Fixed-shape engines, one per batch size; see the file comment. */
export class FixedShapeExecutor implements ModelExecutor {
  readonly inputs: IoSpec[];
  readonly outputs: IoSpec[] = [];
  readonly maxBatch: number;
  readonly instances: number;
  /** Engine batch sizes, ascending (for maxBatch 0: [0], the model's own shapes). */
  readonly sizes: number[];
  private readonly sets = new Map<number, Promise<EngineSet>>();
  private readonly done = new Map<number, EngineSet>();
  private builds: Promise<unknown> = Promise.resolve();
  private disposed = false;

  private constructor(
    private readonly model: RepositoryModel,
    private readonly options: ExecutorOptions,
    private readonly source: { kind: 'onnx'; bytes: Uint8Array } | { kind: 'engine'; engine: Engine },
    inputs: IoSpec[],
    maxBatch: number,
  ) {
    const c = model.config;
    this.inputs = inputs;
    this.maxBatch = maxBatch;
    this.instances = c.instance_count ?? 1;
    this.sizes = maxBatch === 0 ? [0]
      : source.kind === 'engine' ? [maxBatch]
        : [...new Set(c.engine_batch_sizes ?? [1, ...(c.preferred_batch_size ?? []), maxBatch])].filter((b) => b <= maxBatch).sort((a, b) => a - b);
    if (!this.sizes.includes(maxBatch)) this.sizes.push(maxBatch);
  }

  /**
   * Opens a repository model: reads it, settles its batch dimension and builds (or loads) the
   * engine of the smallest batch size, which gives the outputs.
   * @throws ServeError (500) naming the model for a model that cannot be served as configured.
   */
  static async open(model: RepositoryModel, options: ExecutorOptions): Promise<FixedShapeExecutor> {
    const where = `model '${model.name}' (${model.file})`;
    const c = model.config;
    const bytes = new Uint8Array(fs.readFileSync(model.file));
    let exec: FixedShapeExecutor;
    if (model.kind === 'engine') {
      if (c.fp16 !== undefined || c.engine_batch_sizes || c.input_shapes || c.optimization_level !== undefined || c.eager_engines !== undefined) {
        throw new ServeError(500, `${where}: fp16, engine_batch_sizes, eager_engines, input_shapes and optimization_level apply to ONNX models; an engine file was built with its own`);
      }
      const engine = Runtime.deserializeEngine(bytes, { device: options.device, file: model.file });
      try {
        const max = c.max_batch_size ?? 0;
        for (const io of [...engine.inputs, ...engine.outputs]) {
          if (max > 0 && io.dims[0] !== max) throw new ServeError(500, `${where}: max_batch_size ${max} needs every input and output to have first dimension ${max} (the engine's batch); '${io.name}' is [${io.dims.join(',')}]`);
        }
        const inputs = engine.inputs.map((i) => ({ name: i.name, dtype: i.dtype, dims: max > 0 ? [-1, ...i.dims.slice(1)] : [...i.dims] }));
        exec = new FixedShapeExecutor(model, options, { kind: 'engine', engine }, inputs, max);
      } catch (e) {
        engine.dispose();
        throw e;
      }
    } else {
      let graph: Model;
      try {
        graph = parseModel(bytes);
      } catch (e) {
        throw new ServeError(500, `${where}: ${(e as Error).message}`);
      }
      const g = graph.graph;
      const real = g.inputs.filter((n) => !g.initializers.has(n));
      const shapes = real.map((name) => ({ name, type: g.types.get(name) }));
      const batchable = shapes.every((s) => s.type?.shape && s.type.shape.length > 0 && typeof s.type.shape[0] !== 'number');
      const max = c.max_batch_size ?? (batchable ? DEFAULT_MAX_BATCH : 0);
      const unknown = Object.keys(c.input_shapes ?? {}).filter((n) => !real.includes(n));
      if (unknown.length) throw new ServeError(500, `${where}: input_shapes names '${unknown[0]}', which is not an input (inputs: ${real.join(', ')})`);
      const inputs: IoSpec[] = shapes.map(({ name, type }) => {
        if (!type?.shape) throw new ServeError(500, `${where}: input '${name}' has no declared shape`);
        const shape = type.shape;
        if (max > 0 && typeof shape[0] === 'number') {
          throw new ServeError(500, `${where}: max_batch_size ${max} needs a symbolic first (batch) dimension on every input; '${name}' is [${shape.join(',')}] (set max_batch_size 0 to serve it with its fixed shapes)`);
        }
        const rest = max > 0 ? shape.slice(1) : shape;
        const given = c.input_shapes?.[name];
        if (given && given.length !== rest.length) throw new ServeError(500, `${where}: input_shapes.${name} has ${given.length} dims; the input has ${rest.length}${max > 0 ? ' besides the batch dimension' : ''}`);
        const dims = rest.map((d, i) => {
          if (typeof d === 'number') {
            if (given && given[i] !== d) throw new ServeError(500, `${where}: input_shapes.${name}[${i}] is ${given[i]}; the model fixes it at ${d}`);
            return d;
          }
          if (!given) throw new ServeError(500, `${where}: input '${name}' has symbolic dimension '${d}'${max > 0 ? ' besides the batch dimension' : ''}; give its value in config.json input_shapes: { "${name}": [...] }`);
          return given[i];
        });
        return { name, dtype: type.dtype, dims: max > 0 ? [-1, ...dims] : dims };
      });
      exec = new FixedShapeExecutor(model, options, { kind: 'onnx', bytes }, inputs, max);
    }
    try {
      const first = await exec.engineSet(exec.sizes[0]);
      if (c.eager_engines) for (const size of exec.sizes) await exec.engineSet(size);
      const batch = exec.maxBatch > 0;
      exec.outputs.push(...first.engine.outputs.map((o) => ({ name: o.name, dtype: o.dtype, dims: batch ? [-1, ...o.dims.slice(1)] : [...o.dims] })));
      if (first.engine.plan.constantOutputs.size) {
        const [name] = [...first.engine.plan.constantOutputs.keys()];
        throw new ServeError(500, `${where}: output '${name}' is a constant of the model (folded at build time); serving needs every output computed from the inputs`);
      }
    } catch (e) {
      exec.dispose();
      throw e;
    }
    return exec;
  }

  get builtSizes(): readonly number[] {
    return [...this.done.keys()].sort((a, b) => a - b);
  }

  /** The engine size a batch of `rows` runs on. */
  sizeFor(rows: number): number {
    if (this.maxBatch === 0) return 0;
    const s = this.sizes.find((b) => b >= rows);
    if (s === undefined) throw new ServeError(400, `a batch of ${rows} is more than max_batch_size ${this.maxBatch} of model '${this.model.name}'`);
    return s;
  }

  async prepare(rows: number): Promise<void> {
    await this.engineSet(this.sizeFor(rows));
  }

  async execute(instance: number, inputs: Map<string, Tensor>, rows: number): Promise<Map<string, Tensor>> {
    const size = this.sizeFor(rows);
    const set = await this.engineSet(size);
    const ctx = set.contexts[instance];
    if (!ctx) throw new ServeError(500, `instance ${instance} of model '${this.model.name}' does not exist (instance_count ${this.instances})`);
    if (this.maxBatch === 0 || rows === size) return ctx.execute(inputs);
    const padded = new Map<string, Tensor>();
    for (const [name, t] of inputs) padded.set(name, concatRows([t], size));
    const out = await ctx.execute(padded);
    const sliced = new Map<string, Tensor>();
    for (const [name, t] of out) sliced.set(name, sliceRows(t, 0, rows));
    return sliced;
  }

  /** The engine (and its contexts) of one batch size, built once; builds run one at a time. */
  private engineSet(size: number): Promise<EngineSet> {
    if (this.disposed) return Promise.reject(new ServeError(503, `model '${this.model.name}' is unloaded`));
    let p = this.sets.get(size);
    if (!p) {
      p = this.builds.then(() => this.makeSet(size));
      this.builds = p.catch(() => undefined);
      this.sets.set(size, p);
      // a failed build is tried again by the next batch that needs it
      p.then((s) => this.done.set(size, s), () => this.sets.delete(size));
    }
    return p;
  }

  private async makeSet(size: number): Promise<EngineSet> {
    const t0 = performance.now();
    let engine: Engine;
    const src = this.source;
    const where = `model '${this.model.name}'`;
    if (src.kind === 'engine') {
      engine = src.engine;
    } else {
      const inputShapes = Object.fromEntries(this.inputs.map((i) => [i.name, this.maxBatch > 0 ? [size, ...i.dims.slice(1)] : i.dims]));
      const builder = new Builder(this.options.device);
      try {
        engine = await builder.buildEngineAsync(src.bytes, {
          inputShapes, fp16: this.model.config.fp16, optimizationLevel: this.model.config.optimization_level ?? 0,
        });
      } catch (e) {
        throw new ServeError(500, `${where}: building the engine for ${this.maxBatch > 0 ? `batch ${size}` : 'its shapes'} failed: ${(e as Error).message}`);
      } finally {
        builder.dispose();
      }
      if (this.maxBatch > 0) {
        const bad = engine.outputs.find((o) => o.dims[0] !== size);
        if (bad) {
          engine.dispose();
          throw new ServeError(500, `${where}: output '${bad.name}' is [${bad.dims.join(',')}] for batch ${size}; batching needs every output's first dimension to be the batch (set max_batch_size 0)`);
        }
      }
      this.options.log?.(`model '${this.model.name}': engine for ${this.maxBatch > 0 ? `batch ${size}` : 'its shapes'} built in ${(performance.now() - t0).toFixed(0)} ms`);
    }
    if (this.disposed) {
      engine.dispose();
      throw new ServeError(503, `model '${this.model.name}' is unloaded`);
    }
    const contexts = Array.from({ length: this.instances }, () => engine.createExecutionContext());
    return { size, engine, contexts };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.sets.values()) p.then((s) => s.engine.dispose(), () => undefined);
    if (this.source.kind === 'engine') this.source.engine.dispose();
  }
}
