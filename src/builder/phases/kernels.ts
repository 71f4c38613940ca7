/**
 * Phase 4, kernel selection: per node, in order, either a view (Reshape-like aliases, Concat/Split
 * slices written in place), nothing (all outputs empty), or a layer: the op's candidate
 * implementations for the node's tensors, one chosen by the selection policy (selection.ts).
 * Precision is decided here, layer by layer, with the precision planner (precision.ts): an FP16
 * candidate layer keeps FP16 only when one of its implementations honours f16 storage, and a tensor
 * bound in another storage type than it has gets a conversion layer before that use.
 * Every node that cannot run on the GPU is collected; the phase then fails with all of them.
 */
import { GraphError, ShapeError, UnsupportedError } from '../../errors';
import { Attrs } from '../../ir/attrs';
import type { Node } from '../../ir/graph';
import type { BindingRef, KernelContext, KernelImpl, TensorDesc } from '../../kernel/contract';
import type { PlannedLayer, TensorKind } from '../../kernel/plan';
import { conversionSource, opSource } from '../../kernel/source';
import { alignUp, GpuType, gpuBytes, gpuTypeOf, isPacked, toGpuArray } from '../../kernel/storage';
import { planByteStorage } from '../int8-storage';
import { isStatic } from '../../ops/infer-shapes';
import { fusedOps } from '../passes/rule';
import { conversionDispatch } from '../precision';
import { heuristicSelection } from '../selection';
import { rootOf, type BuildState, type Piece } from '../state';
import { describeShape } from './input-shapes';

/** The operators whose GPU kernels take packed tensors (OpDef.traits.packedStorage), for messages. */
const PACKED_OPS = 'Cast, CastLike, BitCast, QuantizeLinear and DequantizeLinear';

/** The GPU descriptor of a value (its type must be static and storable). */
export function descOf(state: BuildState, name: string, node?: Node): TensorDesc {
  const t = state.types.get(name);
  if (!t || !isStatic(t.shape)) throw new ShapeError(`the shape of '${name}' is not known at build time (${t ? describeShape(t.shape) : 'no type'}); give the input shapes in BuilderConfig.inputShapes (CLI: --shapes)`, node);
  const gpu = gpuTypeOf(t.dtype);
  if (!gpu) throw new UnsupportedError(`tensor '${name}' has dtype ${t.dtype}, which the GPU does not hold`, node);
  return { dtype: t.dtype, gpu, dims: t.shape, constant: state.constants.get(name) };
}

/** Adds a tensor to the plan once (weights get their GPU data); `d` defaults to the value's own descriptor. */
export function ensureTensor(state: BuildState, name: string, kind: TensorKind, d?: TensorDesc, node?: Node): void {
  if (state.tensors.has(name)) return;
  d ??= descOf(state, name, node);
  const elems = d.dims.reduce((a, b) => a * b, 1);
  state.tensors.set(name, { name, dtype: d.dtype, gpu: d.gpu, dims: d.dims, bytes: gpuBytes(d.gpu, elems), kind, offset: -1 });
  if (kind === 'weight' && d.gpu === 'sid') throw new UnsupportedError(`tensor '${name}' is a string constant: the GPU holds strings only as the run's input ids`, node);
  if (kind === 'weight') state.weightData.set(name, toGpuArray(d.constant!, d.gpu));
}

/** A conversion layer (once per tensor and type) giving `name` in storage `to`; returns the copy's name. */
export function convert(state: BuildState, name: string, desc: TensorDesc, from: GpuType, to: GpuType): string {
  const key = `${name}::${to}`;
  const done = state.conversions.get(key);
  if (done) return done;
  if (!state.aliasOf.has(name)) ensureTensor(state, name, 'activation', { ...desc, gpu: from });
  ensureTensor(state, key, 'activation', { ...desc, gpu: to, constant: undefined });
  const d = conversionDispatch(from, to, desc.dims, state.caps);
  state.layers.push({
    name: `${name}:to_${to === 'f16' ? 'fp16' : to === 'f32' ? 'fp32' : to}`, opTypes: ['Cast'], kernel: `convert_${from}_to_${to}`, precision: to === 'f16' ? 'fp16' : 'fp32',
    inputs: [name], outputs: [key], dispatches: [{ ...d, bindings: [{ tensor: name }, { tensor: key }] }], kernelWeights: [], scratch: [],
    source: conversionSource(desc.dtype, desc.dims, from, to, name, key),
  });
  state.conversions.set(key, key);
  return key;
}

