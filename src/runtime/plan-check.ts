/**
 * Checks a plan decoded from an engine file before any of it reaches Vulkan. The checksum catches
 * accidental damage; this catches the rest (a hand-edited or hostile manifest, a writer bug): every
 * binding must lie inside its buffer at an aligned offset, every dispatch must fit the device's
 * limits, every weight must fit its slot. What a binding means comes from `bindingRanges`, the same
 * function that records programs, so the check and the recording cannot drift apart.
 *
 * Only fields the runtime reads are checked; fields it does not know pass through untouched.
 */
import { EngineFileError } from '../errors';
import type { DeviceInfo } from '../gpu/device';
import { Tensor } from '../ir/tensor';
import { bindingRanges } from './bindings';
import { largestBuffer } from '../kernel/contract';
import type { EnginePlan, PlannedLayer } from '../kernel/plan';
import { gpuBytes, gpuTypeOf, isPacked, type GpuType } from '../kernel/storage';
import { DType, ONNX_DTYPE } from '../ir/dtype';

/** Every dtype name (the ONNX data types vkrt knows), for checking names read from a file. */
export const DTYPE_NAMES: ReadonlySet<string> = new Set<string>(Object.values(ONNX_DTYPE));
const ioTypeOk = (io: { dtype: unknown; gpu: unknown }): boolean => typeof io.dtype === 'string' && DTYPE_NAMES.has(io.dtype) && gpuTypeOf(io.dtype as DType) === io.gpu;

/** The SPIR-V modules of an engine and, per layer and dispatch, which module it runs. */
export interface ShaderTable {
  modules: Uint32Array[];
  dispatchModule: number[][];
}

const GPU_BYTES: Record<string, number> = { f32: 4, i32: 4, f16: 2, sid: 4, i8: 1, u8: 1, u8x4: 1, u4x8: 0.5, i4x8: 0.5, u2x16: 0.25, i2x16: 0.25 };
const MAX_BYTES = 2 ** 48;

/**
 * @param info the device the plan will run on; without it, device limits are not checked (inspect).
 * @throws EngineFileError('corrupt') naming the first thing that is wrong.
 */
