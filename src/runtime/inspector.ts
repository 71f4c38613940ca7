/**
 * The engine inspector (TensorRT's IEngineInspector): a plain JSON description of a plan, its layers
 * with their fused names, kernels, precisions and tensor shapes, the I/O bindings and the memory
 * plan. `vkrt inspect --json` prints it and `vkrt exec --exportLayerInfo` writes it.
 */

import type { DeviceFingerprint } from './engine-file';
import type { EnginePlan, PlannedLayer, PlannedTensor, PluginRecord, RefitWeight } from '../kernel/plan';

/** A tensor as the inspector shows it. */
export interface InspectedTensor {
  name: string;
  dtype: string;
  /** GPU storage type (f32, f16, i32). */
  gpu: string;
  dims: number[];
  /** 'arena' (activations, inputs, outputs) or 'weights'. */
  buffer: 'arena' | 'weights';
  /** Which arena or weight buffer, when there are several (docs/big-tensors.md). */
  bufferIndex?: number;
  offset: number;
  bytes: number;
  kind: string;
}

/** One engine layer. */
export interface InspectedLayer {
  index: number;
  /** Fused layers carry their parts' names joined by '+'. */
  name: string;
  opTypes: string[];
  kernel: string;
  /** The chosen implementation; when the builder timed candidates, how many and its measured time. */
  tactic: { name: string; candidates?: number; timedMs?: number };
  precision: string;
  /** The tensors its dispatches read (as bound: after storage conversions), in binding order. */
  inputs: InspectedTensor[];
  outputs: InspectedTensor[];
  dispatches: { shader: string; generated: boolean; defines: Record<string, string | number>; workgroup: number[]; groups: number[]; params: number[] }[];
  kernelWeights: { offset: number; bytes: number }[];
  scratch: { offset: number; bytes: number }[];
}

/** What the inspector prints for one engine. */
export interface EngineInfo {
  source: { kind: 'engine' | 'onnx'; file?: string; formatVersion?: number; vkrtVersion?: string; bytes?: number };
  device?: DeviceFingerprint;
  summary: { layers: number; onnxNodes: number; folded: number; views: number; precisions: Record<string, number>; paramMode: string };
  bindings: { inputs: InspectedTensor[]; outputs: InspectedTensor[]; constantOutputs: { name: string; dtype: string; dims: number[] }[] };
  memory: {
    arenaBytes: number; naiveActivationBytes: number; weightBytes: number; scratchBytes: number; alignment: number;
    /** Each buffer's bytes, when the arena or the weights span several. */
    arenaBuffers?: number[]; weightBuffers?: number[];
    /** Every tensor with its slot, and the layers between which an arena tensor is live. */
    tensors: (InspectedTensor & { firstLayer?: number; lastLayer?: number })[];
  };
  layers: InspectedLayer[];
  /** The plugins the engine runs, by name and version (loading needs none of their code). */
  plugins?: PluginRecord[];
  /** The weights a refittable engine accepts in refit(), by ONNX initializer name. */
  refit?: { weights: RefitWeight[] };
  /** Optimization profiles: per profile, each varying input's range and the arena its max shapes need. */
  profiles?: { inputs: Record<string, { min: number[]; opt: number[]; max: number[] }>; arenaBytes: number }[];
}

function tensorInfo(t: PlannedTensor | undefined, name: string): InspectedTensor {
  if (!t) return { name, dtype: '?', gpu: '?', dims: [], buffer: 'arena', offset: -1, bytes: 0, kind: 'unknown' };
  return { name, dtype: t.dtype, gpu: t.gpu, dims: [...t.dims], buffer: t.kind === 'weight' ? 'weights' : 'arena', ...(t.buffer !== undefined ? { bufferIndex: t.buffer } : {}), offset: t.offset, bytes: t.bytes, kind: t.kind };
}

/**
 * What a layer reads, from its dispatch bindings: they are what runs (the builder's `inputs` list
 * names graph tensors, which conversions and fusions may have replaced).
 */
function boundInputs(l: PlannedLayer): string[] {
  const outs = new Set(l.outputs);
  const seen = new Set<string>();
  for (const d of l.dispatches) for (const b of d.bindings) if ('tensor' in b && !outs.has(b.tensor)) seen.add(b.tensor);
  return [...seen];
}