/** The name to bind for input `name` in the storage `want` asks for (a converted copy if needed). */
function bindAs(state: BuildState, name: string, want: TensorDesc): string {
  if (state.constants.has(name)) {
    if (want.gpu === gpuTypeOf(want.dtype)) return name;
    const copy = `${name}::${want.gpu}`;
    ensureTensor(state, copy, 'weight', { ...want, constant: state.constants.get(name) });
    return copy;
  }
  const have = state.prec.storageOf(name, want);
  return have === want.gpu ? name : convert(state, name, want, have, want.gpu);
}

/** Layers whose arithmetic is int8 x int8 -> int32 (their precision reads int8). */
const INTEGER_LAYERS = new Set(['QLinearConv', 'QLinearMatMul', 'ConvInteger', 'MatMulInteger']);

type Chosen = { impl: KernelImpl; used: KernelContext; precision: 'fp32' | 'fp16' };

/**
 * Chooses the implementation (and so the precision) of one layer; undefined when the op offers
 * none. int8/uint8 tensors chosen for byte storage (int8-storage.ts) are offered to the kernels as
 * bytes first; when no implementation takes them the layer reads and writes int32 and the tensors
 * are converted where the storages meet.
 */
function chooseImpl(state: BuildState, node: Node, ctx: KernelContext): Chosen | undefined {
  const bytes = <T extends TensorDesc | undefined>(d: T, name: string | undefined): T => {
    const b = name ? state.byteStorage.get(name) : undefined;
    return d && b && d.gpu === 'i32' && !d.constant ? { ...d, gpu: b } : d;
  };
  const ctx8: KernelContext = { ...ctx, inputs: ctx.inputs.map((d, k) => bytes(d, node.inputs[k])), outputs: ctx.outputs.map((d, k) => bytes(d, node.outputs[k])) };
  const retyped = ctx8.inputs.some((d, k) => d !== ctx.inputs[k]) || ctx8.outputs.some((d, k) => d !== ctx.outputs[k]);
  if (!retyped) return chooseStorage(state, node, ctx);
  try {
    const c = chooseStorage(state, node, ctx8);
    if (c) return c;
  } catch (e) {
    if (!(e instanceof UnsupportedError)) throw e;
  }
  state.log(`int8 storage: ${node.name || node.outputs[0]} (${node.opType}) has no kernel for byte tensors; it reads and writes int32 (conversion layers where byte tensors meet it)`);
  return chooseStorage(state, node, ctx);
}

function chooseStorage(state: BuildState, node: Node, ctx: KernelContext): Chosen | undefined {
  const def = state.registry.get(node.domain, node.opType)!;
  const policy = state.config.selection ?? heuristicSelection;
  let precision = state.prec.choose(node, ctx.inputs, ctx.outputs);
  if (precision === 'fp16') {
    const c16: KernelContext = { ...ctx, inputs: state.prec.retype(ctx.inputs, 'fp16'), outputs: state.prec.retype(ctx.outputs, 'fp16') };
    let candidates: KernelImpl[] = [];
    try {
      candidates = def.kernel!(c16).filter((i) => i.fp16);
    } catch { /* no FP16 variant for these attributes: the FP32 kernel below decides */ }
    if (candidates.length) return { impl: policy.choose({ node, ctx: c16, candidates }), used: c16, precision };
    state.prec.noKernel(node);
    precision = 'fp32';
  }
  const candidates = def.kernel!(ctx);
  if (!candidates.length) return undefined;
  return { impl: policy.choose({ node, ctx, candidates }), used: ctx, precision };
}

