/**
 * Runs at shapes other than an engine's plan (optimization profiles, docs/dynamic-shapes.md), on
 * the runtime's side: which profile a set of input shapes falls in (or a ProfileShapeError naming
 * the input, the shape and the ranges), and the specializer that makes the plan for concrete
 * shapes. Making that plan runs the builder's phases again with the profile's kernels fixed, which
 * is builder code; the runtime never imports the builder, so the specializer is handed in
 * (setSpecializer) by the API layer (src/api/profiles.ts), which every entry point loads.
 */
import { BufferSet, bufferSizes } from './buffer-set';
import { InputError, ProfileShapeError } from '../errors';
import { compileDispatchShader, shaderKey } from '../gpu/compile';
import type { Device } from '../gpu/device';
import type { Pipeline } from '../gpu/pipeline';
import type { EngineIO, EnginePlan, PlannedTensor, ProfileRange, ShaderTable } from '../kernel/plan';
import { createPipelines } from './pipelines';

/** Builder-side work a run at a new shape needs (src/api/profiles.ts provides it). */
export interface Specializer {
  /**
   * The plan of the engine's profile `index` for these shapes of its inputs: the build's phases
   * again, every layer's kernel the one chosen at the profile's opt shapes.
   */
  specialize(plan: EnginePlan, device: Device, index: number, shapes: Readonly<Record<string, readonly number[]>>): EnginePlan;
}

let specializer: Specializer | undefined;

/** Installs the specializer (done by src/api/profiles.ts when the package loads). */
export function setSpecializer(s: Specializer): void {
  specializer = s;
}

export function getSpecializer(): Specializer {
  if (!specializer) throw new InputError("no shape specializer is installed: load the engine through the package's entry point (require('vkrt')), which installs it");
  return specializer;
}

function fmt(d: readonly number[]): string {
  return `[${d.join(',')}]`;
}

function describeRange(r: ProfileRange): string {
  return `min ${fmt(r.min)}, opt ${fmt(r.opt)}, max ${fmt(r.max)}`;
}

function inside(dims: readonly number[], r: ProfileRange): boolean {
  return dims.length === r.min.length && dims.every((d, i) => d >= r.min[i] && d <= r.max[i]);
}

/**
 * Checks one input's shape against the profiles that cover it (any of them), or its fixed shape.
 * @throws ProfileShapeError naming the input, the shape and the ranges.
 */
export function checkInputShape(plan: EnginePlan, io: EngineIO, dims: readonly number[]): void {
  const profiles = plan.profiles?.profiles ?? [];
  const ranges = profiles.map((p) => p.inputs[io.name]);
  if (ranges.length && ranges[0]) {
    if (ranges.some((r) => inside(dims, r))) return;
    const all = ranges.map((r, k) => `profile ${k}: ${describeRange(r)}`).join('; ');
    throw new ProfileShapeError(`input '${io.name}' has shape ${fmt(dims)}, outside every optimization profile of the engine (${all}); run a shape inside a profile, or build the engine with a profile that holds it`, io.name, dims);
  }
  if (dims.length !== io.dims.length || dims.some((x, k) => x !== io.dims[k])) {
    const how = profiles.length ? 'no optimization profile covers it' : 'the engine was built for that shape only (give BuilderConfig.profiles, or --minShapes/--optShapes/--maxShapes, for a range)';
    throw new ProfileShapeError(`input '${io.name}' must have shape ${fmt(io.dims)}, got ${fmt(dims)}: ${how}`, io.name, dims);
  }
}

/** The shapes of the inputs a plan's profiles cover, by name, as a cache key. */
export function shapeKey(index: number, shapes: Readonly<Record<string, readonly number[]>>): string {
  return `${index}|${Object.keys(shapes).sort().map((n) => `${n}:${shapes[n].join('x')}`).join(';')}`;
}

/**
 * The profile that the inputs' shapes fall in: `prefer` when given (and they do), else the first that
 * holds them. Inputs no profile covers must have their fixed shape.
 * @returns the profile index and the shapes of the profile's inputs.
 * @throws ProfileShapeError naming the input, its shape and every profile's range for it (or its
 *   fixed shape).
 */
