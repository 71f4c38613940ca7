/**
 * INT8 calibration (TensorRT's post-training calibration): runs the FP32 network on the
 * calibrator's batches and turns each calibrated tensor's statistics into an int8 scale.
 *
 * Two passes over the batches, both on the GPU: the first builds the network with each calibrated
 * tensor's |x| maximum as an extra output (Abs + ReduceMax), the second with a vkrt.Histogram of
 * each over [0, that maximum] (2048 bins); only these small outputs come back to the host, never the
 * tensors. The batches of the first pass are kept in host memory for the second (a calibrator is a
 * stream: TensorRT's getBatch is called until it returns null). Thresholds come from
 * builder/quant/calibrators.ts; the table is written through the calibrator's
 * writeCalibrationCache and read back from readCalibrationCache by later builds.
 */
import * as fs from 'fs';
import { InputError } from '../errors';
import type { Device } from '../gpu/device';
import { packageVersion } from '../gpu/assets';
import { Model, Node, cloneModel } from '../ir/graph';
import { allocData, rounderFor, Tensor } from '../ir/tensor';
import type { DType } from '../ir/dtype';
import { inferShapes } from '../ops/infer-shapes';
import { HISTOGRAM_BINS, int8Scale, threshold, type CalibrationAlgorithm } from '../builder/quant/calibrators';
import { checkCalibrationTable, modelFingerprint, readCalibrationTable, writeCalibrationTable, type CalibrationTable } from '../builder/quant/cache';
import type { CalibrationFeeds, Int8Calibrator } from '../builder/quant/calibrator';
import { calibrationTensors, insertQdq, passthroughScales } from '../builder/quant/qdq';
import { optimize, QUANTIZATION_PREP } from '../builder/passes/optimize';
import { registry as defaultRegistry } from '../ops/index';
import type { OpRegistry } from '../ops/registry';
import type { Engine } from '../runtime/engine';

export type { Int8Calibrator, CalibrationFeeds } from '../builder/quant/calibrator';

export interface CalibrationProgress {
  /** 1: ranges, 2: histograms. */
  pass: 1 | 2;
  batch: number;
  /** Batches in all (known in the second pass). */
  batches?: number;
  /** Estimated time left in ms (second pass only, from the first pass's pace). */
  etaMs?: number;
}

/** Builds an FP32 engine of a calibration network (api/build.ts gives buildEngineAsync). */
export type CalibrationBuild = (model: Model, options: { device?: Device; inputShapes: Record<string, readonly number[]>; optimizationLevel: 0; paramMode?: 'spec' | 'push' }) => Promise<Engine>;

export interface CalibrateOptions {
  build: CalibrationBuild;
  device?: Device;
  log?(line: string): void;
  onProgress?(p: CalibrationProgress): void;
  /** Run the calibration engines with FP16? Never: calibration is FP32 by definition. */
  paramMode?: 'spec' | 'push';
}

/** Each calibrated tensor's amax and threshold besides its scale (what a fresh calibration learns). */
export interface CalibrationResult extends CalibrationTable {
  /** Absolute maximum seen per tensor (fresh calibrations only). */
  amax?: Map<string, number>;
  /** Whether the table came from the calibrator's cache. */
  fromCache: boolean;
}

const toMap = (f: CalibrationFeeds): Map<string, Tensor> => (f instanceof Map ? f : new Map(Object.entries(f)));

/** The model with shapes and types inferred (the calibrated tensors must be known as float). */
function typed(model: Model, shapes: Record<string, readonly number[]>): Model {
  const m = cloneModel(model);
  for (const [name, dims] of Object.entries(shapes)) {
    const t = m.graph.types.get(name);
    if (t) m.graph.types.set(name, { ...t, shape: [...dims] });
  }
  try {
    for (const [k, v] of inferShapes(m.graph, m.opsets, { fold: false }).types) if (!m.graph.types.has(k)) m.graph.types.set(k, v);
  } catch {
    // types stay as declared; calibrationTensors treats unknown types as float
  }
  return m;
}

/** The network inputs a batch must feed (graph inputs that are not initializers). */
function inputNames(model: Model): string[] {
  return model.graph.inputs.filter((i) => !model.graph.initializers.has(i));
}

