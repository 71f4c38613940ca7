/**
 * Refit on the runtime's side (TensorRT's IRefitter): check the new weights against what the engine
 * exposes (names, dtypes, shapes), have the refit planner work out the engine's new weight bytes,
 * and upload the slots that changed. Contexts see the new weights on their next run.
 *
 * The planner re-applies the build's weight transforms, which is builder code; the runtime never
 * imports the builder, so the planner is handed in (setRefitPlanner) by the API layer
 * (src/api/refit.ts), which every entry point of the package loads.
 */
import { RefitError } from '../errors';
import type { Device } from '../gpu/device';
import type { BufferSet } from './buffer-set';
import { Tensor } from '../ir/tensor';
import type { EnginePlan, RefitRecord, RefitWeight } from '../kernel/plan';

/** New weight values by ONNX initializer name. */
export type RefitWeights = Record<string, Float32Array | Float64Array | Tensor> | ReadonlyMap<string, Float32Array | Float64Array | Tensor>;

/** What a refit did. */
export interface RefitResult {
  /** Weights whose values changed. */
  weights: number;
  /** Weight-buffer slots rewritten (graph weights and kernel weights), and their bytes. */
  slots: number;
  bytes: number;
  /** Milliseconds spent re-applying the build's weight transforms, and uploading. */
  replanMs: number;
  uploadMs: number;
}

/** Builder-side work a refit needs (src/api/refit.ts provides it). */
export interface RefitPlanner {
  /** The plan of the engine's source graph with `updates` applied, differing from `plan` in weight bytes only. */
  replan(plan: EnginePlan, device: Device, updates: ReadonlyMap<string, Tensor>): EnginePlan;
  /** The refittable weights an ONNX file holds, checked to be the engine's graph. */
  onnxWeights(plan: EnginePlan, file: string): Map<string, Tensor>;
}

let planner: RefitPlanner | undefined;

/** Installs the refit planner (done by src/api/refit.ts when the package loads). */
export function setRefitPlanner(p: RefitPlanner): void {
  planner = p;
}

function getPlanner(): RefitPlanner {
  if (!planner) throw new RefitError("no refit planner is installed: load the engine through the package's entry point (require('vkrt')), which installs it");
  return planner;
}

function describe(w: RefitWeight): string {
  return `${w.dtype}[${w.dims.join(',')}]`;
}

/** The record of a refittable plan. @throws RefitError when the engine was not built refittable. */
export function refitRecord(plan: EnginePlan): RefitRecord {
  if (!plan.refit) throw new RefitError('the engine was not built refittable; build it with BuilderConfig.refittable: true (vkrt exec --refit)');
  return plan.refit;
}

/**
 * The given values as tensors of the weights' dtypes and shapes.
 * @throws RefitError naming the first unknown weight, or a value of the wrong dtype or size.
 */
export function checkRefitWeights(record: RefitRecord, weights: RefitWeights): Map<string, Tensor> {
  if (!weights || typeof weights !== 'object') throw new RefitError('weights must be an object (or Map) of Float32Array / Tensor values keyed by ONNX initializer name');
  const entries = weights instanceof Map ? [...weights] : Object.entries(weights);
  const byName = new Map(record.weights.map((w) => [w.name, w]));
  const out = new Map<string, Tensor>();
  for (const [name, v] of entries) {
    const w = byName.get(name);
    if (!w) {
      const list = record.weights.slice(0, 12).map((x) => x.name).join(', ');
      throw new RefitError(`'${name}' is not a refittable weight of this engine (it has ${record.weights.length}: ${list}${record.weights.length > 12 ? ', ...' : ''})`);
    }
    const n = w.dims.reduce((a, b) => a * b, 1);
    if (v instanceof Tensor) {
      if (v.dtype !== w.dtype) throw new RefitError(`weight '${name}' is ${describe(w)}; got a ${v.dtype} tensor`);
      if (v.dims.join(',') !== w.dims.join(',')) throw new RefitError(`weight '${name}' has shape [${w.dims.join(',')}]; got a tensor of shape [${v.dims.join(',')}]`);
      out.set(name, v);
      continue;
    }
    const want = w.dtype === 'float64' ? Float64Array : Float32Array;
    if (!(v instanceof want)) {
      const got = ArrayBuffer.isView(v) ? v.constructor.name : Array.isArray(v) ? 'an Array' : typeof v;
      throw new RefitError(`weight '${name}' is ${describe(w)}: give a ${want.name} (or a Tensor), not ${got}`);
    }
    if (v.length !== n) throw new RefitError(`weight '${name}' has shape [${w.dims.join(',')}] (${n} values); got ${v.length} values`);
    out.set(name, w.dtype === 'float32' || w.dtype === 'float64' ? new Tensor(w.dtype, w.dims, v.slice()) : Tensor.from(w.dtype, w.dims, v));
  }
  return out;
}

