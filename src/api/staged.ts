/**
 * Staged engines (docs/dynamic-shapes.md, "Data-dependent shapes" and "Host fallback"): a model
 * cut into GPU stages and host steps, run one after the other.
 *
 * - A node whose output shape depends on its input values (OpTraits.dataDependent: NonZero,
 *   Compress) ends its GPU stage: the stage runs its bounded twin (outputs at the upper bound plus
 *   a count, src/ops/tensor/bounded.ts), the counts are read back, the outputs trimmed, and the
 *   next stage is planned for the shapes that result.
 * - With `hostFallback`, a node the GPU cannot run (strings, sequences, no kernel, a shape no build
 *   can know) becomes a host step run by the CPU reference between GPU stages. Off (the default),
 *   such a node fails the build with the same UnsupportedError as buildEngine.
 * - A GPU stage is an ordinary engine (buildEngine) built for the concrete shapes of its inputs
 *   the first time a run meets them, and cached per shapes (an LRU per stage). When its build fails
 *   because a shape depends on a small input's value (a Range limit, a TopK k, a Reshape shape
 *   coming from a run-time input or an earlier stage), the stage is built again with those values
 *   as constants, cached per value.
 *
 * A model that needs neither is one GPU stage: exactly buildEngine's engine, built at once.
 * This is API-layer work (it builds engines at run time); the runtime stays free of the builder.
 */
import { InputError, UnsupportedError, VkrtError } from '../errors';
import { Device } from '../gpu/device';
import { Attrs } from '../ir/attrs';
import { Graph, Model, Node, type ValueType } from '../ir/graph';
import { resizeAlong, Tensor } from '../ir/tensor';
import { registry as defaultRegistry } from '../ops';
import { inferShapes } from '../ops/infer-shapes';
import { interpret } from '../ops/interpreter';
import type { OpRegistry } from '../ops/registry';
import type { RuntimeValue } from '../ops/types';
import { parseModel } from '../onnx/parse';
import { serializeModel } from '../onnx/serialize';
import type { ExecutionContext } from '../runtime/context';
import { Engine } from '../runtime/engine';
import { buildEngine, type EngineOptions } from './build';

/** Where a bounded twin lives (src/ops/tensor/bounded.ts). */
const BOUNDED_DOMAIN = 'vkrt';
/** GPU stage engines kept per stage (distinct input shapes or baked values). */
const STAGE_CACHE = 8;
/** A stage input of at most this many integer elements (or a scalar) may be baked into a rebuild. */
const BAKE_LIMIT = 64;

export interface StagedOptions extends EngineOptions {
  /** Run nodes the GPU cannot run on the CPU reference (default false: refuse them). */
  hostFallback?: boolean;
}

/** A node run on the host, and why. */
export interface FallbackNode {
  /** The node's name, or its first output when it has none. */
  node: string;
  opType: string;
  reason: string;
}

/** One stage as `inspect` and the build log show it. */
export interface StageInfo {
  kind: 'gpu' | 'host';
  /** Node labels (name or first output) with their op types. */
  nodes: string[];
  inputs: string[];
  outputs: string[];
  /** Outputs trimmed after the stage: name, axis. */
  trims: { output: string; axis: number }[];
}

/** A built GPU stage: its engine, a context, and the stage inputs it holds as constants. */
interface StageEngine { engine: Engine; ctx: ExecutionContext; baked: readonly string[] }

interface Trim { output: string; bounded: string; count: string; axis: number }

interface Stage {
  kind: 'gpu' | 'host';
  /** The source graph's nodes (before the bounded rewrite). */
  source: Node[];
  /** The nodes the stage runs (data-dependent nodes replaced by their bounded twins). */
  nodes: Node[];
  inputs: string[];
  outputs: string[];
  trims: Trim[];
  /** GPU: built engines by input shapes (and baked values); `bake` once a plain build needed it. */
  engines: Map<string, StageEngine>;
  bake: boolean;
  /** Host: the sub-model, made once. */
  model?: Model;
}

/** A build of one stage failed on nodes the host may take over. */
class StageRefusal extends Error {
  constructor(readonly nodes: Map<Node, string>, readonly error: VkrtError) {
    super(error.message);
  }
}