/** A copy of `model` whose outputs are the given extra nodes' outputs (the originals dropped). */
function withProbes(model: Model, probes: (t: string, k: number) => Node[], tensors = calibrationTensors(model)): { model: Model; outputs: Map<string, string> } {
  const m = cloneModel(model);
  const outputs = new Map<string, string>();
  tensors.forEach((t, k) => {
    const nodes = probes(t, k);
    m.graph.nodes.push(...nodes);
    outputs.set(t, nodes[nodes.length - 1].outputs[0]);
  });
  m.graph.outputs = [...outputs.values()];
  if (![...m.opsets.keys()].includes('vkrt')) m.opsets.set('vkrt', 1);
  return { model: m, outputs };
}

/** Abs + ReduceMax of tensor t: its |x| maximum as a scalar output. */
const amaxProbe = (t: string, k: number): Node[] => [
  new Node({ name: `vkrt_calib_abs_${k}`, opType: 'Abs', inputs: [t], outputs: [`vkrt_calib_abs_${k}`] }),
  new Node({ name: `vkrt_calib_amax_${k}`, opType: 'ReduceMax', inputs: [`vkrt_calib_abs_${k}`], outputs: [`vkrt_calib_amax_${k}`], attrs: { keepdims: { type: 'int', value: 0 } } }),
];

/**
 * The |x| maximum of every float tensor a node of `model` produces, over the batches (all of the same
 * shapes), from one FP32 engine whose outputs are those maxima (the FP16 range check).
 */
export async function tensorRanges(model: Model, batches: readonly Map<string, Tensor>[], options: CalibrateOptions): Promise<Map<string, number>> {
  const m = typed(model, batchShapes(model, batches[0]));
  const g = m.graph;
  const tensors = g.nodes.filter((n) => !n.domain || n.domain === 'ai.onnx').flatMap((n) => n.outputs)
    .filter((o) => o && !g.initializers.has(o) && ['float32', 'float16'].includes(g.types.get(o)?.dtype ?? '') && g.types.get(o)?.kind !== 'sequence');
  return maxima(m, tensors, batches, options, Infinity);
}

/** The input shapes of a batch, by network input. */
function batchShapes(model: Model, batch: Map<string, Tensor>): Record<string, number[]> {
  return Object.fromEntries(inputNames(model).map((n) => [n, [...batch.get(n)!.dims]]));
}

/**
 * Builds `model` (typed for the batches' shapes) with `probes` on `tensors` as its outputs, runs every
 * batch on one context and hands each tensor's probe output to `take`; `onBatch` after each batch.
 */
async function runProbes(model: Model, tensors: string[], probes: (t: string, k: number) => Node[], batches: readonly Map<string, Tensor>[], options: CalibrateOptions,
  take: (tensor: string, value: Tensor) => void, onBatch?: (done: number) => void): Promise<void> {
  const p = withProbes(model, probes, tensors);
  const engine = await options.build(p.model, { device: options.device, inputShapes: batchShapes(model, batches[0]), optimizationLevel: 0, paramMode: options.paramMode });
  try {
    const ctx = engine.createExecutionContext();
    for (let i = 0; i < batches.length; i++) {
      const r = await ctx.execute(batches[i]);
      for (const [t, o] of p.outputs) take(t, r.get(o)!);
      onBatch?.(i + 1);
    }
  } finally {
    engine.dispose();
  }
}

/** Each tensor's |x| maximum over the batches (a NaN maximum counts as `nan`). */
async function maxima(model: Model, tensors: string[], batches: readonly Map<string, Tensor>[], options: CalibrateOptions, nan: number, onBatch?: (done: number) => void): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  await runProbes(model, tensors, amaxProbe, batches, options, (t, v) => {
    const a = Number((v.data as Float32Array)[0]);
    out.set(t, Math.max(out.get(t) ?? 0, Number.isNaN(a) ? nan : a));
  }, onBatch);
  return out;
}

/** FP16's largest finite value. */
const FP16_MAX = 65504;
/**
 * Headroom of the FP16 range check: a tensor within this factor of FP16_MAX stays FP32 (seeded inputs
 * are not the real ones: a structured input reached 2x the seeded range in the tests' network).
 */
const FP16_HEADROOM = 8;