/** Describes a plan (from a build or an engine file). */
export function inspectPlan(plan: EnginePlan, source: EngineInfo['source'], device?: DeviceFingerprint): EngineInfo {
  const precisions: Record<string, number> = {};
  const first = new Map<string, number>(), last = new Map<string, number>();
  const layers = plan.layers.map((l, index): InspectedLayer => {
    precisions[l.precision] = (precisions[l.precision] ?? 0) + 1;
    for (const n of [...l.inputs, ...l.outputs]) {
      if (!first.has(n)) first.set(n, index);
      last.set(n, index);
    }
    return {
      index, name: l.name, opTypes: [...l.opTypes], kernel: l.kernel, precision: l.precision,
      tactic: { name: l.kernel, candidates: l.tactic?.candidates, timedMs: l.tactic?.ms },
      inputs: boundInputs(l).map((n) => tensorInfo(plan.tensors.get(n), n)),
      outputs: l.outputs.map((n) => tensorInfo(plan.tensors.get(n), n)),
      dispatches: l.dispatches.map((d) => ({
        shader: d.shader, generated: !!d.source, defines: { ...(d.defines ?? {}) }, workgroup: [...d.workgroup], groups: [...d.groups], params: [...d.params],
      })),
      kernelWeights: l.kernelWeights.map((w) => ({ offset: w.offset, bytes: w.bytes })),
      scratch: l.scratch.map((s) => ({ ...s })),
    };
  });
  const tensors = [...plan.tensors.values()]
    .map((t) => ({ ...tensorInfo(t, t.name), firstLayer: first.get(t.name), lastLayer: last.get(t.name) }))
    .sort((a, b) => (a.buffer === b.buffer ? a.offset - b.offset : a.buffer === 'arena' ? -1 : 1));
  return {
    source, device,
    summary: { layers: plan.layers.length, onnxNodes: plan.stats.onnxNodes, folded: plan.stats.folded, views: plan.stats.views, precisions, paramMode: plan.paramMode },
    bindings: {
      inputs: plan.inputs.map((i) => ({ ...tensorInfo(plan.tensors.get(i.name), i.name), dtype: i.dtype, dims: [...i.dims] })),
      outputs: plan.outputs.map((o) => ({ ...tensorInfo(plan.tensors.get(plan.outputRoots.get(o.name) ?? o.name), o.name), dtype: o.dtype, dims: [...o.dims] })),
      constantOutputs: [...plan.constantOutputs].map(([name, t]) => ({ name, dtype: t.dtype, dims: [...t.dims] })),
    },
    memory: {
      arenaBytes: plan.arenaBytes, naiveActivationBytes: plan.naiveActivationBytes, weightBytes: plan.weightBytes,
      scratchBytes: plan.scratchBytes, alignment: plan.alignment,
      ...(plan.arenaBuffers ? { arenaBuffers: [...plan.arenaBuffers] } : {}), ...(plan.weightBuffers ? { weightBuffers: [...plan.weightBuffers] } : {}),
      tensors,
    },
    layers,
    ...(plan.plugins?.length ? { plugins: plan.plugins.map((p) => ({ ...p, layers: [...p.layers] })) } : {}),
    ...(plan.refit ? { refit: { weights: plan.refit.weights.map((w) => ({ ...w, dims: [...w.dims] })) } } : {}),
    ...(plan.profiles ? { profiles: plan.profiles.profiles.map((p) => ({ inputs: Object.fromEntries(Object.entries(p.inputs).map(([n, r]) => [n, { min: [...r.min], opt: [...r.opt], max: [...r.max] }])), arenaBytes: p.arenaBytes })) } : {}),
  };
}

