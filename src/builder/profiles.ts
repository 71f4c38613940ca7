/**
 * Optimization profiles (TensorRT's IOptimizationProfile; docs/dynamic-shapes.md). A profile gives,
 * per input whose shape may vary, a min, opt and max shape. The build:
 *
 *  - plans the first profile's opt shapes: that plan is the engine's (tactics chosen, and with
 *    auto-tuning timed, at opt);
 *  - per profile, records the kernel chosen for every layer at its opt shapes, and plans its min
 *    and max shapes with those kernels pinned: the largest arena and scratch over the three is what
 *    a context allocates (memory for max), and the shaders those plans need beyond the engine's
 *    own dispatches are compiled into the engine too (ProfileRecord.shaders);
 *  - records the source model and the options, so that a run at any shape inside a profile can
 *    have its plan made again (specializePlan, called by the runtime through the API layer): the
 *    same phases for the concrete shapes with every layer's kernel fixed, so no tuning, and no
 *    shader compiles where the shapes need no other shader.
 *
 * The graph optimizer runs again per concrete shape: it folds shape arithmetic to constants for the
 * shapes it sees (the reason a plan is shape specific), so its output cannot be reused across shapes.
 */
import { InputError } from '../errors';
import { shaderKey } from '../gpu/compile';
import type { Model } from '../ir/graph';
import type { DeviceCaps } from '../kernel/contract';
import type { EnginePlan, PlannedProfile, ProfileRange, ProfileRecord, ProfileShader } from '../kernel/plan';
import { parseModel } from '../onnx/parse';
import { serializeModel } from '../onnx/serialize';
import type { OpRegistry } from '../ops/registry';
import type { BuilderConfig, OptimizationProfile } from './config';
import type { KernelSelection } from './selection';

/** What builds one plan (builder.ts's single-shape build; passed in to avoid an import cycle). */
export type PlanFn = (model: Model, caps: DeviceCaps & { alignment: number }, config: BuilderConfig) => EnginePlan;

function fmt(d: readonly number[]): string {
  return `[${d.join(',')}]`;
}

/**
 * The profiles of a config, checked against the model: each names real inputs, with min <= opt <=
 * max per dimension, ranks and fixed dimensions as the model declares them; every profile covers the
 * same inputs; an input a profile covers is not also fixed by inputShapes.
 * @throws InputError naming the profile, input and dimension.
 */
export function checkProfiles(model: Model, config: BuilderConfig): Record<string, ProfileRange>[] {
  const g = model.graph;
  const real = g.inputs.filter((i) => !g.initializers.has(i));
  const profiles = config.profiles ?? [];
  if (!Array.isArray(profiles)) throw new InputError('profiles must be an array of { input: { min, opt, max } } objects');
  const out: Record<string, ProfileRange>[] = [];
  let names: string | undefined;
  profiles.forEach((p: OptimizationProfile, k) => {
    if (!p || typeof p !== 'object') throw new InputError(`profile ${k} must be an object of { min, opt, max } shapes keyed by input name`);
    const rec: Record<string, ProfileRange> = {};
    const keys = Object.keys(p).sort();
    if (!keys.length) throw new InputError(`profile ${k} names no input`);
    for (const name of keys) {
      if (!real.includes(name)) throw new InputError(`profile ${k} names '${name}', which is not an input of the model (inputs: ${real.join(', ')})`);
      if (config.inputShapes?.[name]) throw new InputError(`input '${name}' has both a fixed shape (inputShapes) and a range in profile ${k}; give one`);
      const r = p[name];
      const shapes = ['min', 'opt', 'max'].map((w) => {
        const s = (r as unknown as Record<string, unknown>)?.[w];
        if (!Array.isArray(s) || !s.every((d) => Number.isInteger(d) && d >= 0)) throw new InputError(`profile ${k}, input '${name}': ${w} must be an array of non-negative integers, got ${JSON.stringify(s)}`);
        return [...(s as number[])];
      });
      const [min, opt, max] = shapes;
      if (opt.length !== min.length || max.length !== min.length) throw new InputError(`profile ${k}, input '${name}': min ${fmt(min)}, opt ${fmt(opt)} and max ${fmt(max)} must have the same rank`);
      const declared = g.types.get(name)?.shape;
      if (declared && declared.length !== min.length) throw new InputError(`profile ${k}, input '${name}': the model gives it rank ${declared.length} ([${declared.join(',')}]); the profile gives ${fmt(min)}`);
      for (let i = 0; i < min.length; i++) {
        if (!(min[i] <= opt[i] && opt[i] <= max[i])) throw new InputError(`profile ${k}, input '${name}' dimension ${i}: min ${min[i]} <= opt ${opt[i]} <= max ${max[i]} does not hold`);
        const d = declared?.[i];
        if (typeof d === 'number' && (min[i] !== d || max[i] !== d)) throw new InputError(`profile ${k}, input '${name}' dimension ${i} is fixed at ${d} by the model; the profile gives ${min[i]}..${max[i]}`);
      }
      rec[name] = { min, opt, max };
    }
    const these = keys.join(',');
    if (names !== undefined && these !== names) throw new InputError(`every profile must give the same inputs: profile 0 gives ${names}, profile ${k} gives ${these}`);
    names = these;
    out.push(rec);
  });
  return out;
}