const label = (n: Node) => n.name || n.outputs.find((o) => o) || n.opType;
const opName = (n: Node) => (n.domain ? `${n.domain}::${n.opType}` : n.opType);
const boundedName = (o: string) => `${o}#bounded`;
const countName = (o: string) => `${o}#count`;

/** Names a node reads: its inputs and whatever its subgraphs take from outside. */
function reads(n: Node): string[] {
  return [...n.inputs.filter((i) => i), ...Graph.capturedNames(n)];
}

/**
 * A model cut into stages and run stage by stage (see the file comment). Make it with
 * {@link buildStagedEngine} or {@link StagedEngine.deserialize}.
 */
export class StagedEngine {
  private stages: Stage[] = [];
  private readonly host = new Map<Node, string>();
  private readonly registry: OpRegistry;
  private readonly graph: Graph;
  private disposed = false;
  private readonly held: boolean;
  private turn: Promise<void> = Promise.resolve();

  private constructor(private readonly model: Model, private readonly options: StagedOptions, readonly device: Device, private readonly ownsDevice: boolean) {
    this.registry = options.registry ?? defaultRegistry;
    this.graph = model.graph;
    // its stage engines come and go: the staged engine itself keeps a held device open
    this.held = !!options.holdDevice && !ownsDevice;
    if (this.held) device.retain();
    if (!this.graph.isSorted()) this.graph.topoSort();
  }

  /** Partitions the model; builds the first GPU stage at once when its input shapes are known. */
  static build(model: Model, options: StagedOptions = {}, hostNodes?: readonly { output: string; reason: string }[]): StagedEngine {
    if (options.profiles?.length) throw new InputError('optimization profiles and staged engines (data-dependent shapes, host fallback) do not combine yet: give fixed input shapes (inputShapes)');
    const device = options.device ?? Device.create();
    const se = new StagedEngine(model, options, device, !options.device);
    try {
      if (hostNodes) {
        const prod = se.producers();
        for (const h of hostNodes) {
          const n = prod.get(h.output);
          if (!n) throw new InputError(`the staged engine names host node output '${h.output}', which the model does not produce`);
          se.host.set(n, h.reason);
        }
      } else if (options.hostFallback) {
        se.markStaticHostNodes();
        for (const f of se.fallbackNodes) options.log?.(`host fallback: ${f.node} (${f.opType}) runs on the CPU reference: ${f.reason}`);
      }
      se.partition();
      se.buildEager();
      return se;
    } catch (e) {
      se.dispose();
      throw e;
    }
  }

  /** The model the stages were cut from. */
  get sourceModel(): Model {
    return this.model;
  }

  /** Whether host fallback is on. */
  get hostFallback(): boolean {
    return !!this.options.hostFallback;
  }

  /** The nodes that run on the host, with the reason each could not run on the GPU. */
  get fallbackNodes(): FallbackNode[] {
    return this.graph.nodes.filter((n) => this.host.has(n)).map((n) => ({ node: label(n), opType: opName(n), reason: this.host.get(n)! }));
  }

  /** The stages, in run order. */
  get stageInfo(): StageInfo[] {
    return this.stages.map((s) => ({
      kind: s.kind,
      nodes: s.source.map((n) => `${label(n)} (${opName(n)})`),
      inputs: s.inputs.slice(),
      outputs: s.outputs.slice(),
      trims: s.trims.map((t) => ({ output: t.output, axis: t.axis })),
    }));
  }

  /** The GPU engines built so far (one per stage and input shapes). */
  get builtEngines(): number {
    return this.stages.reduce((a, s) => a + s.engines.size, 0);
  }

  /** The staged engine's description, one line each (build log, `vkrt inspect`). */
  describe(): string[] {
    const lines = [`staged engine: ${this.stages.length} stage(s), ${this.stages.filter((s) => s.kind === 'gpu').length} on the GPU, ${this.host.size} node(s) on the host (host fallback ${this.hostFallback ? 'on' : 'off'})`];
    this.stages.forEach((s, k) => {
      lines.push(`  stage ${k} (${s.kind}): ${s.source.length} node(s); in: ${s.inputs.join(', ') || '-'}; out: ${s.outputs.join(', ') || '-'}`);
      for (const t of s.trims) lines.push(`    output '${t.output}' trimmed along axis ${t.axis} to the count the GPU wrote`);
    });
    for (const f of this.fallbackNodes) lines.push(`  fallback: ${f.node} (${f.opType}) runs on the host: ${f.reason}`);
    return lines;
  }

