/**
 * `vkrt compare`: accuracy of an engine against the CPU reference interpreter (Polygraphy's role).
 * Builds the engine (FP32, or FP16 with --fp16), runs it and the reference on the same seeded or
 * given inputs, and reports per output: max absolute error, relative L2 error, cosine similarity,
 * and NaN/Inf on either side. --layerwise marks every intermediate tensor as an output (in both)
 * and names the first layer whose error jumps over the threshold.
 *
 *   vkrt compare --onnx=M [--fp16] [--fp32Layers=name,OpType] [--shapes=in:1x3x224x224]
 *                [--loadInputs=F] [--seed=N] [--layerwise] [--threshold=X] [--noFusion] [--device=N] [--verbose]
 *
 * Exit code 0 when every model output is within the threshold (relative L2, default 1e-2 with
 * --fp16 and 1e-4 without) and no NaN/Inf appears where the reference has none; 1 otherwise.
 */
import { InputError } from '../errors';
import { Device } from '../gpu/device';
import { Model } from '../ir/graph';
import { Tensor } from '../ir/tensor';
import { loadModel } from '../onnx/parse';
import { interpret } from '../ops/interpreter';
import { flagString, parseCommand, type CommandSpec } from './args';
import { BUILD_HELP, resolveModelPath } from './engine-flags';
import { loadInputs, parseShapes, randomInputs } from './exec';
import type { EnginePlan } from '../kernel/plan';
import { buildEngine, buildEngineAsync } from '../api/build';
import { buildStagedEngine, hasDataDependentNodes } from '../api/staged';
import type { Int8Calibrator } from '../builder/quant/calibrator';
import { CALIB_HELP, CALIB_VALUE_FLAGS, calibratorFromFlags } from './calib';

/** Error of one tensor against its reference. */
export interface TensorError {
  name: string;
  elements: number;
  maxAbs: number;
  /** ||got - ref|| / ||ref|| (over the elements finite in both). */
  relL2: number;
  /** <got, ref> / (||got|| ||ref||); 1 for two zero tensors. */
  cosine: number;
  /** Non-finite values (NaN or +-Inf) in the engine's and the reference's tensor. */
  nonFinite: number;
  refNonFinite: number;
  /** Non-finite in the engine where the reference is finite: the numeric failure to report. */
  newNonFinite: number;
  /** Shapes or element counts differ. */
  shapeMismatch?: string;
}

/** Compares two tensors element by element (as float64). */
export function tensorError(name: string, ref: Tensor, got: Tensor): TensorError {
  const r = ref.toNumbers(), g = got.toNumbers();
  const e: TensorError = { name, elements: r.length, maxAbs: 0, relL2: 0, cosine: 1, nonFinite: 0, refNonFinite: 0, newNonFinite: 0 };
  if (r.length !== g.length || ref.dims.join('x') !== got.dims.join('x')) {
    e.shapeMismatch = `[${ref.dims.join(',')}] vs [${got.dims.join(',')}]`;
    return e;
  }
  let num = 0, den = 0, dot = 0, gg = 0;
  for (let i = 0; i < r.length; i++) {
    const a = r[i], b = g[i];
    const fa = Number.isFinite(a), fb = Number.isFinite(b);
    if (!fa) e.refNonFinite++;
    if (!fb) { e.nonFinite++; if (fa) e.newNonFinite++; }
    if (!fa || !fb) continue;
    const d = Math.abs(a - b);
    if (d > e.maxAbs) e.maxAbs = d;
    num += d * d; den += a * a; dot += a * b; gg += b * b;
  }
  e.relL2 = den > 0 ? Math.sqrt(num / den) : Math.sqrt(num);
  e.cosine = den > 0 && gg > 0 ? dot / Math.sqrt(den * gg) : den === gg ? 1 : 0;
  return e;
}

export interface CompareOptions {
  fp16?: boolean;
  /** INT8 layers (BuilderConfig.int8): a Q/DQ model as it is, a float model calibrated with `calibrator`. */
  int8?: boolean;
  calibrator?: Int8Calibrator;
  fp32Layers?: string[];
  /** Run the graph optimizer (default true; BuilderConfig.fusion). */
  fusion?: boolean;
  inputShapes?: Record<string, number[]>;
  /** Given inputs; seeded random inputs ([-1, 1), integers 0..3) for the rest. */
  inputs?: Map<string, Tensor>;
  seed?: number;
  layerwise?: boolean;
  /** Relative L2 error above which a tensor fails (default 1e-2 with fp16, else 1e-4). */
  threshold?: number;
  device?: Device;
  /** Run nodes the GPU cannot run on the CPU reference (a staged engine; docs/dynamic-shapes.md). */
  hostFallback?: boolean;
  log?(line: string): void;
}