/** A selection that runs, per layer name, the kernel given (the heuristic choice where it is not offered). */
export function pinnedKernels(kernels: Readonly<Record<string, string>>, onMissing?: (layer: string, want: string, got: string) => void): KernelSelection {
  return {
    name: 'profile (kernels chosen at opt)',
    choose: (r) => {
      const layer = r.node.name || r.node.outputs[0];
      const want = Object.prototype.hasOwnProperty.call(kernels, layer) ? kernels[layer] : undefined;
      const hit = want === undefined ? undefined : r.candidates.find((c) => c.name === want);
      if (want !== undefined && !hit) onMissing?.(layer, want, r.candidates[0].name);
      return hit ?? r.candidates[0];
    },
  };
}

/** Plugins and registry of a build in code (not storable in an engine file), per record. */
const buildExtras = new WeakMap<ProfileRecord, { plugins?: BuilderConfig['plugins']; registry?: OpRegistry }>();

function shapesAt(ranges: Record<string, ProfileRange>, which: 'min' | 'opt' | 'max'): Record<string, number[]> {
  return Object.fromEntries(Object.entries(ranges).map(([n, r]) => [n, r[which]]));
}

function sameShapes(a: Record<string, number[]>, b: Record<string, number[]>): boolean {
  return Object.keys(a).every((n) => a[n].join(',') === b[n].join(','));
}