  /** Runs the model: every stage in order. Returns the graph outputs by name. */
  async execute(feeds: Map<string, RuntimeValue> | Record<string, RuntimeValue>): Promise<Map<string, RuntimeValue>> {
    if (this.disposed) throw new InputError('the staged engine is disposed');
    const given = feeds instanceof Map ? feeds : new Map(Object.entries(feeds));
    for (const name of this.graph.inputs) {
      if (!given.has(name) && !this.graph.initializers.has(name)) throw new InputError(`input '${name}' is missing; the model's inputs are ${this.graph.inputs.filter((i) => !this.graph.initializers.has(i)).join(', ')}`);
    }
    // one run at a time: a run may cut the graph again (host fallback) and builds stage engines
    const turn = this.turn.then(async () => {
      for (;;) {
        try {
          return await this.run(given);
        } catch (e) {
          if (!(e instanceof StageRefusal)) throw e;
          this.takeOver(e);
        }
      }
    });
    this.turn = turn.then(() => undefined, () => undefined);
    return turn;
  }

  /** A staged engine file: the stage structure, the source model and every GPU stage engine built so far. */
  serialize(): Uint8Array {
    const onnx = serializeModel(this.model);
    const engines: StagedHeader['engines'] = [];
    const blobs: Uint8Array[] = [onnx];
    let offset = onnx.byteLength;
    this.stages.forEach((s, k) => {
      for (const [key, { engine }] of s.engines) {
        const b = engine.serialize();
        engines.push({ stage: k, key, baked: [...this.stages[k].engines.get(key)!.baked], offset, bytes: b.byteLength });
        blobs.push(b);
        offset += b.byteLength;
      }
    });
    const header = {
      version: 1,
      hostFallback: this.hostFallback,
      options: { paramMode: this.options.paramMode, fp16: this.options.fp16, fusion: this.options.fusion, inputShapes: this.options.inputShapes },
      host: this.graph.nodes.filter((n) => this.host.has(n)).map((n) => ({ output: n.outputs.find((o) => o)!, node: label(n), opType: opName(n), reason: this.host.get(n)! })),
      stages: this.stageInfo.map((s, k) => ({ ...s, bake: this.stages[k].bake })),
      onnxBytes: onnx.byteLength,
      engines,
    };
    const head = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(STAGED_MAGIC.length + 4 + head.byteLength + offset);
    out.set(STAGED_MAGIC, 0);
    new DataView(out.buffer).setUint32(STAGED_MAGIC.length, head.byteLength, true);
    out.set(head, STAGED_MAGIC.length + 4);
    let at = STAGED_MAGIC.length + 4 + head.byteLength;
    for (const b of blobs) { out.set(b, at); at += b.byteLength; }
    return out;
  }

  /** Loads a staged engine file (see {@link serialize}); its GPU stage engines go on `options.device`. */
  static deserialize(bytes: Uint8Array, options: StagedOptions & { file?: string } = {}): StagedEngine {
    const h = readStagedHeader(bytes, options.file);
    const body = bytes.subarray(h.bodyOffset);
    const model = parseModel(body.subarray(0, h.header.onnxBytes));
    const se = StagedEngine.build(model, { ...options, ...h.header.options, hostFallback: h.header.hostFallback }, h.header.host);
    try {
      for (const e of h.header.engines) {
        const stage = se.stages[e.stage];
        if (!stage || stage.kind !== 'gpu') throw new InputError(`${options.file ?? 'staged engine file'}: engine ${e.key} names stage ${e.stage}, which is not a GPU stage`);
        if (stage.engines.has(e.key)) continue;
        const engine = Engine.deserialize(body.subarray(e.offset, e.offset + e.bytes), { device: se.device, file: options.file, registry: options.registry });
        stage.engines.set(e.key, { engine, ctx: engine.createExecutionContext(), baked: e.baked });
      }
      se.stages.forEach((s, k) => { s.bake = !!h.header.stages[k]?.bake; });
      return se;
    } catch (e) {
      se.dispose();
      throw e;
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.stages) for (const { engine } of s.engines.values()) engine.dispose();
    this.stages = [];
    if (this.ownsDevice && !this.device.disposed) this.device.dispose();
    if (this.held) this.device.release();
  }