/** Seeded inputs for the range check: floats uniform in [-1, 1), integers 0..3 (exec's random inputs). */
export function seededInputs(model: Model, shapes: Record<string, readonly number[]>, seed: number): Map<string, Tensor> {
  return seededTensors(inputNames(model).map((name) => {
    const t = model.graph.types.get(name);
    return { name, dtype: t?.dtype ?? 'float32', dims: [...(shapes[name] ?? (t?.shape ?? []).map((d) => (typeof d === 'number' ? d : 1)))] };
  }), seed);
}

/**
 * Seeded tensors, one stream over all of them (LCG): floats uniform in [-1, 1) (rounded to narrow
 * floats), integers 0..3, strings '0'..'3' — `vkrt exec`'s random inputs. `before` sees each first.
 */
export function seededTensors(ios: readonly { name: string; dtype: DType; dims: readonly number[] }[], seed = 1, before?: (io: { name: string; dtype: DType; dims: readonly number[] }) => void): Map<string, Tensor> {
  let s = seed >>> 0;
  const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const out = new Map<string, Tensor>();
  for (const io of ios) {
    before?.(io);
    // straight into typed storage: a JS array of n numbers would take the V8 heap with it
    const n = io.dims.reduce((a, b) => a * b, 1);
    const data = allocData(io.dtype, n);
    const float = io.dtype.startsWith('float');
    const round = rounderFor(io.dtype);
    if (data instanceof BigInt64Array || data instanceof BigUint64Array) for (let i = 0; i < n; i++) data[i] = BigInt(Math.floor(r() * 4));
    else if (Array.isArray(data)) for (let i = 0; i < n; i++) data[i] = String(Math.floor(r() * 4));
    else {
      for (let i = 0; i < n; i++) {
        const v = float ? r() * 2 - 1 : Math.floor(r() * 4);
        data[i] = round ? round(v) : v;
      }
    }
    out.set(io.name, new Tensor(io.dtype, [...io.dims], data));
  }
  return out;
}

/**
 * The FP16 range check: the names of tensors whose |x| comes within FP16_HEADROOM of FP16's range on
 * the given inputs (seeded ones by default), to be kept in FP32; each reported through `log`.
 */
