/**
 * Writing a Q/DQ (explicitly quantized) model from a float one and calibration scales — what
 * `vkrt quantize` saves and what an INT8 build folds into integer layers (passes/rules/qdq.ts).
 *
 * Policy (the QDQ format onnxruntime's quantizer and TensorRT's explicit quantization use):
 * - activations: every float tensor read by a Conv, Gemm or MatMul (non-constant inputs), by an
 *   Add of two activations (residual connections) or by a MaxPool, is quantized once, int8 symmetric (zero point 0,
 *   scale from calibration): T -> QuantizeLinear -> DequantizeLinear, and *every* consumer of T then
 *   reads the dequantized value, so that T exists only as int8 once folded;
 * - weights: Conv, Gemm and MatMul constant weights become int8 initializers with a
 *   DequantizeLinear, per output channel (scale max|w| / 127) where the opset has per-axis
 *   quantization (13+), per tensor otherwise; biases stay float (folding makes them int32 with
 *   scale x_scale * w_scale).
 * - opset: QuantizeLinear needs opset 10. A model below 13 whose operators all keep their
 *   semantics up to opset 13 (SAME_AT_13) is raised to 13 for per-channel weights; other models
 *   below 13 get per-tensor weights; below 10 with other operators is refused.
 */
import { InputError } from '../../errors';
import { Attr, Graph, Model, Node, cloneModel } from '../../ir/graph';
import { Tensor } from '../../ir/tensor';
import { INT8_MAX } from './calibrators';

/** Ops whose weights are quantized and whose activation inputs are calibrated. */
const WEIGHTED = new Set(['Conv', 'Gemm', 'MatMul']);
/**
 * Operators whose ONNX semantics do not change between opset 7 and 13 in ways vkrt's build depends
 * on, so a model made only of them can be raised to opset 13 (per-axis DequantizeLinear).
 */
const SAME_AT_13 = new Set(['Conv', 'Relu', 'Add', 'Sub', 'Mul', 'Div', 'MaxPool', 'AveragePool', 'GlobalAveragePool',
  'GlobalMaxPool', 'MatMul', 'Gemm', 'Reshape', 'Flatten', 'Concat', 'Constant', 'Sigmoid', 'Tanh', 'Identity',
  'Transpose', 'LeakyRelu', 'Softmax', 'LogSoftmax', 'BatchNormalization', 'Dropout']);

export interface QdqOptions {
  /** Per-channel weight scales where the opset allows (default true). */
  perChannel?: boolean;
  /**
   * Nodes kept in float (BuilderConfig.fp32Layers: a node name, an output name or an op type): their
   * weights stay float, so no Q/DQ pattern folds them into an integer layer; they read the
   * dequantized outputs of integer producers.
   */
  float?: readonly string[];
  log?(line: string): void;
}

/** A graph's constant tensors: initializers and Constant nodes' `value`. */
function constants(g: Graph): Map<string, Tensor> {
  const out = new Map(g.initializers);
  for (const n of g.nodes) {
    const v = n.attrs.get('value');
    if (n.opType === 'Constant' && !n.domain && v?.type === 'tensor' && n.outputs[0]) out.set(n.outputs[0], v.value as Tensor);
  }
  return out;
}

const isFloatType = (g: Graph, name: string): boolean => {
  const t = g.types.get(name);
  return !t || t.dtype === 'float32' || t.dtype === 'float16';
};

/**
 * The activation tensors an INT8 build calibrates, in graph order: the non-constant float inputs
 * of Conv, Gemm and MatMul and of Adds of two activations. The model's graph must be sorted.
 */
export function calibrationTensors(model: Model): string[] {
  const g = model.graph;
  const consts = constants(g);
  const out: string[] = [];
  const seen = new Set<string>();
  const take = (t: string) => {
    if (t && !consts.has(t) && !seen.has(t) && isFloatType(g, t)) { seen.add(t); out.push(t); }
  };
  for (const n of g.nodes) {
    if (n.domain) continue;
    if (WEIGHTED.has(n.opType)) {
      const acts = n.opType === 'MatMul' ? n.inputs.slice(0, 2) : n.inputs.slice(0, 1);
      acts.forEach(take);
    } else if (n.opType === 'Add' && n.inputs.length === 2 && n.inputs.every((i) => !consts.has(i))) {
      n.inputs.forEach(take);
    } else if (n.opType === 'MaxPool') {
      take(n.inputs[0]);
    }
  }
  return out;
}

/** Ops whose output keeps its input's int8 scale (passthroughScales), the folding's INT8_PASSTHROUGH. */
const SAME_SCALE = new Set(['MaxPool', 'Reshape', 'Flatten', 'Transpose', 'Squeeze', 'Unsqueeze']);