  // --- partition -------------------------------------------------------------------------

  private producers(): Map<string, Node> {
    const m = new Map<string, Node>();
    for (const n of this.graph.nodes) for (const o of n.outputs) if (o) { m.set(o, n); m.set(boundedName(o), n); }
    return m;
  }

  private dataDependent(n: Node): { bounded: string; outputs: number; axis: (attrs: Attrs, output: number) => number } | undefined {
    const dd = this.registry.traits(n).dataDependent;
    if (!dd || !this.registry.get(BOUNDED_DOMAIN, dd.bounded)) return undefined;
    return { bounded: dd.bounded, outputs: dd.outputs, axis: (a, k) => dd.trimAxis(a, k) };
  }

  /** Host fallback: nodes that read or write values the GPU never holds (sequences, optionals, strings). */
  private markStaticHostNodes(): void {
    const inputTypes = new Map<string, ValueType>();
    for (const i of this.graph.inputs) {
      const t = this.graph.types.get(i);
      if (t) inputTypes.set(i, t);
    }
    let types: Map<string, ValueType>;
    try {
      types = inferShapes(this.graph, this.model.opsets, { registry: this.registry, fold: false, inputTypes }).types;
    } catch {
      types = this.graph.types;
    }
    for (const n of this.graph.nodes) {
      const stringIds = this.registry.traits(n).stringIds;
      for (const v of [...n.inputs, ...n.outputs]) {
        const t = v ? types.get(v) : undefined;
        if (!t) continue;
        if (t.kind === 'sequence' || t.kind === 'optional') { this.host.set(n, `'${v}' is a ${t.kind}, which the GPU engine does not hold`); break; }
        if (t.dtype === 'string' && !stringIds) { this.host.set(n, `'${v}' has dtype string, which the GPU does not hold`); break; }
      }
    }
  }

  /**
   * Levels: GPU stages are even, host steps odd. A GPU node runs at the first even level where its
   * inputs exist; a data-dependent node's outputs exist one level later (after the trim); a host
   * node runs at the first odd level where its inputs exist, its outputs ready for the next GPU stage.
   */
  private partition(): void {
    const avail = new Map<string, number>();
    const levels = new Map<number, Node[]>();
    for (const n of this.graph.nodes) {
      let l = 0;
      for (const i of reads(n)) l = Math.max(l, avail.get(i) ?? 0);
      const host = this.host.has(n);
      if (host ? l % 2 === 0 : l % 2 === 1) l++;
      const ready = !host && this.dataDependent(n) ? l + 1 : l;
      for (const o of n.outputs) if (o) avail.set(o, ready);
      let list = levels.get(l);
      if (!list) levels.set(l, (list = []));
      list.push(n);
    }
    const order = [...levels.keys()].sort((a, b) => a - b);
    const stageOf = new Map<Node, number>();
    order.forEach((l, k) => { for (const n of levels.get(l)!) stageOf.set(n, k); });
    const readBy = new Map<string, Set<number>>();
    for (const c of this.graph.nodes) {
      for (const i of reads(c)) {
        let set = readBy.get(i);
        if (!set) readBy.set(i, (set = new Set()));
        set.add(stageOf.get(c)!);
      }
    }
    const graphOutputs = new Set(this.graph.outputs);
    const usedLater = (o: string, k: number) => graphOutputs.has(o) || [...(readBy.get(o) ?? [])].some((j) => j !== k);
    const old = this.stages;
    this.stages = order.map((l, k) => {
      const source = levels.get(l)!;
      const kind: 'gpu' | 'host' = l % 2 === 0 ? 'gpu' : 'host';
      const trims: Trim[] = [];
      const nodes = source.map((n) => {
        const dd = kind === 'gpu' ? this.dataDependent(n) : undefined;
        if (!dd) return n;
        // outputs at their bound, then one count per output ('' stays absent in both halves)
        const attrs = new Attrs(n);
        n.outputs.forEach((o, k) => { if (o) trims.push({ output: o, bounded: boundedName(o), count: countName(o), axis: dd.axis(attrs, k) }); });
        // every output named (an absent one gets a name nothing reads), so the twin's kernel binds them all
        const all = Array.from({ length: Math.max(n.outputs.length, dd.outputs) }, (_, k) => n.outputs[k] || `${label(n)}#absent${k}`);
        const outputs = [...all.map(boundedName), ...all.map(countName)];
        return new Node({ name: n.name, opType: dd.bounded, domain: BOUNDED_DOMAIN, inputs: n.inputs, outputs, attrs: n.attrs });
      });
      const produced = new Set(nodes.flatMap((n) => n.outputs.filter((o) => o)));
      const inputs = [...new Set(nodes.flatMap(reads))].filter((i) => !produced.has(i) && (!this.graph.initializers.has(i) || this.graph.inputs.includes(i)));
      const outputs = [...produced].filter((o) => trims.some((t) => t.bounded === o || t.count === o) || (!o.endsWith('#count') && usedLater(o, k)));
      const same = old.find((s) => s.kind === kind && s.source.length === source.length && s.source.every((n, j) => n === source[j]));
      return { kind, source, nodes, inputs, outputs, trims, engines: same?.engines ?? new Map(), bake: same?.bake ?? false };
    });
    // the whole model as one GPU stage takes the graph's inputs, read or not, as buildEngine's engine does
    if (this.stages.length === 1 && this.stages[0].kind === 'gpu' && !this.stages[0].trims.length) {
      this.stages[0].inputs = this.graph.inputs.filter((i) => !this.graph.initializers.has(i));
    }
    for (const s of old) if (!this.stages.some((t) => t.engines === s.engines)) for (const { engine } of s.engines.values()) engine.dispose();
  }

