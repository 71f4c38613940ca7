/**
 * Refit on the builder's side: what a refittable build records (RefitRecord: the source graph, its
 * floating-point initializers by name, the build options), and the replan that applies new weights.
 *
 * A refit builds the plan again from the recorded graph with the new initializer values, with the
 * same options and each layer's kernel pinned to the one the engine has, then checks that the new
 * plan differs from the engine's in weight bytes only (same layers, dispatches, parameters, tensor
 * slots). Every build-time weight transform (BatchNormalization and Scale folding into the Conv,
 * Gemm/Conv weight re-layout into kernel weights, FP16 conversion, constant folding, horizontal
 * merges) therefore runs again through the same code, so a refitted engine computes exactly what a
 * rebuild with the new weights would. A value the build folded into something other than weight
 * bytes (a Clip bound that became a kernel parameter, a shape tensor) makes the plans differ; the
 * refit is then refused with a RefitError naming the weights and the layer.
 */
import { RefitError } from '../errors';
import { Graph, Model } from '../ir/graph';
import { Tensor } from '../ir/tensor';
import type { DeviceCaps } from '../kernel/contract';
import type { EnginePlan, PlannedLayer, RefitRecord, RefitWeight } from '../kernel/plan';
import { parseModel } from '../onnx/parse';
import { serializeModel } from '../onnx/serialize';
import type { PluginDef } from '../plugins/types';
import type { BuilderConfig } from './config';
import type { KernelSelection } from './selection';

/** Initializer dtypes a refit may replace (integer initializers are shapes, indices, axes). */
const REFITTABLE = new Set(['float32', 'float16', 'bfloat16', 'float64']);

/** Plugin definitions given to a refittable build in code (not storable in the engine file). */
const buildPlugins = new WeakMap<RefitRecord, readonly PluginDef[]>();

/** The refit record of a build: the model (before any rewriting) and the options. */
export function makeRefitRecord(model: Model, config: BuilderConfig, plugins: readonly PluginDef[]): RefitRecord {
  const g = model.graph;
  const weights: RefitWeight[] = [];
  const values = new Map<string, Tensor>();
  for (const [name, t] of g.initializers) {
    if (!REFITTABLE.has(t.dtype)) continue;
    weights.push({ name, dtype: t.dtype, dims: [...t.dims] });
    values.set(name, t);
  }
  // The graph without the refittable initializers' bytes: each becomes a graph input of its type
  // (a valid ONNX graph); replan() turns them back into initializers with the current values.
  const saved = g.initializers, savedInputs = g.inputs, savedTypes = g.types;
  try {
    g.initializers = new Map([...saved].filter(([n]) => !values.has(n)));
    g.inputs = [...savedInputs, ...weights.map((w) => w.name).filter((n) => !savedInputs.includes(n))];
    g.types = new Map(savedTypes);
    for (const w of weights) g.types.set(w.name, { kind: 'tensor', dtype: w.dtype, shape: [...w.dims] });
    const bytes = new Uint8Array(serializeModel(model)); // a plain copy (protobufjs gives a Buffer)
    const c = config;
    const record: RefitRecord = {
      weights, values, model: bytes,
      config: {
        inputShapes: c.inputShapes ? Object.fromEntries(Object.entries(c.inputShapes).map(([k, v]) => [k, [...v]])) : undefined,
        paramMode: c.paramMode, fusion: c.fusion, fp16: c.fp16, fp32Layers: c.fp32Layers ? [...c.fp32Layers] : undefined,
        cooperativeMatrix: c.cooperativeMatrix,
        ...(c.limits ? { limits: { ...c.limits } } : {}),
      },
    };
    if (plugins.length) buildPlugins.set(record, plugins);
    return record;
  } finally {
    g.initializers = saved;
    g.inputs = savedInputs;
    g.types = savedTypes;
  }
}

/** Parsed source graphs, per record bytes (a refit parses the stored ONNX once). */
const parsed = new WeakMap<Uint8Array, Model>();