export function selectKernels(state: BuildState): void {
  const { model, registry, log } = state;
  state.byteStorage = planByteStorage(state);
  if (state.byteStorage.size) log(`int8 storage: ${state.byteStorage.size} int8/uint8 tensor(s) held one byte per element`);
  const fusion = state.config.fusion !== false;
  const unsupported: string[] = [];
  const refused: { output: string; reason: string }[] = [];
  for (const node of model.graph.nodes) {
    if (state.folded.has(node)) continue;
    pieceStorage(state, node);
    const opset = model.opsets.get(node.domain) ?? 0;
    const def = registry.get(node.domain, node.opType);
    const where = `${node.name || node.outputs[0]} (${node.domain ? node.domain + '::' : ''}${node.opType}, opset ${opset})`;
    const before = unsupported.length;
    if (!def) { unsupported.push(`${where}: operator not implemented`); continue; }
    try {
      const inputs = node.inputs.map((i) => (i ? descOf(state, i, node) : undefined));
      const outputs = node.outputs.map((o) => descOf(state, o || node.outputs.find((x) => x)!, node));
      const ctx: KernelContext = {
        node, opset, attrs: new Attrs(node), inputs, outputs, caps: state.caps,
        fail: (m) => { throw new GraphError(m, node); },
        unsupported: (m) => { throw new UnsupportedError(m, node); },
      };
      const claimed = fusion && state.subviews.claim(node, inputs, outputs, state.tensors, (o, gpu) => {
        ensureTensor(state, o, 'activation', { ...descOf(state, o, node), gpu });
        state.prec.produced(o, gpu);
      });
      if (claimed) { state.views++; continue; }
      const isView = typeof def.view === 'function' ? def.view(ctx) : !!def.view;
      if (isView && node.outputs.filter((o) => o).length === 1) {
        state.aliasOf.set(node.outputs[0], node.inputs[0]);
        state.prec.aliased(node.outputs[0], node.inputs[0], inputs[0]!);
        state.views++;
        continue;
      }
      // packed tensors (float8, float4, int4, int2) go whole through views (the bytes are shared);
      // only kernels that read and write the packed words take them
      if (!def.traits?.packedStorage) {
        const packed = [...inputs, ...outputs].find((d) => d && isPacked(d.gpu));
        if (packed) throw new UnsupportedError(`a ${packed.dtype} tensor is stored packed on the GPU (${packed.gpu}), which only ${PACKED_OPS} take; cast it to float32 first`, node);
      }
      if (!def.traits?.stringIds) {
        const k = node.inputs.findIndex((_, j) => inputs[j]?.gpu === 'sid');
        const o = outputs.find((d) => d.gpu === 'sid');
        if (k >= 0 || o) throw new UnsupportedError(`tensor '${k >= 0 ? node.inputs[k] : node.outputs[0]}' has dtype string, which the GPU holds only as ids for Equal`, node);
      }
      if (!def.kernel) { unsupported.push(`${where}: no GPU kernel`); continue; }
      if (outputs.every((o) => o.dims.includes(0))) {
        // every output is empty: nothing to compute
        for (const o of node.outputs) if (o) ensureTensor(state, o, 'activation', undefined, node);
        continue;
      }
      const chosen = chooseImpl(state, node, ctx);
      if (!chosen) { unsupported.push(`${where}: no GPU kernel for these shapes/attributes`); continue; }
      const { impl, used, precision } = chosen;
      log(`layer ${state.layers.length}: ${node.name || node.outputs[0]} (${node.opType}) -> ${impl.name}${precision === 'fp16' ? ' [fp16]' : INTEGER_LAYERS.has(node.opType) ? ' [int8]' : ''}`);
      state.layers.push(planLayer(state, node, impl, used, precision));
    } catch (e) {
      if (e instanceof UnsupportedError) unsupported.push(`${where}: ${e.message.replace(/^node '[^']*' \([^)]*\): /, '')}`);
      else throw e;
    } finally {
      if (unsupported.length > before) refused.push({ output: node.outputs.find((o) => o) ?? '', reason: unsupported[before].slice(where.length + 2) });
    }
  }
  if (unsupported.length) {
    throw new UnsupportedError(`${unsupported.length} node(s) cannot run on the GPU:\n  ${unsupported.join('\n  ')}\nHint: check the opset and attributes against docs/operators.md, or run this model with the reference interpreter (or with host fallback: BuilderConfig.hostFallback, CLI --hostFallback).`, undefined, refused);
  }
}