  /** The sub-model of a stage: its nodes, the initializers they read, `inputs` typed by `types`. */
  private subModel(s: Stage, types: Map<string, ValueType>, baked?: Map<string, Tensor>): Model {
    // the whole model as one GPU stage: the model itself, as buildEngine would get it
    if (this.stages.length === 1 && s.kind === 'gpu' && !s.trims.length && !baked?.size) return this.model;
    const g = new Graph(`${this.graph.name}_stage`);
    g.nodes = s.nodes;
    g.inputs = s.inputs.filter((i) => !baked?.has(i));
    g.outputs = s.outputs.slice();
    // the source's declared types of what the stage computes (ONNX value_info, output types), then its inputs' actual ones
    for (const n of s.nodes) for (const o of n.outputs) { const t = o ? this.graph.types.get(o) : undefined; if (t) g.types.set(o, t); }
    for (const i of g.inputs) { const t = types.get(i); if (t) g.types.set(i, t); }
    for (const [k, v] of baked ?? []) g.initializers.set(k, v);
    for (const n of s.nodes) for (const i of reads(n)) { const t = this.graph.initializers.get(i); if (t && !s.inputs.includes(i)) g.initializers.set(i, t); }
    const m = new Model(g);
    Object.assign(m, { ...this.model, graph: g, opsets: new Map(this.model.opsets), metadata: new Map(this.model.metadata), functions: this.model.functions.slice() });
    if (s.trims.length) m.opsets.set(BOUNDED_DOMAIN, 1);
    return m;
  }

  /**
   * A model that is one GPU stage, its input shapes known: built now, so that a refusal fails the
   * build as buildEngine's does (unless the stage has small inputs whose values may size it: then
   * the first run decides, baking them when it must).
   */
  private buildEager(): void {
    const first = this.stages[0];
    if (this.stages.length !== 1 || this.options.hostFallback || first.kind !== 'gpu' || first.engines.size) return;
    const shapes = new Map<string, Tensor>();
    for (const i of first.inputs) {
      const given = this.options.inputShapes?.[i];
      const t = this.graph.types.get(i);
      const dims = given ?? (t?.shape?.every((d) => typeof d === 'number') ? (t.shape as number[]) : undefined);
      if (!t || !dims || (t.kind && t.kind !== 'tensor')) return;
      shapes.set(i, Tensor.zeros(t.dtype, dims));
    }
    try {
      this.stageEngine(first, shapes, false);
    } catch (e) {
      if (!bakeableOf(shapes).size || !valueBound(e) || !this.gpuOnly(first.nodes)) throw e;
    }
  }