/** The source model with the given initializer values (the record's, overridden by `updates`). */
export function sourceModel(record: RefitRecord, updates: ReadonlyMap<string, Tensor>): Model {
  let base = parsed.get(record.model);
  if (!base) {
    base = parseModel(record.model);
    parsed.set(record.model, base);
  }
  const g0 = base.graph;
  const names = new Set(record.weights.map((w) => w.name));
  // A copy of the graph's containers: the nodes are shared (the builder copies before rewriting).
  const g = new Graph(g0.name, g0.parent);
  g.nodes = g0.nodes.slice();
  g.inputs = g0.inputs.filter((n) => !names.has(n));
  g.outputs = g0.outputs.slice();
  g.initializers = new Map(g0.initializers);
  for (const w of record.weights) g.initializers.set(w.name, updates.get(w.name) ?? record.values.get(w.name)!);
  g.types = new Map(g0.types);
  const m = new Model(g);
  Object.assign(m, { ...base, graph: g, opsets: new Map(base.opsets) });
  return m;
}

/** A selection policy that picks, for each layer name, the kernel the engine has. */
function pinnedSelection(plan: EnginePlan): KernelSelection {
  const byLayer = new Map(plan.layers.map((l) => [l.name, l.kernel]));
  return {
    name: 'refit (kernels of the engine)',
    choose: (r) => {
      const want = byLayer.get(r.node.name || r.node.outputs[0]);
      return r.candidates.find((c) => c.name === want) ?? r.candidates[0];
    },
  };
}

/** What build function a replan calls (builder.ts's buildPlan; passed in to avoid an import cycle). */
export type PlanFn = (model: Model, caps: DeviceCaps & { alignment: number }, config: BuilderConfig) => EnginePlan;

/**
 * The plan of the engine's source graph with `updates` applied, checked to differ from `plan` in
 * weight bytes only.
 * @throws RefitError naming the plugins a replan needs, or the weights that change more than bytes.
 */