export interface CompareReport {
  /** Model outputs, in graph order. */
  outputs: TensorError[];
  /** With layerwise: every intermediate tensor the engine computed, in execution order. */
  layers: (TensorError & { layer: string; precision: string })[];
  /** The first intermediate tensor whose error is over the threshold (or turned non-finite). */
  firstJump?: TensorError & { layer: string; precision: string };
  threshold: number;
  passed: boolean;
  plan: EnginePlan;
}

/** compareStagedModel's report: the outputs compared, and the staged engine's description. */
export interface StagedCompareReport {
  outputs: TensorError[];
  threshold: number;
  passed: boolean;
  /** Stages, trims and host fallback nodes (StagedEngine.describe()). */
  staged: string[];
}

function fails(e: TensorError, threshold: number): boolean {
  return !!e.shapeMismatch || e.newNonFinite > 0 || !(e.relL2 <= threshold);
}

/**
 * compareModel on a staged engine (src/api/staged.ts: a model with data-dependent shapes, or host
 * fallback): the graph outputs of both runs compared. Not with layerwise or int8.
 */
export async function compareStagedModel(model: Model, options: CompareOptions = {}): Promise<StagedCompareReport> {
  const g = model.graph;
  const modelOutputs = [...g.outputs];
  const threshold = options.threshold ?? (options.fp16 ? 1e-2 : 1e-4);
  const device = options.device ?? Device.create();
  try {
    if (options.layerwise || options.int8) throw new InputError('--layerwise and --int8 do not combine with a staged engine (data-dependent shapes or --hostFallback) yet');
    const se = buildStagedEngine(model, { device, inputShapes: options.inputShapes, fp16: options.fp16, fp32Layers: options.fp32Layers, fusion: options.fusion, log: options.log, hostFallback: options.hostFallback });
    try {
      const declared = g.inputs.filter((i) => !g.initializers.has(i)).map((name) => {
        const t = g.types.get(name);
        const dims = options.inputShapes?.[name] ?? (t?.shape ?? []).map((d) => (typeof d === 'number' ? d : -1));
        if (dims.some((d) => d < 0)) throw new InputError(`input '${name}' has dynamic dimensions: give its shape (--shapes=${name}:AxB...)`);
        return { name, dtype: t?.dtype ?? 'float32', dims, gpu: 'f32' as const };
      });
      const feeds = randomInputs(declared, options.seed ?? 1);
      for (const [k, t] of options.inputs ?? []) feeds.set(k, t);
      const got = await se.execute(feeds);
      const ref = interpret(model, feeds);
      const outputs = modelOutputs.map((name) => {
        const r = ref.get(name), e = got.get(name);
        return r instanceof Tensor && e instanceof Tensor && r.dtype !== 'string' ? tensorError(name, r, e) : undefined;
      }).filter((e): e is TensorError => !!e);
      return { outputs, threshold, passed: outputs.every((e) => !fails(e, threshold)), staged: se.describe() };
    } finally {
      se.dispose();
    }
  } finally {
    if (!options.device) device.dispose();
  }
}

/**
 * Runs `model` through an engine and through the reference interpreter and compares them.
 * With `layerwise`, the model is modified in place: every node output becomes a graph output.
 */