  // --- run -------------------------------------------------------------------------------

  private async run(feeds: Map<string, RuntimeValue>): Promise<Map<string, RuntimeValue>> {
    const values = new Map<string, RuntimeValue>(feeds);
    for (const s of this.stages) {
      const ins = new Map<string, RuntimeValue>();
      for (const i of s.inputs) {
        const v = values.has(i) ? values.get(i) : this.graph.initializers.get(i); // null: an empty optional
        if (v === undefined) throw new InputError(`stage input '${i}' has no value`);
        ins.set(i, v);
      }
      let out: Map<string, RuntimeValue>;
      if (s.kind === 'host') {
        s.model ??= this.subModel(s, new Map([...s.inputs].flatMap((i) => { const t = this.graph.types.get(i); return t ? [[i, t] as const] : []; })));
        out = interpret(s.model, ins, { registry: this.registry });
      } else {
        const tensors = new Map<string, Tensor>();
        for (const [k, v] of ins) {
          if (!(v instanceof Tensor)) throw new InputError(`'${k}' is a sequence or optional; the GPU engine takes tensors only${this.hostFallback ? '' : ' (host fallback runs the nodes that take it on the CPU: BuilderConfig.hostFallback, --hostFallback)'}`);
          tensors.set(k, v);
        }
        const { ctx, baked } = this.stageEngine(s, tensors, true);
        for (const b of baked) tensors.delete(b);
        out = await ctx.execute(tensors);
        for (const t of s.trims) {
          const bounded = out.get(t.bounded) as Tensor;
          const count = Number((out.get(t.count) as Tensor).data[0]);
          out.set(t.output, trimAlong(bounded, t.axis < 0 ? t.axis + bounded.rank : t.axis, count));
        }
      }
      for (const [k, v] of out) values.set(k, v);
    }
    const result = new Map<string, RuntimeValue>();
    for (const o of this.graph.outputs) {
      const v = values.has(o) ? values.get(o) : this.graph.initializers.get(o);
      if (v === undefined) throw new InputError(`graph output '${o}' was not computed`);
      result.set(o, v);
    }
    return result;
  }

  /** The stage's engine for these inputs: cached, else built (baking small inputs when a plain build cannot size the stage). */
  private stageEngine(s: Stage, inputs: Map<string, Tensor>, running: boolean): StageEngine {
    const bakeable = bakeableOf(inputs);
    const shapeKey = [...inputs].map(([k, t]) => `${k}:${t.dtype}:${t.dims.join('x')}`).join(';');
    const valueKey = () => [...bakeable].map(([k, t]) => `${k}=${Array.from(t.data as ArrayLike<unknown>, String).join(',')}`).join(';');
    const hit = (key: string) => {
      const e = s.engines.get(key);
      if (e) { s.engines.delete(key); s.engines.set(key, e); }
      return e;
    };
    if (s.bake && bakeable.size) {
      const key = `${shapeKey}|${valueKey()}`;
      return hit(key) ?? this.buildStage(s, inputs, key, bakeable, running);
    }
    const cached = hit(shapeKey);
    if (cached) return cached;
    try {
      return this.buildStage(s, inputs, shapeKey, undefined, running);
    } catch (e) {
      if (!bakeable.size || !running || !valueBound(e) || !this.gpuOnly(s.nodes)) throw e;
      const first = e;
      try {
        const key = `${shapeKey}|${valueKey()}`;
        const built = this.buildStage(s, inputs, key, bakeable, running);
        if (!built.engine.plan.layers.length) {
          // the values made the whole stage a constant: the CPU computed it at build time, which
          // is not GPU work (host fallback is the honest name for that)
          s.engines.delete(key);
          built.engine.dispose();
          throw first;
        }
        s.bake = true;
        this.options.log?.(`staged engine: stage ${this.stages.indexOf(s)} built with the values of ${[...bakeable.keys()].join(', ')} as constants (its shapes depend on them); it is built again for other values`);
        return built;
      } catch {
        throw first;
      }
    }
  }