/** The plan of a build with optimization profiles (see the module comment). */
export function buildWithProfiles(model: Model, caps: DeviceCaps & { alignment: number }, config: BuilderConfig, build: PlanFn): EnginePlan {
  const ranges = checkProfiles(model, config);
  if (config.refittable) throw new InputError('an engine with optimization profiles cannot be refittable yet; build it without one of them');
  const log = config.log ?? (() => {});
  // push constants: a pipeline serves every shape of its shader (spec constants would make a pipeline per shape)
  const paramMode = config.paramMode ?? 'push';
  const fixed = config.inputShapes ?? {};
  const single: BuilderConfig = { ...config, profiles: undefined, paramMode };
  const quiet: BuilderConfig = { ...single, log: undefined, progress: undefined, warn: () => {} };
  let plan: EnginePlan | undefined;
  const others: EnginePlan[] = [];
  const profiles: PlannedProfile[] = ranges.map((r, k) => {
    const opt = shapesAt(r, 'opt');
    const optPlan = build(model, caps, { ...(k === 0 ? single : quiet), inputShapes: { ...fixed, ...opt } });
    if (k === 0) plan = optPlan;
    else others.push(optPlan);
    const kernels = Object.fromEntries(optPlan.layers.map((l) => [l.name, l.kernel]));
    let arenaBytes = optPlan.arenaBytes, scratchBytes = optPlan.scratchBytes;
    for (const which of ['min', 'max'] as const) {
      const shapes = shapesAt(r, which);
      if (sameShapes(shapes, opt)) continue;
      const p = build(model, caps, {
        ...quiet, inputShapes: { ...fixed, ...shapes },
        selection: pinnedKernels(kernels, (layer, want, got) => log(`profile ${k}: layer '${layer}' has no kernel ${want} at the ${which} shapes; it runs ${got} there`)),
      });
      arenaBytes = Math.max(arenaBytes, p.arenaBytes);
      scratchBytes = Math.max(scratchBytes, p.scratchBytes);
      others.push(p);
    }
    log(`profile ${k}: ${Object.entries(r).map(([n, x]) => `${n} ${fmt(x.min)}..${fmt(x.opt)}..${fmt(x.max)}`).join(', ')}; arena ${arenaBytes} bytes at most`);
    return { inputs: r, kernels, arenaBytes, scratchBytes };
  });
  const base = plan!;
  // the shaders the other profile shapes run beyond the engine's own dispatches
  const have = new Set<string>();
  for (const l of base.layers) for (const d of l.dispatches) have.add(shaderKey(d, paramMode));
  const shaders: ProfileShader[] = [];
  for (const p of others) {
    for (const l of p.layers) {
      for (const d of l.dispatches) {
        const key = shaderKey(d, paramMode);
        if (have.has(key)) continue;
        have.add(key);
        shaders.push({ shader: d.shader, ...(d.source !== undefined ? { source: d.source } : {}), ...(d.defines ? { defines: { ...d.defines } } : {}), paramCount: d.params.length });
      }
    }
  }
  const c = config;
  const record: ProfileRecord = {
    profiles, model: new Uint8Array(serializeModel(model)), shaders,
    config: {
      ...(Object.keys(fixed).length ? { inputShapes: Object.fromEntries(Object.entries(fixed).map(([k, v]) => [k, [...v]])) } : {}),
      paramMode, fusion: c.fusion, fp16: c.fp16, fp32Layers: c.fp32Layers ? [...c.fp32Layers] : undefined, cooperativeMatrix: c.cooperativeMatrix,
      ...(c.limits ? { limits: { ...c.limits } } : {}),
    },
  };
  if (c.plugins?.length || c.registry) buildExtras.set(record, { plugins: c.plugins, registry: c.registry });
  return { ...base, profiles: record };
}

/** Parsed source models, per record bytes (a run at a new shape parses the stored ONNX once). */
const parsed = new WeakMap<Uint8Array, Model>();

/**
 * The plan of an engine with profiles for concrete input shapes inside profile `index`: the build's
 * phases for those shapes with each layer's kernel pinned to the one chosen at the profile's opt.
 * @param shapes the shapes of the profile's inputs (the other inputs keep the plan's fixed shapes)
 */
export function specializePlan(plan: EnginePlan, index: number, shapes: Readonly<Record<string, readonly number[]>>, caps: DeviceCaps & { alignment: number }, build: PlanFn): EnginePlan {
  const record = plan.profiles;
  if (!record) throw new InputError('the engine was built without optimization profiles: its input shapes are fixed');
  const profile = record.profiles[index];
  if (!profile) throw new InputError(`the engine has ${record.profiles.length} optimization profile(s); there is no profile ${index}`);
  let model = parsed.get(record.model);
  if (!model) {
    model = parseModel(record.model);
    parsed.set(record.model, model);
  }
  const extras = buildExtras.get(record) ?? {};
  const given = Object.fromEntries(Object.entries(shapes).map(([n, s]) => [n, [...s]]));
  return build(model, caps, {
    ...record.config, ...extras, inputShapes: { ...(record.config.inputShapes ?? {}), ...given },
    selection: pinnedKernels(profile.kernels), warn: () => {},
  });
}