/**
 * Gives the output of a MaxPool or data-movement op the scale of its input where both are
 * calibrated (onnxruntime's quantizer does the same), so Q(op(DQ(x))) folds into op on the integers.
 * Returns a new map; the graph must be sorted.
 */
export function passthroughScales(model: Model, scales: ReadonlyMap<string, number>): Map<string, number> {
  const out = new Map(scales);
  for (const n of model.graph.nodes) {
    if (n.domain || !SAME_SCALE.has(n.opType)) continue;
    const s = out.get(n.inputs[0]);
    if (s !== undefined && out.has(n.outputs[0])) out.set(n.outputs[0], s);
  }
  return out;
}

/** The weight input of a weighted node and the axis of its output channels, if it is constant float. */
function weightOf(n: Node, consts: Map<string, Tensor>): { input: number; axis: number } | undefined {
  const i = 1;
  const w = consts.get(n.inputs[i]);
  if (!w || w.dtype !== 'float32') return undefined;
  if (n.opType === 'Conv') return w.rank >= 3 ? { input: i, axis: 0 } : undefined;
  if (n.opType === 'Gemm') {
    const transB = n.attrs.get('transB')?.value === 1;
    return w.rank === 2 ? { input: i, axis: transB ? 0 : 1 } : undefined;
  }
  return w.rank === 2 ? { input: i, axis: 1 } : undefined; // MatMul [K, N]: per column
}

/** Symmetric int8 quantization of a weight, per channel along `axis` or per tensor. */
export function quantizeWeight(w: Tensor, axis: number | undefined): { q: Tensor; scale: Tensor } {
  const d = w.data as Float32Array;
  const dims = w.dims;
  const channels = axis === undefined ? 1 : dims[axis];
  const inner = axis === undefined ? d.length : dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const chanOf = (i: number) => (axis === undefined ? 0 : Math.floor(i / inner) % channels);
  const amax = new Float64Array(channels);
  for (let i = 0; i < d.length; i++) amax[chanOf(i)] = Math.max(amax[chanOf(i)], Math.abs(d[i]));
  const scale = new Float32Array(channels);
  for (let c = 0; c < channels; c++) scale[c] = amax[c] > 0 ? Math.fround(amax[c] / INT8_MAX) : 1;
  const q = new Int8Array(d.length);
  for (let i = 0; i < d.length; i++) {
    const v = Math.round(d[i] / scale[chanOf(i)]); // ties away: any rounding is a valid quantization of a weight
    q[i] = Math.max(-INT8_MAX, Math.min(INT8_MAX, v));
  }
  return { q: new Tensor('int8', dims, q), scale: axis === undefined ? Tensor.scalar('float32', scale[0]) : new Tensor('float32', [channels], scale) };
}

/** A name not used in the graph, from `base`. */
function freshName(used: Set<string>, base: string): string {
  let n = base, i = 1;
  while (used.has(n)) n = `${base}_${i++}`;
  used.add(n);
  return n;
}

/**
 * The Q/DQ model of a float model: `scales` gives each calibrated activation's int8 scale (every
 * tensor of calibrationTensors(model) must have one). Returns a new model; the input is unchanged.
 */