  /**
   * Every node has a GPU realization (a kernel, a view, a fold from shapes alone, no inputs, or a
   * subgraph whose nodes do): baking values into such a stage specializes GPU work, while a stage
   * with a node that has none would only get it folded on the CPU at build time, which is host
   * fallback by another name (and only with hostFallback does the host take nodes).
   */
  private gpuOnly(nodes: readonly Node[]): boolean {
    return nodes.every((n) => {
      const def = this.registry.get(n.domain, n.opType);
      if (!def) return false;
      const graphs = [...n.attrs.values()].flatMap((a) => (a.type === 'graph' ? [a.value as Graph] : a.type === 'graphs' ? (a.value as Graph[]) : []));
      if (graphs.length) return graphs.every((g) => this.gpuOnly(g.nodes));
      return !!def.kernel || !!def.view || !!def.traits?.shapeOnly || n.inputs.every((i) => !i);
    });
  }

  private buildStage(s: Stage, inputs: Map<string, Tensor>, key: string, baked: Map<string, Tensor> | undefined, running: boolean): StageEngine {
    const types = new Map<string, ValueType>([...inputs].map(([k, t]) => [k, { kind: 'tensor', dtype: t.dtype, shape: [...t.dims] }]));
    const model = this.subModel(s, types, baked);
    const inputShapes = Object.fromEntries([...inputs].filter(([k]) => !baked?.has(k)).map(([k, t]) => [k, [...t.dims]]));
    let engine: Engine;
    try {
      engine = buildEngine(model, { ...this.options, device: this.device, inputShapes, profiles: undefined, hostFallback: false });
    } catch (e) {
      if (running && this.hostFallback && e instanceof VkrtError) {
        const nodes = this.refusedNodes(e);
        if (nodes.size) throw new StageRefusal(nodes, e);
      }
      throw e;
    }
    const entry: StageEngine = { engine, ctx: engine.createExecutionContext(), baked: [...(baked?.keys() ?? [])] };
    s.engines.set(key, entry);
    while (s.engines.size > STAGE_CACHE) {
      const [k0, e0] = s.engines.entries().next().value as [string, StageEngine];
      s.engines.delete(k0);
      e0.engine.dispose();
    }
    return entry;
  }

  /** The source nodes a failed stage build names (and not yet on the host), with the reasons. */
  private refusedNodes(e: VkrtError): Map<Node, string> {
    const prod = this.producers();
    const out = new Map<Node, string>();
    const add = (output: string | undefined, reason: string) => {
      const n = output ? prod.get(output) : undefined;
      if (!n || this.host.has(n)) return;
      // an op with no GPU realization at all says so, whatever the build tripped on first
      const def = this.registry.get(n.domain, n.opType);
      const none = !def || (!def.kernel && !def.view && !def.traits?.shapeOnly && !def.traits?.dataDependent);
      out.set(n, none && !/no GPU kernel|not implemented/.test(reason) ? `no GPU kernel (${reason})` : reason);
    };
    if (e instanceof UnsupportedError && e.refused) for (const r of e.refused) add(r.output, r.reason);
    const node = (e as { node?: unknown }).node;
    if (node instanceof Node) add(node.outputs.find((o) => o), e.message.replace(/^node '[^']*' \([^)]*\): /, '').split('\n')[0]);
    if (!out.size && e.code === 'SHAPE') {
      // a shape the build cannot know: the tensor's producer runs on the host, which knows every shape
      const m = /the shape of '([^']+)' is not known/.exec(e.message);
      if (m) add(m[1], e.message.split('\n')[0]);
    }
    return out;
  }

  private takeOver(r: StageRefusal): void {
    for (const [n, reason] of r.nodes) {
      this.host.set(n, reason);
      this.options.log?.(`host fallback: ${label(n)} (${opName(n)}) runs on the CPU reference: ${reason}`);
    }
    this.partition();
  }
}

/**
 * The build failed because a shape or a trip count hangs on a value it does not know (not because a
 * kernel refused): the failure baking the stage's small inputs can cure.
 */
function valueBound(e: unknown): boolean {
  const err = e instanceof StageRefusal ? e.error : e;
  if (!(err instanceof VkrtError)) return false;
  const bound = /only known at run time|not known at build time|known when the engine is built/;
  if (err instanceof UnsupportedError && err.refused?.length) return err.refused.every((r) => bound.test(r.reason));
  return err.code === 'SHAPE' || bound.test(err.message);
}

