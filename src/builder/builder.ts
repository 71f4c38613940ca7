/**
 * The builder: model -> shape inference for the given input shapes -> constant folding through the
 * references -> kernel selection per node -> memory plan -> an EnginePlan (plain data: layers,
 * dispatches, tensors with arena offsets, weights). src/runtime/engine.ts turns a plan into
 * pipelines and one recorded program.
 */
import { GraphError, InputError, UnsupportedError } from '../errors';
import { Dim, Model, Node, ValueType } from '../ir/graph';
import { Tensor } from '../ir/tensor';
import { registry as defaultRegistry } from '../ops/index';
import { inferShapes, isStatic } from '../ops/infer-shapes';
import { OpRegistry } from '../ops/registry';
import { BindingRef, DeviceCaps, DispatchDesc, KernelContext, KernelImpl, TensorDesc } from '../kernel/contract';
import type { EngineIO, EnginePlan, PlannedLayer, PlannedTensor, TensorKind } from '../kernel/plan';
import { planMemory, PlanItem } from './memory-plan';
import { optimize } from './passes/optimize';
import { fusedOps } from './passes/rule';
import { SubViews } from './passes/subviews';
import { conversionDispatch, PrecisionPlanner } from './precision';
import { Attrs } from '../ir/attrs';
import { alignUp, toGpuArray, GpuArray, GpuType, gpuTypeBytes, gpuTypeOf, toFloat16Bits } from '../kernel/storage';

export interface BuilderConfig {
  /** Concrete shapes for inputs with symbolic or unknown dims (trtexec's --shapes). */
  inputShapes?: Record<string, readonly number[]>;
  /**
   * How kernels receive shape facts: 'spec' (specialization constants, the default: fastest) or
   * 'push' (push constants: one pipeline per shader whatever the shapes).
   */
  paramMode?: 'spec' | 'push';
  /** Run the graph optimizer (fusions, simplifications) before planning; default true. */
  fusion?: boolean;
  /** Build FP16 layers where the device and the layer allow it (trtexec's --fp16; docs/fp16.md). */
  fp16?: boolean;
  /**
   * Layers pinned to FP32 in FP16 engines (TensorRT's layer precision constraints): each entry
   * matches a node name, an output tensor name or an op type.
   */
  fp32Layers?: readonly string[];
  registry?: OpRegistry;
  /** Receives build log lines (kernel choices, folding, memory). */
  log?(line: string): void;
}

function describeShape(s: readonly Dim[] | undefined): string {
  return s ? `[${s.join(',')}]` : '[?]';
}