export function matchProfile(plan: EnginePlan, inputs: readonly EngineIO[], dimsOf: (name: string) => readonly number[], prefer?: number): { index: number; shapes: Record<string, number[]> } {
  const record = plan.profiles;
  const profiles = record?.profiles ?? [];
  // inputs no profile covers: their one shape
  for (const io of inputs) {
    if (profiles.length && io.name in profiles[0].inputs) continue;
    const d = dimsOf(io.name);
    if (d.length !== io.dims.length || d.some((x, k) => x !== io.dims[k])) {
      const how = profiles.length ? 'no optimization profile covers it' : 'the engine was built for that shape only (give BuilderConfig.profiles, or --minShapes/--optShapes/--maxShapes, for a range)';
      throw new ProfileShapeError(`input '${io.name}' must have shape ${fmt(io.dims)}, got ${fmt(d)}: ${how}`, io.name, d);
    }
  }
  if (!profiles.length) return { index: -1, shapes: {} };
  if (prefer !== undefined && (!Number.isInteger(prefer) || prefer < 0 || prefer >= profiles.length)) throw new InputError(`the engine has ${profiles.length} optimization profile(s): ${prefer} is not one`);
  const names = Object.keys(profiles[0].inputs);
  const shapes = Object.fromEntries(names.map((n) => [n, [...dimsOf(n)]]));
  const fits = (k: number) => names.every((n) => inside(shapes[n], profiles[k].inputs[n]));
  if (prefer !== undefined) {
    if (fits(prefer)) return { index: prefer, shapes };
  } else {
    const k = profiles.findIndex((_, i) => fits(i));
    if (k >= 0) return { index: k, shapes };
  }
  // name the first input that breaks the (preferred or first) profile, with every range
  const ks = prefer !== undefined ? [prefer] : profiles.map((_, i) => i);
  const bad = names.find((n) => ks.every((k) => !inside(shapes[n], profiles[k].inputs[n]))) ?? names.find((n) => !inside(shapes[n], profiles[ks[0]].inputs[n]))!;
  const ranges = ks.map((k) => `profile ${k}: ${describeRange(profiles[k].inputs[bad])}`).join('; ');
  throw new ProfileShapeError(`input '${bad}' has shape ${fmt(shapes[bad])}, outside ${prefer !== undefined ? `optimization profile ${prefer}` : 'every optimization profile of the engine'} (${ranges}); run a shape inside a profile, or build the engine with a profile that holds it`, bad, shapes[bad]);
}

/** What making the plan of a new shape cost (RunTiming.specialization; `vkrt exec` reports it). */
export interface SpecializationCost {
  /** The builder's phases for the shapes (kernels fixed), in milliseconds. */
  planMs: number;
  /** SPIR-V modules compiled because the shapes need a shader the engine did not have (0 normally). */
  shadersCompiled: number;
  /** Pipelines created (0 in push mode unless a shader was new) and the time for it and the weights. */
  pipelinesCreated: number;
  pipelineMs: number;
  /** True when the plan's weights are the engine's (bound in place); false: a copy was uploaded. */
  weightsShared: boolean;
}

/** The plan of one set of concrete shapes inside a profile, and what runs it. */
export interface Specialization {
  readonly key: string;
  /** The profile (-1: an engine without profiles). */
  readonly profile: number;
  readonly shapes: Readonly<Record<string, readonly number[]>>;
  readonly plan: EnginePlan;
  readonly pipelines: readonly (readonly Pipeline[])[];
  readonly weights: BufferSet;
  /** Runs queued or in flight on it: it is not evicted while any is. */
  runs: number;
  /** Absent for the engine's own plan. */
  readonly cost?: SpecializationCost;
}

/** What the specializations of an engine need of it (engine.ts). */
export interface SpecializationHost {
  readonly plan: EnginePlan;
  readonly device: Device;
  readonly weights: BufferSet;
  readonly pipelines: readonly (readonly Pipeline[])[];
  readonly shaders: ShaderTable;
  /** The engine's pipelines by key: a new plan's dispatches reuse them. */
  readonly pipelineCache: Map<string, Pipeline>;
  /** Called when a specialization is evicted (contexts drop its recorded programs). */
  evicted(s: Specialization): void;
}