/** Stage inputs whose values a rebuild may take as constants: small integer tensors and scalars. */
function bakeableOf(inputs: Map<string, Tensor>): Map<string, Tensor> {
  return new Map([...inputs].filter(([, t]) => (t.size <= BAKE_LIMIT && /int|bool/.test(t.dtype)) || (t.size === 1 && t.dtype !== 'string')));
}

/** `t` cut to `len` along `axis`. */
function trimAlong(t: Tensor, axis: number, len: number): Tensor {
  const have = t.dims[axis];
  if (!(len >= 0 && len <= have)) throw new InputError(`a data-dependent output's count ${len} is outside [0, ${have}]`);
  return resizeAlong(t, axis, len);
}

const STAGED_MAGIC = new TextEncoder().encode('VKRTSTG1');

interface StagedHeader {
  version: number;
  hostFallback: boolean;
  options: Pick<StagedOptions, 'paramMode' | 'fp16' | 'fusion' | 'inputShapes'>;
  host: { output: string; node: string; opType: string; reason: string }[];
  stages: (StageInfo & { bake: boolean })[];
  onnxBytes: number;
  engines: { stage: number; key: string; baked: string[]; offset: number; bytes: number }[];
}

/** True when `bytes` start like a staged engine file. */
export function isStagedEngineFile(bytes: Uint8Array): boolean {
  return bytes.byteLength >= STAGED_MAGIC.length && STAGED_MAGIC.every((b, i) => bytes[i] === b);
}

/** The header of a staged engine file (for `vkrt inspect`), checked against the file's length. */
export function readStagedHeader(bytes: Uint8Array, file = 'staged engine file'): { header: StagedHeader; bodyOffset: number } {
  if (!isStagedEngineFile(bytes)) throw new InputError(`${file}: not a staged engine file`);
  const bad = (why: string) => new InputError(`${file}: ${why}; write the file again with StagedEngine.serialize (vkrt exec --saveEngine)`);
  if (bytes.byteLength < STAGED_MAGIC.length + 4) throw bad('truncated');
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(STAGED_MAGIC.length, true);
  const bodyOffset = STAGED_MAGIC.length + 4 + len;
  if (bodyOffset > bytes.byteLength) throw bad('truncated header');
  let header: StagedHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(STAGED_MAGIC.length + 4, bodyOffset))) as StagedHeader;
  } catch {
    throw bad('corrupt header');
  }
  if (header.version !== 1) throw bad(`version ${header.version} is not one this vkrt reads (1)`);
  const body = bytes.byteLength - bodyOffset;
  if (!(header.onnxBytes > 0 && header.onnxBytes <= body) || !Array.isArray(header.engines) || !Array.isArray(header.host) || !Array.isArray(header.stages)) throw bad('corrupt header');
  for (const e of header.engines) if (!(Array.isArray(e.baked) && e.offset >= header.onnxBytes && e.bytes > 0 && e.offset + e.bytes <= body)) throw bad(`engine of stage ${e.stage} lies outside the file`);
  return { header, bodyOffset };
}

/** Whether the model has a node whose output shape depends on values and that has a GPU twin (it needs a staged engine). */
export function hasDataDependentNodes(model: Model, registry: OpRegistry = defaultRegistry): boolean {
  return model.graph.nodes.some((n) => {
    const dd = registry.traits(n).dataDependent;
    return !!dd && !!registry.get(BOUNDED_DOMAIN, dd.bounded);
  });
}

/**
 * Whether ONNX bytes may hold a data-dependent node: the op type names of such ops appear in them
 * (a cheap test before parsing; a false positive only costs the parse).
 */
export function mayHaveDataDependentNodes(onnx: Uint8Array, registry: OpRegistry = defaultRegistry): boolean {
  const names = registry.list().filter((d) => d.traits?.dataDependent).map((d) => Buffer.from(d.opType, 'latin1'));
  const buf = Buffer.from(onnx.buffer, onnx.byteOffset, onnx.byteLength);
  return names.some((n) => buf.includes(n));
}

/** Builds a staged engine (see the file comment): `buildEngine` for models with data-dependent shapes or host fallback. */
export function buildStagedEngine(model: Model, options: StagedOptions = {}): StagedEngine {
  return StagedEngine.build(model, options);
}