/** The pieces of a build by name (the list is fixed once kernel selection starts). */
const piecesByChild = new WeakMap<readonly Piece[], Map<string, Piece>>();

/**
 * During kernel selection, before `node`: a piece it reads that no layer wrote (a piece of an
 * input, or of a view of a tensor written in pieces) is stored as its whole is, so that every piece
 * of a whole agrees with the others on its storage type (FP16 engines).
 */
export function pieceStorage(state: BuildState, node: Node): void {
  if (!state.pieces.length) return;
  let byChild = piecesByChild.get(state.pieces);
  if (!byChild) piecesByChild.set(state.pieces, (byChild = new Map(state.pieces.map((p) => [p.child, p]))));
  for (const i of node.inputs) {
    const p = i ? byChild.get(i) : undefined;
    if (!p || state.prec.known(i)) continue;
    const whole = rootOf(state, p.whole);
    const desc = { dtype: state.types.get(i)!.dtype };
    if (state.prec.known(whole)) { state.prec.aliased(i, whole, desc); continue; }
    // the whole is written in pieces: as its pieces written so far are
    const sibling = state.pieces.find((q) => q !== p && rootOf(state, q.whole) === whole && state.prec.known(q.child));
    if (sibling) state.prec.aliased(i, sibling.child, desc);
  }
}

/** The planned layer of a chosen implementation: bindings resolved to tensor names, scratch laid out. */
function planLayer(state: BuildState, node: Node, impl: KernelImpl, used: KernelContext, precision: 'fp32' | 'fp16'): PlannedLayer {
  const layer: PlannedLayer = {
    name: node.name || node.outputs[0], opTypes: fusedOps(node), kernel: impl.name, precision: !node.domain && INTEGER_LAYERS.has(node.opType) ? 'int8' : precision,
    inputs: node.inputs.filter((i) => i), outputs: node.outputs.filter((o) => o),
    dispatches: [],
    kernelWeights: (impl.weights ?? []).map((w) => ({ offset: -1, bytes: Math.max(4, w.data.byteLength), data: w.data })),
    scratch: [],
  };
  let sOff = 0;
  for (const bytes of impl.scratch ?? []) {
    layer.scratch.push({ offset: sOff, bytes: Math.max(4, bytes) });
    sOff = alignUp(sOff + Math.max(4, bytes), state.caps.alignment);
  }
  const bound = new Map<number, string>();
  const bindInput = (k: number): string => {
    if (!bound.has(k)) bound.set(k, bindAs(state, node.inputs[k], used.inputs[k]!));
    return bound.get(k)!;
  };
  for (const d of impl.dispatches) {
    const bindings = d.bindings.map((b: BindingRef) => {
      if ('input' in b) return { tensor: bindInput(b.input) };
      if ('output' in b) return { tensor: node.outputs[b.output] };
      if ('weight' in b) return { kernelWeight: b.weight };
      return { scratch: b.scratch };
    });
    layer.dispatches.push({ ...d, bindings });
  }
  for (const [k, name] of bound) {
    if (name === node.inputs[k]) ensureTensor(state, name, state.constants.has(name) ? 'weight' : 'activation', state.constants.has(name) ? undefined : used.inputs[k], node);
  }
  node.outputs.forEach((o, k) => {
    if (!o) return;
    ensureTensor(state, o, 'activation', used.outputs[k]);
    state.prec.produced(o, used.outputs[k].gpu);
  });
  layer.source = opSource(node, used.opset, used.inputs, used.outputs, node.inputs.map((_, k) => bound.get(k)));
  return layer;
}
