/**
 * Engine files checked against what produced them. Each layer of a plan records its source (the
 * operator node, its opset and attributes, the kernel context's tensor descriptors, or for a
 * builder-made conversion its from/to types; LayerSource in src/kernel/plan.ts). On load, this
 * module runs the op's shape inference and `kernel(ctx)` again with the device's caps and accepts
 * the layer only when its dispatches (shader, defines, generated source, params, workgroup, groups,
 * bindings), kernel weights and scratch are exactly one of the kernel's candidates, and every
 * tensor it binds is large enough for the descriptor the kernel was given. Anything else is an
 * EngineFileError('corrupt') naming the layer.
 *
 * So the group counts and params a loaded engine dispatches are the ones vkrt's own kernels compute
 * for tensor sizes that fit the buffers bound: a sealed file can no longer ask for 65535x65535
 * workgroups or a kernel size of -1. What this cannot check is the SPIR-V (see pipelines.ts:
 * validated with SPIRV-Tools, its workgroup size matched; recompiled only for untrusted files).
 *
 * Kernel weights are derived data: the file does not store them (Engine.serialize drops them) and
 * this check fills them in from the kernel it re-ran.
 */
import { EngineFileError, VkrtError } from '../errors';
import { shaderKey } from '../gpu/compile';
import type { DeviceInfo } from '../gpu/device';
import type { DType } from '../ir/dtype';
import { Attr, Node, ValueType } from '../ir/graph';
import { Attrs } from '../ir/attrs';
import { Tensor } from '../ir/tensor';
import { capsOf, DeviceCaps, KernelContext, KernelImpl, TensorDesc } from '../kernel/contract';
import type { EnginePlan, LayerSource, PlannedDispatch, PlannedLayer, ShaderTable, SourceTensor } from '../kernel/plan';
import { conversionDispatch } from '../kernel/pointwise';
import { alignUp, byteTypeOf, GpuArray, gpuBytes, gpuTypeOf, PACKED, toGpuArray } from '../kernel/storage';
import { registry as defaultRegistry } from '../ops/index';
import { DTYPE_NAMES } from './plan-check';
import type { OpRegistry } from '../ops/registry';
import type { OpDef, ShapeContext } from '../ops/types';

export interface VerifyOptions {
  /** The operators the engine was built with; default: vkrt's, with the plugins registered in this process. */
  registry?: OpRegistry;
  /** Names the file in error messages. */
  file?: string;
  /**
   * Every layer must be derived again (untrusted files): a layer whose plugin is not registered is
   * refused instead of accepted on its buffer-range checks.
   */
  requireAll?: boolean;
}

/** The internal domain prefix of nodes whose built-in operator a plugin replaces (src/plugins/registry.ts). */
const SHADOW = 'vkrt.plugin';

/** The registry key of a recorded node's operator: a replaced built-in's shadow domain maps back to its own. */
function registryDomain(domain: string): { domain: string; shadow: boolean } {
  if (domain === SHADOW) return { domain: '', shadow: true };
  if (domain.startsWith(`${SHADOW}.`)) return { domain: domain.slice(SHADOW.length + 1), shadow: true };
  return { domain, shadow: false };
}

/** The plugin behind an operator definition (the runtime does not import src/plugins: plugin OpDefs carry `plugin`). */
function pluginInfo(def: OpDef | undefined): { name: string; version: string } | undefined {
  const p = (def as { plugin?: { name?: unknown; version?: unknown } } | undefined)?.plugin;
  return p && typeof p.name === 'string' && typeof p.version === 'string' ? { name: p.name, version: p.version } : undefined;
}

const GPU_TYPES = new Set(['f32', 'f16', 'i32', 'sid', 'i8', 'u8', ...Object.keys(PACKED)]);
/** Largest element count of a descriptor (2^46 elements: far beyond any device buffer). */
const MAX_ELEMS = 2 ** 46;

/** Thrown inside this module; turned into EngineFileError naming the layer. */
class Mismatch extends Error {}

function fail(what: string): never {
  throw new Mismatch(what);
}