export async function compareModel(model: Model, options: CompareOptions = {}): Promise<CompareReport> {
  const g = model.graph;
  const modelOutputs = [...g.outputs];
  if (options.layerwise) {
    const seen = new Set(g.outputs);
    for (const n of g.nodes) for (const o of n.outputs) if (o && !seen.has(o)) { seen.add(o); g.outputs.push(o); }
  }
  const threshold = options.threshold ?? (options.int8 ? 1e-1 : options.fp16 ? 1e-2 : 1e-4);
  const device = options.device ?? Device.create();
  try {
    const config = { device, inputShapes: options.inputShapes, fp16: options.fp16, fp32Layers: options.fp32Layers, fusion: options.fusion, log: options.log };
    // INT8 calibrates by running the network: the asynchronous build (untuned, as the FP32/FP16 path)
    const engine = options.int8
      ? await buildEngineAsync(model, { ...config, int8: true, calibrator: options.calibrator, optimizationLevel: 0, worker: false })
      : buildEngine(model, config);
    try {
      const feeds = randomInputs(engine.inputs, options.seed ?? 1);
      for (const [k, t] of options.inputs ?? []) feeds.set(k, t);
      const got = await engine.createExecutionContext().execute(feeds);
      const ref = interpret(model, feeds);
      const errorOf = (name: string): TensorError | undefined => {
        const r = ref.get(name), e = got.get(name);
        if (!(r instanceof Tensor) || !e || r.dtype === 'string') return undefined;
        return tensorError(name, r, e);
      };
      const outputs = modelOutputs.map((o) => errorOf(o)).filter((e): e is TensorError => !!e);
      const layers: CompareReport['layers'] = [];
      if (options.layerwise) {
        // execution order: the layer that produces each tensor (views: the tensor's producer)
        const producer = new Map<string, { layer: string; precision: string }>();
        for (const l of engine.plan.layers) for (const o of l.outputs) producer.set(o, { layer: l.name, precision: l.precision });
        for (const n of g.nodes) {
          for (const o of n.outputs) {
            if (!o) continue;
            const e = errorOf(o);
            if (!e) continue;
            const root = engine.plan.outputRoots.get(o) ?? o;
            const p = producer.get(o) ?? producer.get(root.replace(/::f32$/, '')) ?? { layer: n.name || o, precision: 'folded/view' };
            layers.push({ ...e, ...p });
          }
        }
      }
      const firstJump = layers.find((e) => fails(e, threshold));
      return { outputs, layers, firstJump, threshold, passed: outputs.every((e) => !fails(e, threshold)), plan: engine.plan };
    } finally {
      engine.dispose();
    }
  } finally {
    if (!options.device) device.dispose();
  }
}

function fmt(e: TensorError): string {
  if (e.shapeMismatch) return `shape mismatch ${e.shapeMismatch}`;
  const nf = e.nonFinite || e.refNonFinite ? `, NaN/Inf ${e.nonFinite} (reference ${e.refNonFinite})` : ', NaN/Inf none';
  return `max abs ${e.maxAbs.toExponential(3)}, rel L2 ${e.relL2.toExponential(3)}, cosine ${e.cosine.toFixed(6)}${nf}`;
}