function sameBytes(a: ArrayBufferView | undefined, b: ArrayBufferView | undefined): boolean {
  if (!a || !b || a.byteLength !== b.byteLength) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/**
 * Binds `plan`'s weights to the engine's weight buffer when every one of them is there with the
 * same bytes (graph weights by name, kernel weights by layer name and index), rewriting the plan's
 * weight offsets; false when a weight differs (a constant folded from the shapes, say).
 */
function shareWeights(base: EnginePlan, plan: EnginePlan): boolean {
  const baseLayers = new Map(base.layers.map((l) => [l.name, l]));
  const tensors: [PlannedTensor, number][] = [];
  for (const t of plan.tensors.values()) {
    if (t.kind !== 'weight') continue;
    const b = base.tensors.get(t.name);
    if (!b || b.kind !== 'weight' || b.bytes !== t.bytes || !sameBytes(base.weightData.get(t.name), plan.weightData.get(t.name))) return false;
    tensors.push([t, b.offset]);
  }
  const kernel: [{ offset: number }, number][] = [];
  for (const l of plan.layers) {
    if (!l.kernelWeights.length) continue;
    const b = baseLayers.get(l.name);
    if (!b || b.kernelWeights.length !== l.kernelWeights.length) return false;
    for (let i = 0; i < l.kernelWeights.length; i++) {
      const x = l.kernelWeights[i], y = b.kernelWeights[i];
      if (x.bytes !== y.bytes || !sameBytes(x.data, y.data)) return false;
      kernel.push([x, y.offset]);
    }
  }
  for (const [t, off] of tensors) t.offset = off;
  for (const [w, off] of kernel) w.offset = off;
  return true;
}

/** How many plans for other shapes an engine keeps (least recently used evicted first). */
export const SPECIALIZATION_LIMIT = 16;

/**
 * An engine's plans for concrete shapes (LRU, bounded): the plan's own, and those made by the
 * specializer on first use of a shape. A new plan's dispatches run the engine's SPIR-V (by shader
 * key; a shader the engine lacks is compiled and counted) and reuse its pipelines; its weights are
 * the engine's where they are the same bytes.
 */
export class Specializations {
  readonly base: Specialization;
  private readonly map = new Map<string, Specialization>();
  private modules?: Uint32Array[];
  private moduleOf?: Map<string, number>;

  constructor(private readonly host: SpecializationHost) {
    const p = host.plan.profiles?.profiles[0];
    const shapes = p ? Object.fromEntries(Object.entries(p.inputs).map(([n, r]) => [n, r.opt])) : {};
    this.base = { key: p ? shapeKey(0, shapes) : 'fixed', profile: p ? 0 : -1, shapes, plan: host.plan, pipelines: host.pipelines, weights: host.weights, runs: 0 };
    this.map.set(this.base.key, this.base);
  }

  /** How many plans the specializer has made for this engine (a run compares it to see whether it made one). */
  made = 0;

  /** The plan for these shapes of profile `index`'s inputs, made on first use. */
  get(index: number, shapes: Readonly<Record<string, readonly number[]>>): Specialization {
    if (index < 0) return this.base;
    const key = shapeKey(index, shapes);
    const hit = this.map.get(key);
    if (hit) {
      this.map.delete(key); // most recently used last
      this.map.set(key, hit);
      return hit;
    }
    const s = this.make(index, shapes, key);
    this.made++;
    this.map.set(key, s);
    this.evict();
    return s;
  }

  private make(index: number, shapes: Readonly<Record<string, readonly number[]>>, key: string): Specialization {
    const h = this.host;
    const t0 = performance.now();
    const plan = getSpecializer().specialize(h.plan, h.device, index, shapes);
    const t1 = performance.now();
    if (!this.moduleOf) {
      this.modules = [...h.shaders.modules];
      this.moduleOf = new Map();
      h.plan.layers.forEach((l, li) => l.dispatches.forEach((d, di) => this.moduleOf!.set(shaderKey(d, h.plan.paramMode), h.shaders.dispatchModule[li][di])));
      h.plan.profiles?.shaders.forEach((ref, k) => {
        const m = h.shaders.profileModules?.[k];
        if (m !== undefined) this.moduleOf!.set(shaderKey({ shader: ref.shader, source: ref.source, defines: ref.defines, params: new Array<number>(ref.paramCount).fill(0) }, h.plan.paramMode), m);
      });
    }
    const modules = this.modules!, moduleOf = this.moduleOf;
    let shadersCompiled = 0;
    const dispatchModule = plan.layers.map((l) => l.dispatches.map((d) => {
      const k = shaderKey(d, plan.paramMode);
      let m = moduleOf.get(k);
      if (m === undefined) {
        m = modules.push(compileDispatchShader(d, plan.paramMode)) - 1;
        moduleOf.set(k, m);
        shadersCompiled++;
      }
      return m;
    }));
    const before = h.pipelineCache.size;
    const pipelines = createPipelines(h.device, plan, { modules, dispatchModule }, undefined, h.pipelineCache);
    const pipelinesCreated = h.pipelineCache.size - before;
    const weightsShared = shareWeights(h.plan, plan);
    let weights = h.weights;
    if (!weightsShared) {
      weights = BufferSet.create(h.device, bufferSizes(plan, 'weights'));
      for (const t of plan.tensors.values()) {
        const data = t.kind === 'weight' ? plan.weightData.get(t.name) : undefined;
        if (data?.length) weights.write(data, t.offset, t.buffer ?? 0);
      }
      for (const l of plan.layers) for (const w of l.kernelWeights) if (w.data.length) weights.write(w.data, w.offset, w.buffer ?? 0);
    }
    const cost: SpecializationCost = { planMs: t1 - t0, shadersCompiled, pipelinesCreated, pipelineMs: performance.now() - t1, weightsShared };
    return { key, profile: index, shapes: Object.fromEntries(Object.entries(shapes).map(([n, d]) => [n, [...d]])), plan, pipelines, weights, runs: 0, cost };
  }

  /** Drops the least recently used plans beyond the limit (never the engine's own, never one in use). */
  private evict(): void {
    for (const [key, s] of this.map) {
      if (this.map.size <= SPECIALIZATION_LIMIT) break;
      if (s === this.base || s.runs > 0) continue;
      this.map.delete(key);
      this.host.evicted(s);
      if (s.weights !== this.host.weights) s.weights.dispose();
    }
  }

  /** Frees the weight copies (the engine frees the pipelines and its own weights). */
  dispose(): void {
    for (const s of this.map.values()) if (s.weights !== this.host.weights) s.weights.dispose();
    this.map.clear();
  }
}