function kib(n: number): string {
  return n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`;
}

function shape(t: InspectedTensor): string {
  return `${t.name} ${t.gpu === 'f16' ? 'f16' : t.dtype}[${t.dims.join(',')}]`;
}

/** The inspector's text form (what `vkrt inspect` prints without --json). */
export function formatEngineInfo(info: EngineInfo): string[] {
  const out: string[] = [];
  const s = info.source;
  const dev = info.device ? ` for ${info.device.name} (driver ${info.device.driverName} ${info.device.driverVersion})` : '';
  out.push(s.kind === 'engine'
    ? `Engine file ${s.file ?? ''}: ${s.bytes} bytes, format ${s.formatVersion}, vkrt ${s.vkrtVersion}${dev}`
    : `Engine built from ${s.file ?? 'a model'}${dev}`);
  const sum = info.summary;
  out.push(`Layers: ${sum.layers} (${sum.onnxNodes} ONNX nodes, ${sum.folded} folded, ${sum.views} views); precision: ${Object.entries(sum.precisions).map(([p, n]) => `${n} ${p}`).join(', ') || 'none'}; shape facts as ${sum.paramMode === 'spec' ? 'specialization' : 'push'} constants`);
  for (const p of info.plugins ?? []) out.push(`Plugin ${p.name} ${p.version} (${p.domain || 'ai.onnx'}::${p.opType}): layer(s) ${p.layers.join(', ')}`);
  (info.profiles ?? []).forEach((p, k) => out.push(`Profile ${k}: ${Object.entries(p.inputs).map(([n, r]) => `${n} min [${r.min.join(',')}], opt [${r.opt.join(',')}], max [${r.max.join(',')}]`).join('; ')}; arena at max ${kib(p.arenaBytes)} (the layers below are the opt shapes of profile 0)`));
  if (info.refit) out.push(`Refittable: ${info.refit.weights.length} weights (${info.refit.weights.slice(0, 6).map((w) => w.name).join(', ')}${info.refit.weights.length > 6 ? ', ...' : ''})`);
  for (const t of info.bindings.inputs) out.push(`Input  ${shape(t)} @ arena+${t.offset} (${kib(t.bytes)})`);
  for (const t of info.bindings.outputs) out.push(`Output ${shape(t)} @ arena+${t.offset} (${kib(t.bytes)})`);
  for (const t of info.bindings.constantOutputs) out.push(`Output ${t.name} ${t.dtype}[${t.dims.join(',')}] (constant, folded at build time)`);
  out.push('');
  const rows = info.layers.map((l) => [
    String(l.index), l.name, l.tactic.timedMs !== undefined ? `${l.kernel} (${l.tactic.timedMs.toFixed(3)} ms of ${l.tactic.candidates} timed)` : l.kernel, l.precision,
    `${l.inputs.map(shape).join(', ')} -> ${l.outputs.map(shape).join(', ')}`,
  ]);
  const head = ['#', 'Layer', 'Tactic', 'Prec', 'Tensors'];
  const w = head.map((h, k) => Math.min(k === 1 ? 48 : 40, Math.max(h.length, ...rows.map((r) => r[k].length))));
  const line = (r: string[]) => r.map((c, k) => (k === r.length - 1 ? c : c.padEnd(w[k]))).join('  ');
  out.push(line(head));
  for (const r of rows) out.push(line(r));
  out.push('');
  const m = info.memory;
  out.push(`Memory plan: arena ${kib(m.arenaBytes)} (naive sum of activations ${kib(m.naiveActivationBytes)}, ${((100 * m.arenaBytes) / Math.max(1, m.naiveActivationBytes)).toFixed(1)}%), weights ${kib(m.weightBytes)}, scratch ${kib(m.scratchBytes)}, alignment ${m.alignment} B`);
  if (m.arenaBuffers || m.weightBuffers) out.push(`Buffers: ${m.arenaBuffers ? `arena in ${m.arenaBuffers.length} (${m.arenaBuffers.map(kib).join(', ')})` : 'arena in 1'}, ${m.weightBuffers ? `weights in ${m.weightBuffers.length} (${m.weightBuffers.map(kib).join(', ')})` : 'weights in 1'}`);
  out.push(`  ${'buffer'.padEnd(7)} ${'offset'.padStart(10)} ${'bytes'.padStart(10)}  live(layers)  tensor`);
  for (const t of m.tensors) {
    const live = t.firstLayer === undefined ? '-' : `${t.firstLayer}..${t.lastLayer}`;
    out.push(`  ${t.buffer.padEnd(7)} ${String(t.offset).padStart(10)} ${String(t.bytes).padStart(10)}  ${live.padEnd(12)}  ${shape(t)} (${t.kind})`);
  }
  return out;
}
