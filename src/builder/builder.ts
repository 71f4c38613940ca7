/**
 * The builder: a model and the device's caps in, an EnginePlan out (plain data: layers, dispatches,
 * tensors with arena offsets, weights in GPU form). It runs the phases below in order over one
 * BuildState (state.ts), one file each under phases/; build.ts adds the shader phase (GLSL to
 * SPIR-V) and hands the result to the runtime.
 */
import { registry as defaultRegistry } from '../ops/index';
import type { DeviceCaps } from '../kernel/contract';
import type { EnginePlan, PluginRecord } from '../kernel/plan';
import type { Model } from '../ir/graph';
import type { BuilderConfig } from './config';
import { PROGRESS_SPAN } from '../kernel/progress';
import { SubViews } from './passes/subviews';
import { PrecisionPlanner } from './precision';
import { resolveInputShapes } from './phases/input-shapes';
import { unrollControl } from './phases/control-flow';
import { resolveIO, outputRoot } from './phases/io';
import { selectKernels } from './phases/kernels';
import { planArena } from './phases/memory';
import { optimizeGraph } from './phases/optimize';
import { inferTypes } from './phases/shapes';
import { layoutWeights } from './phases/weights';
import { checkBindings, placePieces, splitBigTensors } from './phases/big-tensors';
import { BuildState, rootOf } from './state';
import { pluginOf } from '../plugins/define';
import { registryWithPlugins, shadowReplacedOps } from '../plugins/registry';
import { resolvePlugins } from '../plugins/load';
import { makeRefitRecord } from './refit';
import { buildWithProfiles } from './profiles';

export type { BuilderConfig, BuildProgress, OptimizationProfile } from './config';

/** A named step of the build. */
export interface BuildPhase {
  name: string;
  run(state: BuildState): void;
}

/** The build, in order. */
export const PHASES: readonly BuildPhase[] = [
  { name: 'input shapes', run: resolveInputShapes },
  { name: 'control flow', run: unrollControl },
  { name: 'optimize', run: optimizeGraph },
  { name: 'shapes', run: inferTypes },
  { name: 'big tensors', run: splitBigTensors },
  { name: 'kernel selection and precision', run: selectKernels },
  { name: 'tensor pieces', run: placePieces },
  { name: 'inputs and outputs', run: resolveIO },
  { name: 'memory plan', run: planArena },
  { name: 'weight layout', run: layoutWeights },
  { name: 'binding limits', run: checkBindings },
];

/**
 * The plan of a model for the device: with optimization profiles, the first profile's opt shapes
 * and what a run at another shape needs (profiles.ts); else the one shape of inputShapes.
 */
export function buildPlan(model: Model, caps: DeviceCaps & { alignment: number }, config: BuilderConfig = {}): EnginePlan {
  if (config.profiles?.length) return buildWithProfiles(model, caps, config, buildPlan);
  return buildShape(model, caps, config);
}

/** The plan for one set of concrete input shapes. */
function buildShape(model: Model, deviceCaps: DeviceCaps & { alignment: number }, config: BuilderConfig): EnginePlan {
  const caps = withLimits(deviceCaps, config.limits);
  const log = config.log ?? (() => {});
  if (!model.graph.isSorted()) model.graph.topoSort();
  model.graph.verify(); // one producer per value, every input defined: a GraphError naming the node otherwise
  // plugins: BuilderConfig.plugins on top of the registry; nodes of replaced built-ins hidden from the optimizer
  const plugins = resolvePlugins(config.plugins);
  const shadowed = shadowReplacedOps(model, registryWithPlugins(config.registry ?? defaultRegistry, plugins));
  const registry = shadowed.registry;
  const state: BuildState = {
    config, caps, log, model: shadowed.model, registry,
    onnxNodes: model.graph.nodes.length,
    realInputs: [], inputTypes: new Map(), types: new Map(), constants: new Map(), folded: new Set(),
    prec: new PrecisionPlanner(config, caps, log, registry),
    byteStorage: new Map(), layers: [], tensors: new Map(), weightData: new Map(), aliasOf: new Map(),
    subviews: undefined!, views: 0, conversions: new Map(), outputOverride: new Map(),
    inputs: [], outputs: [], constantOutputs: new Map(), pieces: [],
    arenaBytes: 0, naiveActivationBytes: 0, weightBytes: 0,
  };
  state.subviews = new SubViews(caps.alignment, (n) => rootOf(state, n), log);
  const [p0, p1] = PROGRESS_SPAN.plan;
  PHASES.forEach((phase, i) => {
    config.progress?.({ phase: phase.name, fraction: p0 + ((p1 - p0) * i) / PHASES.length });
    phase.run(state);
  });
  const { layers } = state;
  const pluginRecords = recordPlugins(state);
  return {
    ...(pluginRecords.length ? { plugins: pluginRecords } : {}),
    ...(config.refittable ? { refit: makeRefitRecord(model, config, plugins) } : {}),
    layers, tensors: state.tensors, inputs: state.inputs, outputs: state.outputs, constantOutputs: state.constantOutputs,
    outputRoots: new Map(state.outputs.map((o) => [o.name, outputRoot(state, o.name)])),
    arenaBytes: state.arenaBytes, naiveActivationBytes: state.naiveActivationBytes, weightBytes: state.weightBytes,
    ...(state.arenaBuffers ? { arenaBuffers: state.arenaBuffers } : {}),
    ...(state.weightBuffers ? { weightBuffers: state.weightBuffers } : {}),
    scratchBytes: layers.reduce((a, l) => Math.max(a, l.scratch.reduce((m, x) => Math.max(m, x.offset + x.bytes), 0)), 0),
    weightData: state.weightData, paramMode: config.paramMode ?? 'spec', alignment: caps.alignment,
    ...(config.cooperativeMatrix && config.cooperativeMatrix !== 'auto' ? { cooperativeMatrix: config.cooperativeMatrix } : {}),
    stats: { onnxNodes: state.onnxNodes, folded: state.folded.size, views: state.views, layers: layers.length },
  };
}

/** The device's caps with the buffer limits of BuilderConfig.limits where they are lower. */
function withLimits<C extends DeviceCaps>(caps: C, limits: BuilderConfig['limits']): C {
  if (!limits) return caps;
  const lower = (dev: number | undefined, want: number | undefined): number | undefined => (want === undefined ? dev : Math.min(dev ?? Infinity, want));
  return { ...caps, maxStorageBufferRange: lower(caps.maxStorageBufferRange, limits.maxStorageBufferRange), maxBufferBytes: lower(caps.maxBufferBytes, limits.maxBufferBytes) };
}

/** Marks the layers that run plugin kernels and lists the plugins (the engine records them). */
function recordPlugins(state: BuildState): PluginRecord[] {
  const byName = new Map(state.model.graph.nodes.map((n) => [n.name || n.outputs[0], n]));
  const records = new Map<string, PluginRecord>();
  for (const layer of state.layers) {
    const node = byName.get(layer.name);
    const p = node && pluginOf(state.registry.get(node.domain, node.opType));
    if (!p) continue;
    layer.plugin = { name: p.name, version: p.version };
    let r = records.get(p.name);
    if (!r) records.set(p.name, (r = { name: p.name, version: p.version, domain: p.domain, opType: p.opType, layers: [] }));
    r.layers.push(layer.name);
  }
  return [...records.values()];
}