export const SPEC: CommandSpec = {
  name: 'compare',
  summary: "Accuracy of an engine against the CPU reference interpreter (Polygraphy's role): both run on the same inputs; per output the max absolute error, relative L2 error, cosine similarity and NaN/Inf; exit 1 when an output is over the threshold.",
  usage: 'compare --onnx=FILE [flags]',
  valueFlags: ['onnx', 'shapes', 'loadInputs', 'seed', 'device', 'threshold', 'fp32Layers', ...CALIB_VALUE_FLAGS],
  switches: ['fp16', 'int8', 'noFusion', 'layerwise', 'hostFallback'],
  help: {
    ...BUILD_HELP,
    loadInputs: { value: 'SPEC', description: "inputs, as exec's --loadInputs", default: 'seeded random values' },
    seed: { value: 'N', description: 'seed of the random inputs', default: '1' },
    threshold: { value: 'X', description: 'relative L2 error above which an output fails', default: '1e-1 with --int8, 1e-2 with --fp16, else 1e-4' },
    int8: { description: 'INT8 layers: a Q/DQ model as it is, a float model calibrated first (--calib; docs/int8.md). With --layerwise every tensor is an output, so fewer layers fold into integer ones' },
    ...CALIB_HELP,
    fp32Layers: { value: 'A,B', description: 'layer names, output names or op types kept in FP32 in an FP16 engine' },
    layerwise: { description: 'compare every intermediate tensor and name the first layer whose error jumps' },
    hostFallback: { description: 'run nodes the GPU cannot run on the CPU reference between GPU stages (each listed); models with NonZero/Compress run staged anyway' },
  },
  examples: ['vkrt compare --onnx=model.onnx --fp16', 'vkrt compare --onnx=model.onnx --fp16 --layerwise --fp32Layers=Softmax', 'vkrt compare --onnx=model.onnx --int8 --calib=calib/'],
};

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand(SPEC, argv);
  if (!args) return 0;
  const onnx = flagString(args, 'onnx');
  if (!onnx) throw new InputError('usage: vkrt compare --onnx=FILE [flags]; see `vkrt compare --help`');
  const seed = Number(flagString(args, 'seed') ?? 1);
  if (!Number.isInteger(seed)) throw new InputError('--seed must be an integer');
  const thr = flagString(args, 'threshold');
  const threshold = thr === undefined ? undefined : Number(thr);
  if (threshold !== undefined && !(threshold > 0)) throw new InputError('--threshold must be a positive number');
  const model = loadModel(resolveModelPath(onnx));
  const g = model.graph;
  const shapes = parseShapes(flagString(args, 'shapes'));
  let inputs: Map<string, Tensor> | undefined;
  const load = flagString(args, 'loadInputs');
  if (load) {
    const declared = g.inputs.filter((i) => !g.initializers.has(i)).map((name) => {
      const t = g.types.get(name);
      return { name, dtype: t?.dtype ?? 'float32', dims: shapes[name] ?? (t?.shape ?? []).map((d) => (typeof d === 'number' ? d : -1)), gpu: 'f32' as const };
    });
    inputs = loadInputs(load, declared);
    for (const [k, t] of inputs) if (!shapes[k]) shapes[k] = [...t.dims];
  }
  const dev = flagString(args, 'device');
  const device = Device.create({ index: dev !== undefined ? Number(dev) : undefined });
  const verbose = args.flags.has('verbose');
  const fp16 = args.flags.has('fp16');
  const int8 = args.flags.has('int8');
  try {
    const calibrator = int8 ? calibratorFromFlags(args, model, shapes, (l) => console.log(`[W] ${l}`)) : undefined;
    const fp32Layers = flagString(args, 'fp32Layers')?.split(',').filter((s) => s);
    const staged = args.flags.has('hostFallback') || hasDataDependentNodes(model);
    const compare = staged ? compareStagedModel : compareModel;
    const report: CompareReport | StagedCompareReport = await compare(model, {
      fp16, int8, calibrator, fp32Layers, fusion: !args.flags.has('noFusion'), inputShapes: shapes, inputs, seed, layerwise: args.flags.has('layerwise'), threshold, device, hostFallback: args.flags.has('hostFallback'),
      log: (l) => { if (verbose || l.startsWith('fp16:')) console.log(`[build] ${l}`); },
    });
    const p = 'plan' in report ? report.plan : undefined;
    if (p) {
      const n16 = p.layers.filter((l) => l.precision === 'fp16').length;
      const n8 = p.layers.filter((l) => l.precision === 'int8').length;
      console.log(`[I] ${onnx} on ${device.info.name}: ${p.layers.length} layers, ${n8 ? `${n8} in INT8, ` : ''}${n16} in FP16, ${p.layers.length - n16 - n8} in FP32; inputs ${load ? `from ${load}` : `seeded random (seed ${seed})`}`);
      if (verbose) for (const l of p.layers) console.log(`[I]   layer ${l.name} (${l.opTypes.join('+')}) ${l.kernel} ${l.precision}`);
    } else {
      console.log(`[I] ${onnx} on ${device.info.name}: a staged engine; inputs ${load ? `from ${load}` : `seeded random (seed ${seed})`}`);
      for (const line of 'staged' in report ? report.staged : []) console.log(`[I] ${line}`);
    }
    for (const e of report.outputs) console.log(`[I] Output ${e.name}: ${fmt(e)}${fails(e, report.threshold) ? '  <-- over threshold' : ''}`);
    if ('layers' in report && args.flags.has('layerwise')) {
      for (const e of report.layers) console.log(`[I]   ${e.name} (${e.layer}, ${e.precision}): ${fmt(e)}`);
      const j = report.firstJump;
      console.log(j
        ? `[I] First error jump: tensor ${j.name} from layer ${j.layer} (${j.precision}): ${fmt(j)} (threshold rel L2 ${report.threshold})`
        : `[I] No intermediate tensor is over the threshold (rel L2 ${report.threshold})`);
    }
    console.log(report.passed ? `[I] PASSED (rel L2 <= ${report.threshold}, no new NaN/Inf)` : `[E] FAILED (rel L2 > ${report.threshold} or new NaN/Inf)`);
    return report.passed ? 0 : 1;
  } finally {
    device.dispose();
  }
}