export function insertQdq(model: Model, scales: ReadonlyMap<string, number>, opts: QdqOptions = {}): Model {
  const log = opts.log ?? (() => undefined);
  const m = cloneModel(model);
  const g = m.graph;
  g.topoSort();
  let opset = m.opset('') ?? 1;
  let perChannel = opts.perChannel ?? true;
  if (opset < 13) {
    const others = [...new Set(g.nodes.filter((n) => !n.domain && !SAME_AT_13.has(n.opType)).map((n) => n.opType))];
    if (!others.length) {
      log(`quantize: opset ${opset} raised to 13 (per-channel weight scales need it; every operator of the model has the same semantics there)`);
      m.opsets.set('', 13);
      opset = 13;
    } else if (opset < 10) {
      throw new InputError(`model opset ${opset} has no QuantizeLinear (opset 10+) and its operators ${others.slice(0, 5).join(', ')} may change meaning at a higher opset: convert the model to opset 13 first (onnx.version_converter)`);
    } else {
      log(`quantize: opset ${opset} has no per-axis quantization: weights get one scale per tensor (convert the model to opset 13 for per-channel scales)`);
      perChannel = false;
    }
  }
  const consts = constants(g);
  const used = new Set<string>([...g.inputs, ...g.outputs, ...g.initializers.keys(), ...g.nodes.flatMap((n) => [...n.inputs, ...n.outputs])]);
  const acts = calibrationTensors(m);
  const missing = acts.filter((t) => !scales.has(t));
  if (missing.length) throw new InputError(`no calibration scale for ${missing.length} tensor(s): ${missing.slice(0, 5).join(', ')}`);

  const zero = freshName(used, 'vkrt_int8_zero');
  g.initializers.set(zero, Tensor.scalar('int8', 0));
  const newNodes: Node[] = [];
  const rename = new Map<string, string>(); // activation -> its dequantized name
  const qdqFor = (t: string) => {
    const s = freshName(used, `${t}_scale`), q = freshName(used, `${t}_quantized`), dq = freshName(used, `${t}_dequantized`);
    g.initializers.set(s, Tensor.scalar('float32', scales.get(t)!));
    g.types.set(q, { dtype: 'int8', shape: g.types.get(t)?.shape });
    return [
      new Node({ name: freshName(used, `${t}_QuantizeLinear`), opType: 'QuantizeLinear', inputs: [t, s, zero], outputs: [q] }),
      new Node({ name: freshName(used, `${t}_DequantizeLinear`), opType: 'DequantizeLinear', inputs: [q, s, zero], outputs: [dq] }),
    ];
  };
  // graph inputs that are calibrated get their Q/DQ first
  for (const t of acts) if (g.inputs.includes(t)) { const p = qdqFor(t); newNodes.push(...p); rename.set(t, p[1].outputs[0]); }
  const actSet = new Set(acts);
  const quantizedWeights = new Map<string, string>();
  let weights = 0;
  const pins = new Set(opts.float ?? []);
  const pinned = (n: Node) => pins.size > 0 && (pins.has(n.name) || pins.has(n.opType) || n.outputs.some((o) => pins.has(o)));
  const kept: string[] = [];
  for (const n of g.nodes) {
    // a pinned node keeps float weights, so no Q/DQ pattern folds it; like TensorRT's reformat
    // layers, it reads the dequantized outputs of integer producers
    const keep = pinned(n);
    if (keep) kept.push(n.name || n.outputs[0]);
    n.inputs = n.inputs.map((i) => rename.get(i) ?? i);
    if (!keep && !n.domain && WEIGHTED.has(n.opType)) {
      const w = weightOf(n, consts);
      if (w) {
        const name = n.inputs[w.input];
        let dq = quantizedWeights.get(name);
        if (!dq) {
          const { q, scale } = quantizeWeight(consts.get(name)!, perChannel ? w.axis : undefined);
          const qn = freshName(used, `${name}_quantized`), sn = freshName(used, `${name}_scale`), zn = freshName(used, `${name}_zero_point`);
          dq = freshName(used, `${name}_dequantized`);
          g.initializers.set(qn, q);
          g.initializers.set(sn, scale);
          g.initializers.set(zn, scale.rank ? new Tensor('int8', scale.dims, new Int8Array(scale.size)) : Tensor.scalar('int8', 0));
          const attrs: Record<string, Attr> = scale.rank ? { axis: { type: 'int', value: w.axis } } : {};
          newNodes.push(new Node({ name: freshName(used, `${name}_DequantizeLinear`), opType: 'DequantizeLinear', inputs: [qn, sn, zn], outputs: [dq], attrs }));
          quantizedWeights.set(name, dq);
          weights++;
        }
        n.inputs[w.input] = dq;
      }
    }
    newNodes.push(n);
    for (const o of n.outputs) {
      if (!actSet.has(o)) continue;
      const p = qdqFor(o);
      newNodes.push(...p);
      rename.set(o, p[1].outputs[0]);
    }
  }
  g.nodes = newNodes;
  // graph outputs keep their float producers: an output that was quantized is read back as is
  // initializers nothing reads any more (float weights now quantized, folded leftovers) go, and with
  // them their entries among the graph inputs (ONNX lets initializers be listed there as defaults)
  const read = new Set(g.nodes.flatMap((n) => n.inputs));
  for (const name of [...g.initializers.keys()]) {
    if (read.has(name) || g.outputs.includes(name)) continue;
    g.initializers.delete(name);
    g.inputs = g.inputs.filter((i) => i !== name);
  }
  // Constant nodes whose only readers were quantized weights go too
  g.nodes = g.nodes.filter((n) => !(n.opType === 'Constant' && quantizedWeights.has(n.outputs[0]) && !g.nodes.some((c) => c.inputs.includes(n.outputs[0]))));
  g.topoSort();
  if (kept.length) log(`quantize: ${kept.length} node(s) kept in float by fp32Layers: ${kept.join(', ')}`);
  log(`quantize: ${acts.length} activation tensor(s) and ${weights} weight(s) quantized to int8 (${perChannel ? 'per-channel' : 'per-tensor'} weights, opset ${opset})`);
  return m;
}