function isInt(v: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

/** Checks one attribute's value against its declared type (what Attrs' getters assume). */
function checkAttr(name: string, a: unknown): Attr {
  if (!a || typeof a !== 'object') fail(`attribute '${name}' is malformed`);
  const { type, value } = a as Attr;
  const nums = (v: unknown, int: boolean) => Array.isArray(v) && v.every((x) => typeof x === 'number' && (!int || Number.isSafeInteger(x)));
  let ok: boolean;
  switch (type) {
    case 'int': ok = Number.isSafeInteger(value); break;
    case 'float': ok = typeof value === 'number'; break;
    case 'string': ok = typeof value === 'string'; break;
    case 'ints': ok = nums(value, true); break;
    case 'floats': ok = nums(value, false); break;
    case 'strings': ok = Array.isArray(value) && value.every((x) => typeof x === 'string'); break;
    case 'tensor': ok = value instanceof Tensor; break;
    case 'tensors': ok = Array.isArray(value) && value.every((x) => x instanceof Tensor); break;
    case 'type_proto': ok = !!value && typeof value === 'object' && !Array.isArray(value); break;
    case 'type_protos': ok = Array.isArray(value) && value.every((x) => !!x && typeof x === 'object'); break;
    default: ok = false; // graphs (no GPU kernel takes one), sparse tensors
  }
  if (!ok) fail(`attribute '${name}' is not a valid ${String(type)}`);
  return a as Attr;
}

/** Elements of a descriptor; refuses dims that are not non-negative integers or too many elements. */
function elemsOf(t: SourceTensor, where: string): number {
  if (!Array.isArray(t.dims) || t.dims.length > 16 || !t.dims.every((d) => isInt(d, 0, 2 ** 31))) fail(`${where}: dims are not at most 16 integers in 0..2^31`);
  let n = 1;
  for (const d of t.dims) n *= d;
  if (n > MAX_ELEMS) fail(`${where}: ${t.dims.join('x')} elements are more than any device holds`);
  return n;
}

function checkDesc(t: unknown, where: string): SourceTensor {
  if (!t || typeof t !== 'object') fail(`${where}: malformed`);
  const d = t as SourceTensor;
  if (typeof d.dtype !== 'string' || !DTYPE_NAMES.has(d.dtype)) fail(`${where}: unknown dtype ${JSON.stringify(d.dtype)}`);
  if (!GPU_TYPES.has(d.gpu)) fail(`${where}: unknown GPU type ${JSON.stringify(d.gpu)}`);
  const natural = gpuTypeOf(d.dtype as DType);
  if (!(d.gpu === natural || (d.gpu === 'f16' && natural === 'f32') || d.gpu === byteTypeOf(d.dtype as DType))) fail(`${where}: a ${d.dtype} tensor cannot be stored as ${d.gpu}`);
  elemsOf(d, where);
  if (d.constant !== undefined) {
    if (!(d.constant instanceof Tensor)) fail(`${where}: its constant is not a tensor`);
    if (d.constant.dtype !== d.dtype || d.constant.dims.length !== d.dims.length || d.constant.dims.some((x, i) => x !== d.dims[i])) fail(`${where}: its constant is not a ${d.dtype} [${d.dims.join(',')}]`);
  }
  return d;
}

function sameArray(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a === b) return true;
  if (a.constructor !== b.constructor || a.byteLength !== b.byteLength) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function sameList(a: unknown, b: readonly number[]): boolean {
  return Array.isArray(a) && a.length === b.length && a.every((x, i) => x === b[i]);
}

function definesKey(d: Record<string, string | number> | undefined): string {
  return JSON.stringify(Object.entries(d ?? {}).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
}

/** Why `got` (the file's dispatch) is not `want` (the kernel's, bindings resolved), or undefined. */
function dispatchDiff(got: PlannedDispatch, want: PlannedDispatch): string | undefined {
  if (got.shader !== want.shader) return `shader ${JSON.stringify(got.shader)}, the kernel's is ${JSON.stringify(want.shader)}`;
  if ((got.source ?? undefined) !== (want.source ?? undefined)) return 'its generated source differs from the kernel\'s';
  if (definesKey(got.defines) !== definesKey(want.defines)) return `defines ${definesKey(got.defines)}, the kernel's are ${definesKey(want.defines)}`;
  if (!sameList(got.params, want.params)) return `params [${String(got.params)}], the kernel's are [${want.params.join(',')}]`;
  if (!sameList(got.workgroup, want.workgroup)) return `workgroup [${String(got.workgroup)}], the kernel's is [${want.workgroup.join(',')}]`;
  if (!sameList(got.groups, want.groups)) return `groups [${String(got.groups)}], the kernel's are [${want.groups.join(',')}]`;
  if (JSON.stringify(got.bindings) !== JSON.stringify(want.bindings)) return `bindings ${JSON.stringify(got.bindings)}, the kernel's are ${JSON.stringify(want.bindings)}`;
  return undefined;
}

/**
 * The layer's dispatches as the builder makes them from an implementation: bindings resolved to the
 * source's tensors, kernel weights and scratch. Undefined (with a reason) when it binds an input or
 * output the source does not name.
 */
function plannedFrom(impl: KernelImpl, source: LayerSource): PlannedDispatch[] | string {
  const out: PlannedDispatch[] = [];
  for (const d of impl.dispatches) {
    const bindings: PlannedDispatch['bindings'] = [];
    for (const b of d.bindings) {
      if ('input' in b) {
        const t = source.inputTensors[b.input];
        if (!t) return `the kernel binds input ${b.input}, which the layer does not bind`;
        bindings.push({ tensor: t });
      } else if ('output' in b) {
        const t = source.outputTensors[b.output];
        if (!t) return `the kernel binds output ${b.output}, which the layer does not bind`;
        bindings.push({ tensor: t });
      } else if ('weight' in b) bindings.push({ kernelWeight: b.weight });
      else bindings.push({ scratch: b.scratch });
    }
    out.push({ ...d, bindings });
  }
  return out;
}

/** Why the layer is not this implementation, or undefined when it is (kernel weights then filled in). */
function implDiff(layer: PlannedLayer, impl: KernelImpl, source: LayerSource, caps: DeviceCaps & { alignment: number }, fill: boolean): string | undefined {
  if (impl.name !== layer.kernel) return `kernel ${JSON.stringify(layer.kernel)}, not ${JSON.stringify(impl.name)}`;
  const want = plannedFrom(impl, source);
  if (typeof want === 'string') return want;
  if (want.length !== layer.dispatches.length) return `${layer.dispatches.length} dispatches, the kernel has ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const diff = dispatchDiff(layer.dispatches[i], want[i]);
    if (diff) return `dispatch ${i}: ${diff}`;
  }
  const weights = impl.weights ?? [];
  if (weights.length !== layer.kernelWeights.length) return `${layer.kernelWeights.length} kernel weights, the kernel has ${weights.length}`;
  for (let k = 0; k < weights.length; k++) {
    const w = layer.kernelWeights[k], data = weights[k].data;
    if (w.bytes !== Math.max(4, data.byteLength)) return `kernel weight ${k} has ${w.bytes} bytes, the kernel's has ${Math.max(4, data.byteLength)}`;
    if (w.data !== undefined && !sameArray(w.data, data)) return `kernel weight ${k} differs from the kernel's`;
  }
  const scratch = impl.scratch ?? [];
  if (scratch.length !== layer.scratch.length) return `${layer.scratch.length} scratch buffers, the kernel has ${scratch.length}`;
  let off = 0;
  for (let k = 0; k < scratch.length; k++) {
    const bytes = Math.max(4, scratch[k]);
    if (!isInt(scratch[k]) || layer.scratch[k].offset !== off || layer.scratch[k].bytes !== bytes) return `scratch ${k} is ${layer.scratch[k].bytes} bytes at ${layer.scratch[k].offset}, the kernel's is ${bytes} at ${off}`;
    off = alignUp(off + bytes, caps.alignment);
  }
  if (fill) weights.forEach((w, k) => { layer.kernelWeights[k].data = w.data as GpuArray; });
  return undefined;
}

/** The kernel's candidate implementations for an operator layer, after its shapes are re-inferred. */
function operatorCandidates(source: LayerSource, caps: DeviceCaps, reg: OpRegistry): KernelImpl[] {
  const n = source.node!;
  if (!n || typeof n !== 'object' || typeof n.opType !== 'string' || typeof n.domain !== 'string' || typeof n.name !== 'string' || !isInt(n.opset, 1, 1000)) fail('its node is malformed');
  if (!Array.isArray(n.inputs) || !Array.isArray(n.outputs) || ![...n.inputs, ...n.outputs].every((x) => typeof x === 'string')) fail('its node\'s inputs or outputs are malformed');
  if (n.inputs.length !== source.inputs.length || n.outputs.length !== source.outputs.length) fail('its node and its tensors disagree in number');
  if (!(n.attrs instanceof Map)) fail('its node\'s attributes are malformed');
  const attrs = new Map<string, Attr>();
  for (const [k, a] of n.attrs) {
    if (typeof k !== 'string') fail('an attribute name is not a string');
    attrs.set(k, checkAttr(k, a));
  }
  const def = reg.get(registryDomain(n.domain).domain, n.opType);
  if (!def || !def.kernel) fail(`operator ${n.domain ? `${n.domain}::` : ''}${n.opType} has no GPU kernel in this vkrt`);
  if (def.sinceVersion !== undefined && n.opset < def.sinceVersion) fail(`opset ${n.opset} is older than ${n.opType}'s ${def.sinceVersion}`);
  if (!def.inferShape) fail(`${n.opType} has no shape inference`);
  const node = new Node({ name: n.name, opType: n.opType, domain: n.domain, inputs: n.inputs, outputs: n.outputs, attrs });
  const nodeFail = (m: string): never => fail(m);
  // 1. the output shapes must be what the op infers from the inputs (so the kernel's view of
  //    its tensors is self-consistent, as it was when the builder ran it)
  const sctx: ShapeContext = {
    node, opset: n.opset, attrs: new Attrs(node), outputCount: n.outputs.length,
    constant: (i) => source.inputs[i]?.constant, fail: nodeFail, unsupported: nodeFail,
  };
  const inTypes = source.inputs.map((t): ValueType | undefined => (t ? { kind: 'tensor', dtype: t.dtype, shape: [...t.dims] } : undefined));
  const inferred = def.inferShape(sctx, inTypes);
  n.outputs.forEach((name, k) => {
    if (!name) return;
    const r = inferred[k], o = source.outputs[k];
    if (!r || r.dtype !== o.dtype) fail(`output ${k} is ${o.dtype}, the op infers ${r?.dtype ?? 'nothing'}`);
    // a data-dependent shape (a symbolic dim, or no rank: e.g. Reduce with run-time axes) was
    // fixed by the model's declared type when it was built; the kernel is re-run with it
    if (r.shape && (r.shape.length !== o.dims.length || r.shape.some((d, i) => typeof d === 'number' && d !== o.dims[i]))) {
      fail(`output ${k} is [${o.dims.join(',')}], the op infers [${r.shape?.join(',') ?? '?'}]`);
    }
  });
  // 2. the kernel's candidates for exactly those tensors
  const ctx: KernelContext = {
    node, opset: n.opset, attrs: new Attrs(node), caps,
    inputs: source.inputs as (TensorDesc | undefined)[], outputs: source.outputs as TensorDesc[],
    fail: nodeFail, unsupported: nodeFail,
  };
  return def.kernel(ctx);
}

function conversionCandidates(source: LayerSource, caps: DeviceCaps): KernelImpl[] {
  const c = source.convert!;
  if (source.node !== undefined) fail('it is both an operator and a conversion');
  const pair = (a: unknown, b: unknown) => (['f32', 'f16'].includes(a as string) && ['f32', 'f16'].includes(b as string)) || (['i32', 'i8', 'u8'].includes(a as string) && ['i32', 'i8', 'u8'].includes(b as string));
  if (!c || typeof c !== 'object' || !pair(c.from, c.to) || c.from === c.to) fail('its conversion is malformed');
  const [i] = source.inputs, [o] = source.outputs;
  if (source.inputs.length !== 1 || source.outputs.length !== 1 || !i || i.gpu !== c.from || o.gpu !== c.to || !sameList(i.dims, o.dims) || i.constant || i.dtype !== o.dtype) fail('its conversion tensors are malformed');
  return [{ name: `convert_${c.from}_to_${c.to}`, dispatches: [conversionDispatch(c.from, c.to, i.dims, caps)] }];
}

/**
 * Whether an operator layer can be derived again. A layer that runs a plugin is derived with the
 * plugin when the registry has it (same name and version); otherwise it is accepted unverified
 * (false), unless `requireAll`, or unless it claims a plugin for an operator vkrt implements itself
 * (a replaced built-in needs its plugin: otherwise any layer could claim a plugin to skip the checks).
 */
function pluginLayerVerifiable(plan: EnginePlan, layer: PlannedLayer, reg: OpRegistry, requireAll: boolean): boolean {
  const n = layer.source!.node;
  if (!n || typeof n !== 'object' || typeof n.domain !== 'string' || typeof n.opType !== 'string') return true; // operatorCandidates says what is wrong
  const { domain, shadow } = registryDomain(n.domain);
  const def = reg.get(domain, n.opType);
  const p = layer.plugin;
  if (p === undefined) {
    if (shadow) fail('its node is in the domain of plugin-replaced operators but the layer runs no plugin');
    return true;
  }
  if (!p || typeof p !== 'object' || typeof p.name !== 'string' || typeof p.version !== 'string') fail('its plugin record is malformed');
  const listed = (plan.plugins ?? []).some((r) => r && r.name === p.name && r.version === p.version && Array.isArray(r.layers) && r.layers.includes(layer.name));
  if (!listed) fail(`it runs plugin '${p.name}' (version ${p.version}), which the plan's plugin list does not give it`);
  const have = pluginInfo(def);
  if (have && have.name === p.name && have.version === p.version) return true;
  const op = `${domain ? `${domain}::` : ''}${n.opType}`;
  if (requireAll) fail(`it runs plugin '${p.name}' (version ${p.version}) for ${op}, which is not registered here: every layer of an untrusted file is derived again, so register the plugin first`);
  if (shadow || (def && !have)) fail(`it runs plugin '${p.name}' (version ${p.version}) in place of ${op}, which vkrt implements: register the plugin to load this file`);
  return false;
}

/**
 * Checks every layer of `plan` against its recorded source (see the module comment) and fills in
 * the kernel weights the file leaves out. Run after checkLoadedPlan (which checks buffer ranges).
 * @throws EngineFileError('corrupt') naming the first layer that is not what its kernel produces.
 */
export function verifyPlanSources(plan: EnginePlan, info: DeviceInfo, options: VerifyOptions & { shaders?: ShaderTable } = {}): { unverified: string[] } {
  const unverified: string[] = [];
  const bad = (where: string, what: string): never => { throw new EngineFileError('corrupt', `${where}: ${what}`, options.file); };
  const choice = plan.cooperativeMatrix ?? 'auto';
  if (!['auto', 'nv', 'khr', 'off', 'emulate'].includes(choice)) bad('plan.cooperativeMatrix', `${JSON.stringify(choice)} is not auto, nv, khr, off or emulate`);
  // the caps the builder planned for: this device's, with the build's matrix-unit choice
  const caps = capsOf(info, choice);
  const reg = options.registry ?? defaultRegistry;
  if (plan.alignment !== caps.alignment) bad('plan', `alignment ${plan.alignment}; this device's is ${caps.alignment}`);
  // the buffers are exactly as large as the plan's tensors need (no inflated allocations), each
  // one of several arena or weight buffers too
  const arenaN = plan.arenaBuffers?.length ?? 1, weightN = plan.weightBuffers?.length ?? 1;
  const need = { arena: new Array<number>(arenaN).fill(0), weights: new Array<number>(weightN).fill(0), scratch: 0 };
  for (const t of plan.tensors.values()) {
    if (t.kind === 'weight') need.weights[t.buffer ?? 0] = Math.max(need.weights[t.buffer ?? 0], alignUp(t.offset + t.bytes, caps.alignment));
    else need.arena[t.buffer ?? 0] = Math.max(need.arena[t.buffer ?? 0], t.offset + t.bytes);
  }
  for (const l of plan.layers) {
    for (const w of l.kernelWeights) need.weights[w.buffer ?? 0] = Math.max(need.weights[w.buffer ?? 0], alignUp(w.offset + w.bytes, caps.alignment));
    for (const sc of l.scratch) need.scratch = Math.max(need.scratch, sc.offset + sc.bytes);
  }
  const arenaNeed = need.arena.map((n) => Math.max(caps.alignment, alignUp(n, caps.alignment)));
  const weightNeed = need.weights.map((n) => Math.max(caps.alignment, n));
  const sizes: [string, number, number][] = [
    ['arena', plan.arenaBytes, arenaNeed.reduce((a, b) => a + b, 0)],
    ['weight', plan.weightBytes, weightNeed.reduce((a, b) => a + b, 0)],
    ['scratch', plan.scratchBytes, need.scratch],
  ];
  for (const [what, has, wants] of sizes) if (has !== wants) bad(`plan.${what}Bytes`, `${has}; its tensors need ${wants}`);
  plan.arenaBuffers?.forEach((b, k) => { if (b !== arenaNeed[k]) bad(`plan.arenaBuffers[${k}]`, `${b}; its tensors need ${arenaNeed[k]}`); });
  plan.weightBuffers?.forEach((b, k) => { if (b !== weightNeed[k]) bad(`plan.weightBuffers[${k}]`, `${b}; its tensors need ${weightNeed[k]}`); });
  const checkedWeights = new Set<string>();
  plan.layers.forEach((layer, li) => {
    const where = `layer ${li} ('${layer.name}')`;
    try {
      const s = layer.source;
      if (!s || typeof s !== 'object') fail('the file does not record what produced it (an engine file from an older vkrt? rebuild it)');
      if (!Array.isArray(s.inputs) || !Array.isArray(s.outputs) || !Array.isArray(s.inputTensors) || !Array.isArray(s.outputTensors)) fail('its source is malformed');
      if (s.inputTensors.length !== s.inputs.length || s.outputTensors.length !== s.outputs.length || ![...s.inputTensors, ...s.outputTensors].every((x) => typeof x === 'string')) fail('its source tensors are malformed');
      if (s.outputs.length === 0 || s.inputs.length > 4096 || s.outputs.length > 4096) fail('its source has no outputs or too many tensors');
      s.inputs.forEach((t, k) => { if (t !== undefined) checkDesc(t, `input ${k}`); });
      s.outputs.forEach((t, k) => checkDesc(t, `output ${k}`));
      // every tensor the layer binds holds its descriptor, and constants are what the weights hold
      s.inputTensors.forEach((name, k) => {
        if (!name) return;
        const d = s.inputs[k];
        if (!d) fail(`input ${k} is bound to '${name}' but absent`);
        const t = plan.tensors.get(name);
        if (!t) fail(`input ${k} is bound to '${name}', which the plan does not have`);
        if (t.gpu !== d.gpu || t.bytes < gpuBytes(d.gpu, elemsOf(d, `input ${k}`))) fail(`input ${k} ([${d.dims.join(',')}] ${d.gpu}) does not fit tensor '${name}' (${t.bytes} bytes ${t.gpu})`);
        if ((t.kind === 'weight') !== (d.constant !== undefined)) fail(`input ${k} ('${name}') is ${d.constant ? 'a constant bound to an activation' : 'a weight the kernel did not see'}`);
        if (d.constant) {
          const data = plan.weightData.get(name);
          if (!data || !sameArray(data, toGpuArray(d.constant, d.gpu))) fail(`the weights of '${name}' are not its recorded value`);
          checkedWeights.add(name);
        }
      });
      s.outputTensors.forEach((name, k) => {
        if (!name) return;
        const d = s.outputs[k], t = plan.tensors.get(name);
        if (!t) fail(`output ${k} is bound to '${name}', which the plan does not have`);
        if (t.kind !== 'activation' && t.kind !== 'output') fail(`output ${k} writes ${t.kind} '${name}'`);
        if (t.gpu !== d.gpu || t.bytes < gpuBytes(d.gpu, elemsOf(d, `output ${k}`))) fail(`output ${k} ([${d.dims.join(',')}] ${d.gpu}) does not fit tensor '${name}' (${t.bytes} bytes ${t.gpu})`);
      });
      if (s.convert === undefined && !pluginLayerVerifiable(plan, layer, reg, !!options.requireAll)) {
        // a plugin that is not registered: the file carries its kernel (docs/plugins.md); its
        // bindings were range-checked (plan-check.ts), its weights cannot be compared
        unverified.push(layer.name);
        for (const d of layer.dispatches) for (const b of d.bindings) if ('tensor' in b && plan.tensors.get(b.tensor)?.kind === 'weight') checkedWeights.add(b.tensor);
        return;
      }
      const candidates = s.convert !== undefined ? conversionCandidates(s, caps) : operatorCandidates(s, caps, reg);
      const reasons: string[] = [];
      for (const impl of candidates) {
        const diff = implDiff(layer, impl, s, caps, false);
        if (!diff) { implDiff(layer, impl, s, caps, true); return; }
        reasons.push(diff);
      }
      fail(`its dispatches are not what its kernel produces (${reasons.length ? reasons.join('; ') : 'the kernel has no implementation for it'})`);
    } catch (e) {
      if (e instanceof EngineFileError) throw e;
      const msg = e instanceof Mismatch || e instanceof VkrtError ? e.message : `${(e as Error)?.name ?? 'error'}: ${(e as Error)?.message ?? String(e)}`;
      bad(where, msg.replace(/^node '[^']*' \([^)]*\): /, ''));
    }
  });
  for (const t of plan.tensors.values()) {
    if (t.kind === 'weight' && !checkedWeights.has(t.name)) bad(`tensor '${t.name}'`, 'is a weight no layer reads as a constant');
  }
  // weight slots do not overlap: the bytes a kernel was checked with are the bytes it reads
  const slots: [number, number, string, number][] = [];
  for (const t of plan.tensors.values()) if (t.kind === 'weight') slots.push([t.offset, t.offset + t.bytes, `tensor '${t.name}'`, t.buffer ?? 0]);
  plan.layers.forEach((l, li) => l.kernelWeights.forEach((w, k) => slots.push([w.offset, w.offset + w.bytes, `layer ${li} kernel weight ${k}`, w.buffer ?? 0])));
  slots.sort((a, b) => a[3] - b[3] || a[0] - b[0]);
  for (let k = 1; k < slots.length; k++) if (slots[k][3] === slots[k - 1][3] && slots[k][0] < slots[k - 1][1]) bad(slots[k][2], `overlaps ${slots[k - 1][2]} in the weight buffer`);
  // the SPIR-V of a dispatch is a function of its (checked) GLSL and defines: dispatches of one kernel
  // key run one module, different keys different modules (a module index moved to another kernel's
  // module is refused; what a module itself computes is checked only by untrusted loads)
  if (options.shaders) {
    const moduleOfKey = new Map<string, number>(), keyOfModule = new Map<number, string>();
    plan.layers.forEach((layer, li) => layer.dispatches.forEach((d, di) => {
      const at = `layer ${li} ('${layer.name}') dispatch ${di}`;
      let key: string;
      try {
        key = shaderKey(d, plan.paramMode);
      } catch (e) {
        return bad(at, (e as Error).message);
      }
      const m = options.shaders!.dispatchModule[li][di];
      if ((moduleOfKey.get(key) ?? m) !== m) bad(at, `runs SPIR-V module ${m}; other dispatches of the same kernel run module ${moduleOfKey.get(key)}`);
      if ((keyOfModule.get(m) ?? key) !== key) bad(at, `runs SPIR-V module ${m}, which the file also gives to a different kernel`);
      moduleOfKey.set(key, m);
      keyOfModule.set(m, key);
    }));
  }
  plan.layers.forEach((l, li) => l.kernelWeights.forEach((w, k) => { if (!w.data) bad(`layer ${li} kernel weight ${k}`, 'has no data'); }));
  return { unverified };
}