export function buildPlan(model: Model, caps: DeviceCaps & { alignment: number }, config: BuilderConfig = {}): EnginePlan {
  const reg = config.registry ?? defaultRegistry;
  const log = config.log ?? (() => {});
  const prec = new PrecisionPlanner(config, caps, log);
  let g = model.graph;
  const onnxNodes = g.nodes.length;
  if (!g.isSorted()) g.topoSort();
  const realInputs = g.inputs.filter((i) => !g.initializers.has(i));
  // 1. input shapes: from the model where static, else from the caller
  const inputTypes = new Map<string, ValueType>();
  for (const name of Object.keys(config.inputShapes ?? {})) {
    if (!realInputs.includes(name)) throw new InputError(`--shapes names '${name}', which is not an input of the model (inputs: ${realInputs.join(', ')})`);
  }
  for (const name of realInputs) {
    const declared = g.types.get(name);
    if (!declared || (declared.kind && declared.kind !== 'tensor')) throw new UnsupportedError(`input '${name}' is not a tensor with a known type`);
    const given = config.inputShapes?.[name];
    let shape: Dim[] | undefined = given ? [...given] : declared.shape;
    if (given && declared.shape) {
      if (given.length !== declared.shape.length) throw new InputError(`input '${name}' has rank ${declared.shape.length} (${describeShape(declared.shape)}); --shapes gave [${given.join(',')}]`);
      declared.shape.forEach((d, i) => {
        if (typeof d === 'number' && d !== given[i]) throw new InputError(`input '${name}' dimension ${i} is fixed at ${d} by the model; --shapes gave ${given[i]}`);
      });
    }
    if (!shape) throw new InputError(`input '${name}' has unknown rank; give its shape with --shapes=${name}:1x3x224x224`);
    const sym = shape.filter((d) => typeof d !== 'number');
    if (sym.length) throw new InputError(`input '${name}' has symbolic dimension(s) ${sym.map((s) => `'${s}'`).join(', ')} (${describeShape(shape)}); give a value with --shapes=${name}:${shape.map((d) => (typeof d === 'number' ? d : 1)).join('x')}`);
    inputTypes.set(name, { kind: 'tensor', dtype: declared.dtype, shape });
  }
  // 1b. the graph optimizer (src/builder/passes: fusions, simplifications) on a copy of the model
  if (config.fusion !== false) { model = optimize(model, { registry: reg, inputTypes, log }).model; g = model.graph; }
  // 2. shape inference + constant folding
  const { types, constants, folded } = inferShapes(g, model.opsets, { registry: reg, inputTypes });
  // 3. kernel selection
  const unsupported: string[] = [];
  const layers: PlannedLayer[] = [];
  const aliasOf = new Map<string, string>();
  const tensors = new Map<string, PlannedTensor>();
  const weightData = new Map<string, GpuArray>();
  let views = 0;
  // concat elimination and Split as views (sub-tensor slices of the arena), part of fusion
  const subviews = new SubViews(caps.alignment, (n) => { let r = n; while (aliasOf.has(r)) r = aliasOf.get(r)!; return r; }, log);
  const descOf = (name: string, node: Node): TensorDesc => {
    const t = types.get(name);
    if (!t || !isStatic(t.shape)) throw new GraphError(`the shape of '${name}' is not known at build time (${t ? describeShape(t.shape) : 'no type'}); give input shapes with --shapes`, node);
    const gpu = gpuTypeOf(t.dtype);
    if (!gpu) throw new UnsupportedError(`tensor '${name}' has dtype ${t.dtype}, which the GPU does not hold`, node);
    return { dtype: t.dtype, gpu, dims: t.shape, constant: constants.get(name) };
  };
  const ensureTensor = (name: string, node: Node, kind: TensorKind, as?: TensorDesc) => {
    if (tensors.has(name)) return;
    const d = as ?? descOf(name, node);
    const elems = d.dims.reduce((a, b) => a * b, 1);
    tensors.set(name, { name, dtype: d.dtype, gpu: d.gpu, dims: d.dims, bytes: Math.max(4, elems * gpuTypeBytes(d.gpu)), kind, offset: -1 });
    if (kind === 'weight') weightData.set(name, toGpuArray(d.constant!, d.gpu));
  };
  // Storage conversions (FP16 engines): a tensor bound in another storage type than it has gets a
  // conversion layer before its first such use; weights get a copy in the wanted type.
  const conversions = new Map<string, string>();
  const convert = (node: Node, name: string, desc: TensorDesc, from: GpuType, to: GpuType): string => {
    const key = `${name}::${to}`;
    if (conversions.has(key)) return conversions.get(key)!;
    if (!aliasOf.has(name)) ensureTensor(name, node, 'activation', { ...desc, gpu: from });
    ensureTensor(key, node, 'activation', { ...desc, gpu: to, constant: undefined });
    const d = conversionDispatch(from, to, desc.dims, caps);
    layers.push({
      name: `${name}:to_${to === 'f16' ? 'fp16' : 'fp32'}`, opTypes: ['Cast'], kernel: `convert_${from}_to_${to}`, precision: to === 'f16' ? 'fp16' : 'fp32',
      inputs: [name], outputs: [key], dispatches: [{ ...d, bindings: [{ tensor: name }, { tensor: key }] }], kernelWeights: [], scratch: [],
    });
    conversions.set(key, key);
    return key;
  };
  const bindAs = (node: Node, name: string, want: TensorDesc): string => {
    if (constants.has(name)) {
      if (want.gpu === gpuTypeOf(want.dtype)) return name;
      const copy = `${name}::${want.gpu}`;
      ensureTensor(copy, node, 'weight', { ...want, constant: constants.get(name) });
      return copy;
    }
    const have = prec.storageOf(name, want);
    return have === want.gpu ? name : convert(node, name, want, have, want.gpu);
  };
  for (const node of g.nodes) {
    if (folded.has(node)) continue;
    const opset = model.opsets.get(node.domain) ?? 0;
    const def = reg.get(node.domain, node.opType);
    const where = `${node.name || node.outputs[0]} (${node.domain ? node.domain + '::' : ''}${node.opType}, opset ${opset})`;
    if (!def) { unsupported.push(`${where}: operator not implemented`); continue; }
    try {
      const inputs = node.inputs.map((i) => (i ? descOf(i, node) : undefined));
      const outputs = node.outputs.map((o) => (o ? descOf(o, node) : descOf(node.outputs.find((x) => x)!, node)));
      const ctx: KernelContext = {
        node, opset, attrs: new Attrs(node), inputs, outputs, caps,
        fail: (m) => { throw new GraphError(m, node); },
        unsupported: (m) => { throw new UnsupportedError(m, node); },
      };
      if (config.fusion !== false && subviews.claim(node, inputs, outputs, tensors, (o, gpu) => { ensureTensor(o, node, 'activation', { ...descOf(o, node), gpu }); prec.produced(o, gpu); })) { views++; continue; }
      const isView = typeof def.view === 'function' ? def.view(ctx) : !!def.view;
      if (isView && node.outputs.filter((o) => o).length === 1) {
        aliasOf.set(node.outputs[0], node.inputs[0]);
        prec.aliased(node.outputs[0], node.inputs[0], inputs[0]!);
        views++;
        continue;
      }
      if (!def.kernel) { unsupported.push(`${where}: no GPU kernel`); continue; }
      if (outputs.every((o) => o.dims.includes(0))) {
        // every output is empty: nothing to compute
        for (const o of node.outputs) if (o) ensureTensor(o, node, 'activation');
        continue;
      }
      // precision: an FP16 candidate keeps its FP16 kernel only if the implementation honours f16
      let precision = prec.choose(node, inputs, outputs);
      let used: KernelContext = ctx;
      let impl: KernelImpl | undefined;
      if (precision === 'fp16') {
        const c16: KernelContext = { ...ctx, inputs: prec.retype(inputs, 'fp16'), outputs: prec.retype(outputs, 'fp16') };
        try {
          const i16 = def.kernel(c16)[0];
          if (i16?.fp16) { impl = i16; used = c16; }
        } catch { /* no FP16 variant for these attributes: the FP32 kernel below decides */ }
        if (!impl) { prec.noKernel(node); precision = 'fp32'; }
      }
      if (!impl) {
        const impls = def.kernel(ctx);
        if (!impls.length) { unsupported.push(`${where}: no GPU kernel for these shapes/attributes`); continue; }
        impl = impls[0];
      }
      log(`layer ${layers.length}: ${node.name || node.outputs[0]} (${node.opType}) -> ${impl.name}${precision === 'fp16' ? ' [fp16]' : ''}`);
      const usedInputs = new Set<number>();
      const layer: PlannedLayer = {
        name: node.name || node.outputs[0], opTypes: fusedOps(node), kernel: impl.name, precision,
        inputs: node.inputs.filter((i) => i), outputs: node.outputs.filter((o) => o),
        dispatches: [],
        kernelWeights: (impl.weights ?? []).map((w) => ({ offset: -1, bytes: Math.max(4, w.data.byteLength), data: w.data })),
        scratch: [],
      };
      let sOff = 0;
      for (const bytes of impl.scratch ?? []) {
        layer.scratch.push({ offset: sOff, bytes: Math.max(4, bytes) });
        sOff = alignUp(sOff + Math.max(4, bytes), caps.alignment);
      }
      const boundInputs = new Map<number, string>();
      const bindInput = (k: number): string => {
        if (!boundInputs.has(k)) boundInputs.set(k, bindAs(node, node.inputs[k], used.inputs[k]!));
        return boundInputs.get(k)!;
      };
      for (const d of impl.dispatches) {
        const bindings = d.bindings.map((b: BindingRef) => {
          if ('input' in b) { usedInputs.add(b.input); return { tensor: bindInput(b.input) }; }
          if ('output' in b) return { tensor: node.outputs[b.output] };
          if ('weight' in b) return { kernelWeight: b.weight };
          return { scratch: b.scratch };
        });
        layer.dispatches.push({ ...d, bindings });
      }
      for (const k of usedInputs) {
        const name = boundInputs.get(k)!;
        if (name === node.inputs[k]) ensureTensor(name, node, constants.has(name) ? 'weight' : 'activation');
      }
      node.outputs.forEach((o, k) => {
        if (!o) return;
        ensureTensor(o, node, 'activation', used.outputs[k]);
        prec.produced(o, used.outputs[k].gpu);
      });
      layers.push(layer);
    } catch (e) {
      if (e instanceof UnsupportedError) unsupported.push(`${where}: ${e.message.replace(/^node '[^']*' \([^)]*\): /, '')}`);
      else throw e;
    }
  }
  if (unsupported.length) {
    throw new UnsupportedError(`${unsupported.length} node(s) cannot run on the GPU:\n  ${unsupported.join('\n  ')}\nHint: check the opset and attributes against docs/operators.md, or run this model with the reference interpreter.`);
  }
  // Model outputs keep their ONNX types: f16 results are converted back on the GPU.
  const outputOverride = new Map<string, string>();
  if (prec.enabled) {
    for (const o of g.outputs) {
      const t = types.get(o);
      if (!t || constants.has(o) || gpuTypeOf(t.dtype) !== 'f32' || !isStatic(t.shape)) continue;
      if (prec.storageOf(o, t) !== 'f16') continue;
      const desc: TensorDesc = { dtype: t.dtype, gpu: 'f32', dims: t.shape as number[] };
      outputOverride.set(o, convert(g.nodes[g.nodes.length - 1], o, desc, 'f16', 'f32'));
    }
  }
  prec.summarize(layers);
  // Resolve aliases to the tensor that owns the bytes (chains of views collapse).
  const rootOf = (n: string): string => {
    let r = n;
    for (let k = 0; aliasOf.has(r) && k < 10000; k++) r = aliasOf.get(r)!;
    return r;
  };
  for (const l of layers) {
    for (const d of l.dispatches) for (const b of d.bindings) if ('tensor' in b) b.tensor = rootOf(b.tensor);
    l.inputs = l.inputs.map(rootOf);
    l.outputs = l.outputs.map(rootOf);
  }
  // 4. inputs and outputs
  const io = (name: string): EngineIO => {
    const t = types.get(name)!;
    return { name, dtype: t.dtype, dims: t.shape as number[], gpu: gpuTypeOf(t.dtype)! };
  };
  const inputs = realInputs.map(io);
  for (const i of inputs) if (!tensors.has(i.name)) tensors.set(i.name, { name: i.name, dtype: i.dtype, gpu: i.gpu, dims: i.dims, bytes: Math.max(4, i.dims.reduce((a, b) => a * b, 1) * gpuTypeBytes(i.gpu)), kind: 'input', offset: -1 });
  for (const i of inputs) tensors.get(i.name)!.kind = 'input';
  const constantOutputs = new Map<string, Tensor>();
  const outputs: EngineIO[] = [];
  for (const o of g.outputs) {
    const root = outputOverride.get(o) ?? rootOf(o);
    if (constants.has(root) && !tensors.has(root)) { constantOutputs.set(o, constants.get(root)!.reshape((types.get(o)?.shape as number[]) ?? constants.get(root)!.dims)); continue; }
    const t = types.get(o);
    if (!t || !isStatic(t.shape)) throw new GraphError(`the shape of output '${o}' is not known at build time`);
    if (!tensors.has(root)) throw new GraphError(`output '${o}' is not computed by any layer`);
    if (tensors.get(root)!.kind === 'activation') tensors.get(root)!.kind = 'output';
    outputs.push({ ...io(o), name: o });
  }
  // 5. memory plan: lifetimes in layer steps; inputs live from the start, outputs to the end
  const first = new Map<string, number>(), last = new Map<string, number>();
  layers.forEach((l, step) => {
    for (const d of l.dispatches) for (const b of d.bindings) {
      if (!('tensor' in b)) continue;
      if (!first.has(b.tensor)) first.set(b.tensor, step);
      last.set(b.tensor, step);
    }
  });
  const end = layers.length;
  const items: PlanItem[] = [];
  for (const t of tensors.values()) {
    if (t.kind === 'weight') continue;
    const start = t.kind === 'input' ? -1 : first.get(t.name) ?? 0;
    const stop = t.kind === 'output' || outputs.some((o) => (outputOverride.get(o.name) ?? rootOf(o.name)) === t.name) ? end : Math.max(start, last.get(t.name) ?? start);
    items.push({ id: t.name, size: t.bytes, start, end: stop });
  }
  const plan = planMemory(subviews.adjustPlan(items), caps.alignment);
  for (const [id, off] of plan.offsets) tensors.get(id)!.offset = off;
  subviews.place(tensors);
  // 6. weights: one buffer, each tensor aligned
  let wOff = 0;
  for (const t of tensors.values()) {
    if (t.kind !== 'weight') continue;
    t.offset = wOff;
    wOff = alignUp(wOff + t.bytes, caps.alignment);
  }
  for (const l of layers) for (const w of l.kernelWeights) { w.offset = wOff; wOff = alignUp(wOff + w.bytes, caps.alignment); }
  log(`memory: arena ${plan.arenaBytes} bytes (naive sum ${plan.naiveBytes}), weights ${wOff} bytes, ${layers.length} layers, ${folded.size} folded, ${views} views`);
  return {
    layers, tensors, inputs, outputs, constantOutputs, outputRoots: new Map(outputs.map((o) => [o.name, outputOverride.get(o.name) ?? rootOf(o.name)])),
    arenaBytes: Math.max(plan.arenaBytes, caps.alignment), naiveActivationBytes: plan.naiveBytes, weightBytes: Math.max(wOff, caps.alignment),
    scratchBytes: Math.max(0, ...layers.map((l) => l.scratch.reduce((m, x) => Math.max(m, x.offset + x.bytes), 0))),
    weightData, paramMode: config.paramMode ?? 'spec', alignment: caps.alignment,
    stats: { onnxNodes, folded: folded.size, views, layers: layers.length },
  };
}