export function checkLoadedPlan(plan: EnginePlan, shaders: ShaderTable, info: DeviceInfo | undefined, file?: string): void {
  const bad = (where: string, what: string): never => { throw new EngineFileError('corrupt', `${where}: ${what}`, file); };
  const isInt = (v: unknown, min = 0, max = MAX_BYTES): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
  const isTyped = (v: unknown): v is ArrayBufferView => ArrayBuffer.isView(v) && !(v instanceof DataView);
  if (!plan || typeof plan !== 'object') bad('plan', 'missing');
  for (const k of ['layers', 'inputs', 'outputs'] as const) if (!Array.isArray(plan[k])) bad(`plan.${k}`, 'not an array');
  for (const k of ['tensors', 'constantOutputs', 'outputRoots', 'weightData'] as const) if (!(plan[k] instanceof Map)) bad(`plan.${k}`, 'not a map');
  if (!isInt(plan.arenaBytes, 1) || !isInt(plan.weightBytes, 1) || !isInt(plan.scratchBytes)) bad('plan', 'buffer sizes are not positive integers');
  if (plan.paramMode !== 'spec' && plan.paramMode !== 'push') bad('plan.paramMode', `${JSON.stringify(plan.paramMode)} is not spec or push`);
  // each buffer's size: the arena and the weights may span several (EnginePlan.arenaBuffers, weightBuffers)
  const sizesOf = (list: unknown, one: number, what: string): number[] => {
    if (list === undefined) return [one];
    if (!Array.isArray(list) || list.length < 2 || list.length > 4096 || !list.every((v) => isInt(v, 1))) bad(`plan.${what}`, 'is not a list of at least two positive buffer sizes');
    if ((list as number[]).reduce((a, b) => a + b, 0) !== one) bad(`plan.${what}`, 'does not add up to the plan\'s total');
    return list as number[];
  };
  const limits = { arena: sizesOf(plan.arenaBuffers, plan.arenaBytes, 'arenaBuffers'), weights: sizesOf(plan.weightBuffers, plan.weightBytes, 'weightBuffers'), scratch: [plan.scratchBytes] };
  if (info) {
    for (const [k, sizes] of Object.entries(limits)) {
      const most = largestBuffer(info) || Infinity;
      sizes.forEach((v, i) => { if (v > most) bad(`the ${k} buffer${sizes.length > 1 ? ` ${i}` : ''}`, `${v} bytes, more than one buffer of the device may have (${most})`); });
    }
  }
  /** The size of buffer `index` of `which`, or a corrupt-file error. */
  const sizeAt = (which: 'arena' | 'weights' | 'scratch', index: unknown, where: string): number => {
    if (index !== undefined && !isInt(index, 0, limits[which].length - 1)) bad(where, `buffer ${JSON.stringify(index)} does not exist (the ${which} has ${limits[which].length})`);
    return limits[which][(index as number | undefined) ?? 0];
  };
  const align = info ? Math.max(1, Number(info.minStorageBufferOffsetAlignment) || 1) : 1;

  for (const [name, t] of plan.tensors) {
    const where = `tensor '${String(name)}'`;
    if (!t || typeof t !== 'object' || t.name !== name) bad(where, 'malformed');
    if (!['input', 'output', 'activation', 'weight'].includes(t.kind)) bad(where, `unknown kind ${JSON.stringify(t.kind)}`);
    if (!(t.gpu in GPU_BYTES)) bad(where, `unknown GPU type ${JSON.stringify(t.gpu)}`);
    if (!Array.isArray(t.dims) || !t.dims.every((d) => isInt(d))) bad(where, 'dims are not non-negative integers');
    if (!isInt(t.offset) || !isInt(t.bytes, 1)) bad(where, 'offset or size is not a non-negative integer');
    const cap = sizeAt(t.kind === 'weight' ? 'weights' : 'arena', t.buffer, where);
    if (t.offset + t.bytes > cap) bad(where, `bytes ${t.offset}..${t.offset + t.bytes} lie outside its ${cap}-byte buffer`);
    if (t.kind === 'weight') {
      const data = plan.weightData.get(t.name);
      if (!isTyped(data)) bad(where, 'has no weight data');
      if (data!.byteLength > t.bytes) bad(where, `${data!.byteLength} bytes of weights for a ${t.bytes}-byte slot`);
    }
  }
  plan.layers.forEach((layer: PlannedLayer, li) => {
    const where = `layer ${li}`;
    if (!layer || typeof layer !== 'object' || typeof layer.name !== 'string') bad(where, 'malformed');
    if (!Array.isArray(layer.dispatches) || !Array.isArray(layer.kernelWeights) || !Array.isArray(layer.scratch)) bad(where, 'malformed');
    layer.kernelWeights.forEach((w, k) => {
      // the data is absent in files (plan-verify.ts derives it from the kernel)
      if (!w || !isInt(w.offset) || !isInt(w.bytes, 1) || (w.data !== undefined && (!isTyped(w.data) || w.data.byteLength > w.bytes)) || w.offset + w.bytes > sizeAt('weights', w.buffer, `${where} kernel weight ${k}`)) bad(`${where} kernel weight ${k}`, 'does not fit its slot in the weight buffer');
    });
    layer.scratch.forEach((s, k) => {
      if (!s || !isInt(s.offset) || !isInt(s.bytes, 1) || s.offset + s.bytes > plan.scratchBytes) bad(`${where} scratch ${k}`, 'does not fit the scratch buffer');
    });
    const row = shaders.dispatchModule[li];
    if (!Array.isArray(row) || row.length !== layer.dispatches.length) bad(where, 'the shader table does not match its dispatches');
    layer.dispatches.forEach((d, di) => {
      const at = `${where} ('${layer.name}') dispatch ${di}`;
      if (!d || typeof d !== 'object' || typeof d.shader !== 'string' || !Array.isArray(d.bindings) || !Array.isArray(d.params)) bad(at, 'malformed');
      if (!isInt(row[di], 0, shaders.modules.length - 1)) bad(at, `SPIR-V module ${JSON.stringify(row[di])} does not exist`);
      if (!d.params.every((p) => typeof p === 'number' && Number.isInteger(p) && p >= -(2 ** 31) && p < 2 ** 32)) bad(at, 'parameters are not 32-bit integers');
      if (!Array.isArray(d.workgroup) || d.workgroup.length !== 3 || !d.workgroup.every((v) => isInt(v, 1, 65536))) bad(at, 'bad workgroup size');
      if (!Array.isArray(d.groups) || d.groups.length !== 3 || !d.groups.every((v) => isInt(v, 1, 2 ** 31))) bad(at, 'bad workgroup count');
      if (info) {
        const wg = d.workgroup, g = d.groups;
        if (wg.some((v, k) => v > info.maxComputeWorkGroupSize[k]) || wg[0] * wg[1] * wg[2] > info.maxComputeWorkGroupInvocations) bad(at, `workgroup ${wg.join('x')} exceeds the device's limits`);
        if (g.some((v, k) => v > info.maxComputeWorkGroupCount[k])) bad(at, `${g.join('x')} workgroups exceed the device's limits`);
        if (plan.paramMode === 'push' && 4 * Math.max(1, d.params.length) > info.maxPushConstantsSize) bad(at, 'too many push constants for the device');
      }
      let ranges;
      try {
        ranges = bindingRanges(plan, layer, d);
      } catch (e) {
        return bad(at, (e as Error).message);
      }
      ranges.forEach((r, k) => {
        const size = sizeAt(r.buffer, r.index, `${at} binding ${k}`);
        if (!isInt(r.offset) || !isInt(r.range, 1) || r.offset + r.range > size) bad(`${at} binding ${k}`, `bytes ${r.offset}..${r.offset + r.range} lie outside the ${r.buffer} buffer${limits[r.buffer].length > 1 ? ` ${r.index}` : ''} (${size} bytes)`);
        if (r.offset % align) bad(`${at} binding ${k}`, `offset ${r.offset} is not a multiple of the device's storage-buffer alignment ${align}`);
        if (info && r.range > info.maxStorageBufferRange) bad(`${at} binding ${k}`, `range ${r.range} exceeds the device's maxStorageBufferRange`);
      });
    });
  });
  if (shaders.dispatchModule.length !== plan.layers.length) bad('shader table', `${shaders.dispatchModule.length} rows for ${plan.layers.length} layers`);
  for (const io of plan.inputs) {
    if (!io || typeof io.name !== 'string' || !Array.isArray(io.dims) || !io.dims.every((d) => isInt(d)) || !(io.gpu in GPU_BYTES)) bad('plan.inputs', 'malformed entry');
    const t = plan.tensors.get(io.name);
    const need = gpuBytes(io.gpu as GpuType, io.dims.reduce((a, b) => a * b, 1));
    if (!t || t.kind === 'weight' || need > t.bytes) bad(`input '${io.name}'`, 'has no arena slot of its size');
    if (!ioTypeOk(io) || t!.gpu !== io.gpu) bad(`input '${io.name}'`, `dtype ${JSON.stringify(io.dtype)} stored as ${JSON.stringify(io.gpu)} does not match its tensor`);
  }
  for (const o of plan.outputs) {
    if (!o || typeof o.name !== 'string' || !Array.isArray(o.dims) || !o.dims.every((d) => isInt(d)) || !(o.gpu in GPU_BYTES)) bad('plan.outputs', 'malformed entry');
    const t = plan.tensors.get(plan.outputRoots.get(o.name)!);
    // the runtime reads outputs as 32-bit elements (packed types: whole words)
    const n = o.dims.reduce((a, b) => a * b, 1);
    if (!t || t.kind === 'weight' || (isPacked(o.gpu as GpuType) ? gpuBytes(o.gpu as GpuType, n) : n * 4) > t.bytes) bad(`output '${o.name}'`, 'has no arena slot of its size');
    if (!ioTypeOk(o) || t!.gpu !== o.gpu) bad(`output '${o.name}'`, `dtype ${JSON.stringify(o.dtype)} stored as ${JSON.stringify(o.gpu)} does not match its tensor`);
  }
  for (const [name, t] of plan.constantOutputs) if (!(t instanceof Tensor)) bad(`constant output '${String(name)}'`, 'is not a tensor');
}