export async function fp16Overflows(model: Model, inputs: boolean | readonly CalibrationFeeds[], shapes: Record<string, readonly number[]>, options: CalibrateOptions): Promise<string[]> {
  const batches = Array.isArray(inputs) ? inputs.map(toMap) : [1, 2].map((seed) => seededInputs(model, shapes, seed));
  if (!batches.length) return [];
  const ranges = await tensorRanges(model, batches, options);
  const producer = new Map(model.graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const out: string[] = [];
  const consumers = new Map<string, string[]>();
  for (const n of model.graph.nodes) for (const i of n.inputs) if (i) consumers.set(i, [...(consumers.get(i) ?? []), ...n.outputs.filter((o) => o)]);
  const pinned = new Set<string>();
  for (const [t, a] of ranges) {
    if (!(a * FP16_HEADROOM > FP16_MAX)) continue;
    const p = producer.get(t);
    options.log?.(`fp16: keeping '${t}'${p ? ` (${p.opType} '${p.name}')` : ''} in FP32: |x| reached ${a.toPrecision(3)} on the range check, beyond what FP16 holds safely (${FP16_MAX} / ${FP16_HEADROOM})`);
    pinned.add(t);
    out.push(t);
  }
  // the layers reading a pinned tensor stay FP32 too: an FP16 reader would convert it back to FP16
  for (const t of [...pinned]) {
    for (const o of consumers.get(t) ?? []) {
      if (pinned.has(o) || !ranges.has(o)) continue;
      pinned.add(o);
      out.push(o);
      options.log?.(`fp16: keeping '${o}' (${producer.get(o)?.opType ?? '?'} '${producer.get(o)?.name ?? ''}') in FP32: it reads '${t}', kept in FP32`);
    }
  }
  return out;
}

/** Does the model already carry Q/DQ pairs (explicit quantization: no calibration needed)? */
export function isExplicitlyQuantized(model: Model): boolean {
  return model.graph.nodes.some((n) => !n.domain && (n.opType === 'QuantizeLinear' || n.opType === 'QLinearConv' || n.opType === 'QLinearMatMul'));
}

/**
 * The float model prepared for quantization (constants folded, BatchNormalization folded into the
 * convolutions), still plain ONNX.
 */
export function prepareForQuantization(model: Model, registry: OpRegistry = defaultRegistry): Model {
  const m = optimize(model, { registry, passList: QUANTIZATION_PREP }).model;
  if (!model.opsets.has('vkrt')) m.opsets.delete('vkrt');
  // what the rules record for the builder (vkrt_fused) is not ONNX: onnxruntime refuses it
  for (const n of m.graph.nodes) for (const k of [...n.attrs.keys()]) if (k.startsWith('vkrt_')) n.attrs.delete(k);
  return m;
}

/**
 * The Q/DQ model of a float model (what `vkrt quantize` writes and an INT8 build folds): prepared,
 * calibrated (or its scales read from the calibrator's cache), Q/DQ pairs inserted.
 */
export async function quantizeModel(model: Model, calibrator: Int8Calibrator, options: CalibrateOptions & { registry?: OpRegistry; fp32Layers?: readonly string[] }): Promise<{ model: Model; calibration: CalibrationResult }> {
  const prepared = prepareForQuantization(model, options.registry);
  const calibration = await calibrate(prepared, calibrator, options);
  return { model: insertQdq(prepared, calibration.scales, { log: options.log, float: options.fp32Layers }), calibration };
}

/** quantizeModel from the calibrator's cache alone (synchronous builds); undefined without a cache. */
export function quantizeModelFromCache(model: Model, calibrator: Int8Calibrator, options: { registry?: OpRegistry; fp32Layers?: readonly string[]; log?(line: string): void } = {}): Model | undefined {
  const prepared = prepareForQuantization(model, options.registry);
  const table = readCache(calibrator, calibrationTensors(typed(prepared, {})));
  return table ? insertQdq(prepared, table.scales, { log: options.log, float: options.fp32Layers }) : undefined;
}

function readCache(calibrator: Int8Calibrator, tensors: string[]): CalibrationTable | undefined {
  const raw = calibrator.readCalibrationCache();
  if (raw === null || raw === undefined || (typeof raw !== 'string' && !raw.length)) return undefined;
  const text = typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8');
  const t = readCalibrationTable(text, 'the calibration cache');
  checkCalibrationTable(t, tensors, 'the calibration cache');
  return t;
}

/**
 * Calibrates `model` (FP32) with the calibrator's batches, or reads its cache: each calibrated
 * tensor's int8 scale. The model's graph must be sorted.
 */
export async function calibrate(model: Model, calibrator: Int8Calibrator, options: CalibrateOptions): Promise<CalibrationResult> {
  const log = options.log ?? (() => undefined);
  const algorithm: CalibrationAlgorithm = calibrator.algorithm ?? 'entropy';
  const names = inputNames(model);
  // types for calibrationTensors: from the model's declarations (first batch shapes refine them)
  let tensors = calibrationTensors(typed(model, {}));
  const cached = readCache(calibrator, tensors);
  if (cached) {
    log(`int8: calibration cache read (${cached.algorithm}, ${cached.scales.size} tensors, written by vkrt ${cached.vkrt})`);
    return { ...cached, fromCache: true };
  }

  // pass 1: ranges (the batches are kept for pass 2: a calibrator is a stream)
  const batches: Map<string, Tensor>[] = [];
  const t0 = performance.now();
  for (let b = await calibrator.getBatch(names); b; b = await calibrator.getBatch(names)) {
    const feeds = toMap(b);
    for (const n of names) if (!feeds.has(n)) throw new InputError(`calibration batch ${batches.length + 1} lacks input '${n}' (the network's inputs: ${names.join(', ')})`);
    batches.push(feeds);
  }
  if (!batches.length) throw new InputError('the calibrator gave no batch (getBatch returned null at once): give it representative inputs, or a cache');
  const m = typed(model, batchShapes(model, batches[0]));
  tensors = calibrationTensors(m);
  if (!tensors.length) throw new InputError('the model has no tensor to calibrate (no Conv, Gemm, MatMul or Add of two activations)');
  const amax = await maxima(m, tensors, batches, options, 0, (batch) => options.onProgress?.({ pass: 1, batch }));
  const pass1Ms = performance.now() - t0;
  log(`int8: pass 1 (ranges) over ${batches.length} batch(es) of ${calibrator.getBatchSize()} in ${pass1Ms.toFixed(0)} ms`);

  // pass 2: histograms (min-max needs none)
  const hist = new Map<string, Float64Array>();
  if (algorithm !== 'minmax') {
    const t1 = performance.now();
    const histogram = (t: string, k: number) => [
      new Node({ name: `vkrt_calib_hist_${k}`, opType: 'Histogram', domain: 'vkrt', inputs: [t], outputs: [`vkrt_calib_hist_${k}`],
        attrs: { bins: { type: 'int', value: HISTOGRAM_BINS }, amax: { type: 'float', value: amax.get(t) ?? 0 } } }),
    ];
    await runProbes(m, tensors, histogram, batches, options, (t, v) => {
      const c = v.data as Int32Array;
      let h = hist.get(t);
      if (!h) hist.set(t, (h = new Float64Array(c.length)));
      for (let j = 0; j < c.length; j++) h[j] += c[j];
    }, (done) => {
      const per = (performance.now() - t1) / done;
      options.onProgress?.({ pass: 2, batch: done, batches: batches.length, etaMs: per * (batches.length - done) });
    });
    log(`int8: pass 2 (histograms, ${HISTOGRAM_BINS} bins) in ${(performance.now() - t1).toFixed(0)} ms`);
  }
  const scales = new Map<string, number>();
  // Network inputs under 'entropy' keep their whole range: preprocessed inputs are bounded, and their
  // values are often discrete (pixels), where KL favours a threshold whose bins line up with the
  // values over one that keeps the bright ones (mnist-8: clipped at 128 of 255, -3.4 pp accuracy).
  const inputs = new Set(names);
  for (const t of tensors) {
    const a = amax.get(t) ?? 0;
    const algo = algorithm === 'entropy' && inputs.has(t) ? 'minmax' : algorithm;
    const th = algo === 'minmax' ? a : threshold({ amax: a, counts: hist.get(t)! }, { algorithm: algo, percentile: calibrator.percentile });
    scales.set(t, Math.fround(int8Scale(th)));
  }
  const unified = passthroughScales(model, scales);
  const table: CalibrationTable = {
    algorithm, vkrt: packageVersion(), percentile: algorithm === 'percentile' ? calibrator.percentile ?? 99.99 : undefined,
    model: { name: model.graph.name, fingerprint: modelFingerprint(tensors) }, scales: unified,
  };
  calibrator.writeCalibrationCache(writeCalibrationTable(table));
  log(`int8: calibrated ${tensors.length} tensor(s) with ${algorithm} in ${(performance.now() - t0).toFixed(0)} ms`);
  return { ...table, amax, fromCache: false };
}

export interface CalibratorOptions {
  /** The batches: feeds by input name (an array, an iterable or an async iterable). */
  batches: Iterable<CalibrationFeeds> | AsyncIterable<CalibrationFeeds>;
  algorithm?: CalibrationAlgorithm;
  percentile?: number;
  /** A cache file: read when it exists (then no batch is needed), written after calibrating. */
  cacheFile?: string;
}

/** The stock calibrator: batches from an (async) iterable, the cache in a file. */
export function createCalibrator(o: CalibratorOptions): Int8Calibrator {
  const it = Symbol.asyncIterator in o.batches
    ? (o.batches as AsyncIterable<CalibrationFeeds>)[Symbol.asyncIterator]()
    : (o.batches as Iterable<CalibrationFeeds>)[Symbol.iterator]();
  let batchSize = 0;
  return {
    algorithm: o.algorithm, percentile: o.percentile,
    getBatchSize: () => batchSize,
    async getBatch() {
      const r = await it.next();
      if (r.done) return null;
      const first = toMap(r.value).values().next().value;
      batchSize = first?.dims[0] ?? 1;
      return r.value;
    },
    readCalibrationCache: () => (o.cacheFile && fs.existsSync(o.cacheFile) ? fs.readFileSync(o.cacheFile, 'utf8') : null),
    writeCalibrationCache(cache: string) {
      if (!o.cacheFile) return;
      const tmp = `${o.cacheFile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, cache);
      fs.renameSync(tmp, o.cacheFile);
    },
  };
}