function sameBytes(a: ArrayBufferView | undefined, b: ArrayBufferView | undefined): boolean {
  if (!a || !b || a.byteLength !== b.byteLength) return false;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength), y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** What a refit needs of its engine (engine.ts implements it). */
export interface RefitHost {
  readonly plan: EnginePlan;
  readonly device: Device;
  readonly weights: BufferSet;
  /** True while a context of the engine has a run queued or in flight. */
  busy(): boolean;
}

/**
 * Refits the engine: checks, replans, uploads the changed weight slots, and updates the plan (so
 * serialize() writes the new weights). Values equal to the current ones are skipped.
 */
export function refitEngine(host: RefitHost, weights: RefitWeights): RefitResult {
  const record = refitRecord(host.plan);
  const given = checkRefitWeights(record, weights);
  const updates = new Map([...given].filter(([name, t]) => !sameBytes(t.data as ArrayBufferView, record.values.get(name)?.data as ArrayBufferView)));
  if (!updates.size) return { weights: 0, slots: 0, bytes: 0, replanMs: 0, uploadMs: 0 };
  if (host.busy()) throw new RefitError('a context of this engine has a run queued or in flight; await it before refitting (runs read the weights)');
  const t0 = performance.now();
  const next = getPlanner().replan(host.plan, host.device, updates);
  const t1 = performance.now();
  const plan = host.plan;
  let slots = 0, bytes = 0;
  for (const t of plan.tensors.values()) {
    if (t.kind !== 'weight') continue;
    const data = next.weightData.get(t.name)!;
    if (sameBytes(plan.weightData.get(t.name), data)) continue;
    if (data.length) host.weights.write(data, t.offset, t.buffer ?? 0);
    plan.weightData.set(t.name, data);
    slots++;
    bytes += data.byteLength;
  }
  plan.layers.forEach((l, i) => l.kernelWeights.forEach((w, k) => {
    const data = next.layers[i].kernelWeights[k].data;
    if (sameBytes(w.data, data)) return;
    if (data.length) host.weights.write(data, w.offset, w.buffer ?? 0);
    w.data = data;
    slots++;
    bytes += data.byteLength;
  }));
  for (const [name, t] of next.constantOutputs) plan.constantOutputs.set(name, t);
  // what produced each layer now holds the new constants (an engine file records them: plan-verify.ts)
  plan.layers.forEach((l, i) => { if (next.layers[i].source) l.source = next.layers[i].source; });
  for (const [name, t] of updates) record.values.set(name, t);
  return { weights: updates.size, slots, bytes, replanMs: t1 - t0, uploadMs: performance.now() - t1 };
}

/** Refits from an ONNX file of the same graph: every refittable weight whose value differs. */
export function refitEngineFromOnnx(host: RefitHost, file: string): RefitResult {
  refitRecord(host.plan);
  return refitEngine(host, getPlanner().onnxWeights(host.plan, file));
}