export function replan(plan: EnginePlan, caps: DeviceCaps & { alignment: number }, updates: ReadonlyMap<string, Tensor>, build: PlanFn, base: BuilderConfig = {}): EnginePlan {
  const record = plan.refit;
  if (!record) throw new RefitError('the engine was not built refittable; build it with BuilderConfig.refittable (vkrt exec --refit)');
  const config: BuilderConfig = {
    ...base, ...record.config, refittable: false, selection: pinnedSelection(plan),
    plugins: [...(base.plugins ?? []), ...(buildPlugins.get(record) ?? [])],
  };
  const attempt = (u: ReadonlyMap<string, Tensor>): { plan: EnginePlan; diff?: string } => {
    let next: EnginePlan;
    try {
      next = build(sourceModel(record, u), caps, config);
    } catch (e) {
      const missing = (plan.plugins ?? []).map((p) => `'${p.name}' (version ${p.version})`);
      const hint = missing.length ? ` (the engine runs plugin(s) ${missing.join(', ')}: a refit runs their shape functions and kernels again, so they must be registered or given in BuilderConfig.plugins)` : '';
      throw new RefitError(`building the plan with the new weights failed: ${(e as Error).message}${hint}`);
    }
    return { plan: next, diff: planDifference(plan, next) };
  };
  const first = attempt(updates);
  if (!first.diff) return first.plan;
  // Name the culprits: each changed weight alone (only on this failure path).
  const changed = [...updates.keys()];
  const culprits = changed.length === 1 ? changed : changed.slice(0, 16).filter((n) => !!attempt(new Map([[n, updates.get(n)!]])).diff);
  const names = (culprits.length ? culprits : changed).map((n) => `'${n}'`).join(', ');
  throw new RefitError(`the new value of ${names} changes the engine beyond its weights (${first.diff}): the build folded that value into a kernel parameter or the graph's structure, so it cannot be refitted; rebuild the engine with it`);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function layerDifference(a: PlannedLayer, b: PlannedLayer): string | undefined {
  if (a.name !== b.name || a.kernel !== b.kernel || a.precision !== b.precision) return `it became '${b.name}' (${b.kernel}, ${b.precision}) instead of ${a.kernel}, ${a.precision}`;
  if (!same(a.inputs, b.inputs) || !same(a.outputs, b.outputs)) return 'its tensors differ';
  if (a.dispatches.length !== b.dispatches.length) return `${b.dispatches.length} dispatches instead of ${a.dispatches.length}`;
  for (let i = 0; i < a.dispatches.length; i++) {
    const x = a.dispatches[i], y = b.dispatches[i];
    if (x.shader !== y.shader || x.source !== y.source || !same(x.defines ?? {}, y.defines ?? {})) return `dispatch ${i} runs another shader`;
    if (!same(x.params, y.params)) return `dispatch ${i}'s parameters differ`;
    if (!same(x.workgroup, y.workgroup) || !same(x.groups, y.groups) || !same(x.bindings, y.bindings)) return `dispatch ${i}'s grid or bindings differ`;
  }
  if (!same(a.kernelWeights.map((w) => [w.offset, w.bytes]), b.kernelWeights.map((w) => [w.offset, w.bytes]))) return 'its kernel weights are laid out differently';
  if (!same(a.scratch, b.scratch)) return 'its scratch differs';
  return undefined;
}

/** How `b` differs from `a` beyond weight bytes, or undefined when it does not. */
export function planDifference(a: EnginePlan, b: EnginePlan): string | undefined {
  if (a.layers.length !== b.layers.length) return `${b.layers.length} layers instead of ${a.layers.length}`;
  for (let i = 0; i < a.layers.length; i++) {
    const d = layerDifference(a.layers[i], b.layers[i]);
    if (d) return `layer ${i} '${a.layers[i].name}': ${d}`;
  }
  if (a.tensors.size !== b.tensors.size) return `${b.tensors.size} tensors instead of ${a.tensors.size}`;
  for (const [name, t] of a.tensors) {
    const u = b.tensors.get(name);
    if (!u || u.kind !== t.kind || u.offset !== t.offset || u.bytes !== t.bytes || u.gpu !== t.gpu || !same(u.dims, t.dims)) return `tensor '${name}' is laid out differently`;
  }
  if (a.arenaBytes !== b.arenaBytes || a.weightBytes !== b.weightBytes || a.scratchBytes !== b.scratchBytes) return 'its memory plan differs';
  if (!same(a.inputs, b.inputs) || !same(a.outputs, b.outputs) || !same([...a.outputRoots], [...b.outputRoots])) return 'its inputs or outputs differ';
  if (!same([...a.constantOutputs.keys()], [...b.constantOutputs.keys()])) return 'its constant outputs differ';
  return undefined;
}

/**
 * The refittable weights of `model`, checked to be the graph the record was built from (same
 * nodes, same weights with the same shapes).
 * @throws RefitError naming the first difference.
 */
export function weightsFromModel(record: RefitRecord, model: Model, file = 'the model'): Map<string, Tensor> {
  const src = sourceModel(record, new Map()).graph;
  const g = model.graph;
  const sig = (n: { domain: string; opType: string; inputs: string[]; outputs: string[] }) => `${n.domain}::${n.opType}(${n.inputs.join(',')})->${n.outputs.join(',')}`;
  if (g.nodes.length !== src.nodes.length) throw new RefitError(`${file} has ${g.nodes.length} nodes; the engine's graph has ${src.nodes.length}: not the same graph`);
  const a = new Set(src.nodes.map(sig));
  const other = g.nodes.find((n) => !a.has(sig(n)));
  if (other) throw new RefitError(`${file}: node '${other.name}' (${other.opType}) is not in the engine's graph: not the same graph`);
  const out = new Map<string, Tensor>();
  for (const w of record.weights) {
    const t = g.initializers.get(w.name);
    if (!t) throw new RefitError(`${file} has no initializer '${w.name}', a weight of the engine`);
    if (t.dtype !== w.dtype || t.dims.join(',') !== w.dims.join(',')) throw new RefitError(`${file}: '${w.name}' is ${t.dtype}[${t.dims.join(',')}]; the engine's is ${w.dtype}[${w.dims.join(',')}]`);
    out.set(w.name, t);
  }
  return out;
}
