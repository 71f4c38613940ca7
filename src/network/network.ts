/**
 * The network definition API (TensorRT's INetworkDefinition): a network built layer by layer in
 * code, with TensorRT's layer vocabulary, when there is no ONNX file. Each `add*` call appends the
 * ONNX nodes the layer stands for and infers their output shapes at once through the operators'
 * own shape functions, so a layer that does not fit fails where it is added, with a NetworkError
 * naming the layer. The result is an ordinary IR model: buildable like an ONNX model
 * (`builder.buildEngine(network)`), and exportable to ONNX (`network.toOnnx()`).
 *
 * Weights become ONNX initializers named after their layer (`conv1.weight`, `conv1.bias`,
 * `bn1.scale`, ...), the names a refittable engine's refit() takes.
 */
import { NetworkError, VkrtError } from '../errors';
import { Attrs } from '../ir/attrs';
import { AttrInput, BuilderMark, GraphBuilder } from '../ir/builder';
import type { DType } from '../ir/dtype';
import { Graph, Model, ValueType } from '../ir/graph';
import { Tensor } from '../ir/tensor';
import { registry as defaultRegistry } from '../ops/index';
import type { OpRegistry } from '../ops/registry';
import type { ShapeContext } from '../ops/types';
import { serializeModel } from '../onnx/serialize';

/** A tensor of the network (TensorRT's ITensor): a name, an element type and static dims. */
export interface ITensor {
  readonly name: string;
  readonly dtype: DType;
  readonly dims: readonly number[];
}

/** TensorRT's layer kinds, as this API names them. */
export type LayerType =
  | 'Convolution' | 'Deconvolution' | 'FullyConnected' | 'MatrixMultiply' | 'Activation' | 'Pooling'
  | 'ElementWise' | 'SoftMax' | 'Concatenation' | 'Shuffle' | 'Reduce' | 'Scale' | 'PluginV3'
  | 'Constant' | 'Slice' | 'Gather' | 'Unary' | 'Identity';

/** A layer of the network (TensorRT's ILayer). */
export interface ILayer {
  readonly name: string;
  readonly type: LayerType;
  readonly inputs: readonly ITensor[];
  readonly outputs: readonly ITensor[];
  /** The first output. */
  readonly output: ITensor;
  getOutput(index: number): ITensor;
}

/** Weight values: a Float32Array in row-major order, or a Tensor (its dtype is kept). */
export type Weights = Float32Array | Tensor;

export type ActivationType =
  | 'relu' | 'sigmoid' | 'tanh' | 'leakyRelu' | 'elu' | 'selu' | 'softsign' | 'softplus' | 'clip'
  | 'hardSigmoid' | 'scaledTanh' | 'thresholdedRelu' | 'gelu' | 'geluTanh';
export type PoolingType = 'max' | 'average';
export type ElementWiseOperation = 'sum' | 'prod' | 'max' | 'min' | 'sub' | 'div' | 'pow' | 'equal' | 'greater' | 'less' | 'and' | 'or' | 'xor';
export type ReduceOperation = 'sum' | 'prod' | 'max' | 'min' | 'avg';
export type UnaryOperation = 'exp' | 'log' | 'sqrt' | 'recip' | 'abs' | 'neg' | 'sin' | 'cos' | 'floor' | 'ceil' | 'erf' | 'not' | 'sign' | 'round';
export type ScaleMode = 'uniform' | 'channel' | 'elementwise';
export type MatrixOperation = 'none' | 'transpose';

interface Named { name?: string }

export interface ConvolutionOptions extends Named {
  /** Output channels (TensorRT's nbOutputMaps). */
  outputMaps: number;
  /** Spatial kernel size, e.g. [3, 3]. */
  kernelSize: readonly number[];
  /** [outputMaps, inputChannels / groups, ...kernelSize] values. */
  kernel: Weights;
  /** [outputMaps] values. */
  bias?: Weights;
  stride?: readonly number[];
  /** Symmetric padding per spatial axis (TensorRT's setPaddingNd). */
  padding?: readonly number[];
  /** Padding before / after each spatial axis (TensorRT's setPrePadding / setPostPadding). */
  prePadding?: readonly number[];
  postPadding?: readonly number[];
  dilation?: readonly number[];
  groups?: number;
}

export interface FullyConnectedOptions extends Named {
  /** Output features. */
  outputs: number;
  /** [outputs, features] values (features: the product of the input's dims after the first). */
  kernel: Weights;
  bias?: Weights;
}

export interface PoolingOptions extends Named {
  windowSize: readonly number[];
  stride?: readonly number[];
  padding?: readonly number[];
  /** Average pooling: padded elements do not count (TensorRT's default, true). */
  averageCountExcludesPadding?: boolean;
}

export interface ShuffleOptions extends Named {
  firstTranspose?: readonly number[];
  /** New dims: 0 copies the input's dim, -1 is inferred (TensorRT's setReshapeDimensions). */
  reshape?: readonly number[];
  secondTranspose?: readonly number[];
}

export interface ScaleOptions extends Named {
  shift?: Weights;
  scale?: Weights;
  power?: Weights;
  /** The channel axis for mode 'channel' (default 1). */
  channelAxis?: number;
}

export interface PluginLayerOptions extends Named {
  /** The plugin operator's domain and type (registered with plugins.register or given to the network). */
  domain: string;
  opType: string;
  attrs?: Record<string, AttrInput>;
  /** Number of outputs (default 1). */
  outputs?: number;
  /** Opset version of the domain imported by the model (default 1). */
  version?: number;
}

const ACTIVATIONS: Record<ActivationType, string> = {
  relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh', leakyRelu: 'LeakyRelu', elu: 'Elu', selu: 'Selu', softsign: 'Softsign',
  softplus: 'Softplus', clip: 'Clip', hardSigmoid: 'HardSigmoid', scaledTanh: 'Tanh', thresholdedRelu: 'ThresholdedRelu', gelu: 'Gelu', geluTanh: 'Gelu',
};
const ELEMENTWISE: Record<ElementWiseOperation, string> = {
  sum: 'Add', prod: 'Mul', max: 'Max', min: 'Min', sub: 'Sub', div: 'Div', pow: 'Pow', equal: 'Equal', greater: 'Greater', less: 'Less', and: 'And', or: 'Or', xor: 'Xor',
};
const REDUCE: Record<ReduceOperation, string> = { sum: 'ReduceSum', prod: 'ReduceProd', max: 'ReduceMax', min: 'ReduceMin', avg: 'ReduceMean' };
const UNARY: Record<UnaryOperation, string> = {
  exp: 'Exp', log: 'Log', sqrt: 'Sqrt', recip: 'Reciprocal', abs: 'Abs', neg: 'Neg', sin: 'Sin', cos: 'Cos', floor: 'Floor', ceil: 'Ceil', erf: 'Erf', not: 'Not', sign: 'Sign', round: 'Round',
};

class Layer implements ILayer {
  constructor(readonly name: string, readonly type: LayerType, readonly inputs: readonly ITensor[], readonly outputs: readonly ITensor[]) {}
  get output(): ITensor { return this.outputs[0]; }
  getOutput(index: number): ITensor {
    const t = this.outputs[index];
    if (!t) throw new NetworkError(`has ${this.outputs.length} output(s); there is no output ${index}`, this);
    return t;
  }
}

export interface NetworkOptions {
  /** Operators (and plugins) the network's layers resolve against; default the process registry. */
  registry?: OpRegistry;
  /** Default-domain opset the model imports (default 21). */
  opset?: number;
}

/** A network built in code (TensorRT's INetworkDefinition). Create one with `builder.createNetwork()`. */
export class NetworkDefinition {
  readonly name: string;
  private readonly b: GraphBuilder;
  private readonly registry: OpRegistry;
  private readonly opsets = new Map<string, number>();
  private readonly tensors = new Map<string, ITensor>();
  private readonly layerList: Layer[] = [];
  private readonly outputList: ITensor[] = [];
  /** Set while a layer is being added: where to roll back to if it fails halfway. */
  private pending?: { mark: BuilderMark; tensors: number; opsets: Map<string, number> };

  constructor(name = 'network', options: NetworkOptions = {}) {
    this.name = name;
    this.opsets.set('', options.opset ?? 21);
    this.b = new GraphBuilder(name, { '': options.opset ?? 21 });
    this.registry = options.registry ?? defaultRegistry;
  }

  /** The layers, in the order they were added. */
  get layers(): readonly ILayer[] { return this.layerList; }
  /** Every tensor of the network by name (inputs, layer outputs, weights). */
  getTensor(name: string): ITensor | undefined { this.settle(); return this.tensors.get(name); }
  get inputs(): readonly ITensor[] { return this.b.graph.inputs.map((n) => this.tensors.get(n)!); }
  get outputs(): readonly ITensor[] { return this.outputList; }

  /** A network input with static dims (TensorRT's addInput). */
  addInput(name: string, dtype: DType, dims: readonly number[]): ITensor {
    this.settle();
    if (!dims.every((d) => Number.isInteger(d) && d >= 0)) throw new NetworkError(`input '${name}': dims must be non-negative integers, got [${dims.join(',')}]`);
    this.guard({ name, type: 'Identity' }, () => this.b.input(name, dtype, dims));
    return this.tensor(name, { kind: 'tensor', dtype, shape: [...dims] });
  }

  /** Marks a tensor as a network output (TensorRT's markOutput). */
  markOutput(t: ITensor): void {
    this.settle();
    this.own(t, 'markOutput');
    if (this.outputList.includes(this.tensors.get(t.name)!)) throw new NetworkError(`'${t.name}' is already an output`);
    this.b.output(t.name, t.dtype, [...t.dims]);
    this.outputList.push(this.tensors.get(t.name)!);
  }

  /** A convolution over N spatial dims (TensorRT's addConvolutionNd): ONNX Conv. */
  addConvolution(input: ITensor, o: ConvolutionOptions): ILayer {
    return this.convLike('Convolution', 'Conv', input, o);
  }

  /** A transposed convolution (TensorRT's addDeconvolutionNd): ONNX ConvTranspose; kernel [Cin, outputMaps / groups, ...k]. */
  addDeconvolution(input: ITensor, o: ConvolutionOptions): ILayer {
    return this.convLike('Deconvolution', 'ConvTranspose', input, o);
  }

  /** A fully connected layer: the input flattened after its first dim, times kernel^T, plus bias -> [N, outputs]. */
  addFullyConnected(input: ITensor, o: FullyConnectedOptions): ILayer {
    const layer = this.layerRef(o.name, 'FullyConnected');
    this.own(input, layer);
    const features = input.dims.slice(1).reduce((a, b) => a * b, 1);
    const w = this.weights(layer, 'weight', o.kernel, [o.outputs, features]);
    const bias = o.bias ? this.weights(layer, 'bias', o.bias, [o.outputs]) : undefined;
    const flat = input.dims.length === 2 ? input.name : this.node(layer, 'Flatten', [input.name], { axis: 1 }, 'flatten')[0];
    const [y] = this.node(layer, 'Gemm', [flat, w, bias], { transB: 1 });
    return this.finish(layer, [input], [y]);
  }

  /** A matrix product of the last two dims, each operand optionally transposed (TensorRT's addMatrixMultiply). */
  addMatrixMultiply(a: ITensor, opA: MatrixOperation, b: ITensor, opB: MatrixOperation, options: Named = {}): ILayer {
    const layer = this.layerRef(options.name, 'MatrixMultiply');
    this.own(a, layer);
    this.own(b, layer);
    const t = (x: ITensor, op: MatrixOperation, tag: string) => {
      if (op === 'none') return x.name;
      if (x.dims.length < 2) throw new NetworkError(`cannot transpose the rank-${x.dims.length} operand '${x.name}'`, layer);
      const perm = x.dims.map((_, i) => i);
      [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
      return this.node(layer, 'Transpose', [x.name], { perm }, tag)[0];
    };
    const [y] = this.node(layer, 'MatMul', [t(a, opA, 'transpose_a'), t(b, opB, 'transpose_b')]);
    return this.finish(layer, [a, b], [y]);
  }

  /**
   * An activation (TensorRT's addActivation). alpha/beta as TensorRT defines them: leakyRelu,
   * elu, thresholdedRelu alpha; selu alpha and beta (gamma); clip [alpha, beta]; hardSigmoid
   * alpha*x+beta; scaledTanh alpha*tanh(beta*x).
   */
  addActivation(input: ITensor, type: ActivationType, options: Named & { alpha?: number; beta?: number } = {}): ILayer {
    const layer = this.layerRef(options.name, 'Activation');
    this.own(input, layer);
    const op = ACTIVATIONS[type];
    if (!op) throw new NetworkError(`unknown activation '${type}' (one of ${Object.keys(ACTIVATIONS).join(', ')})`, layer);
    const { alpha, beta } = options;
    const fl = (v: number | undefined) => (v === undefined ? undefined : { type: 'float' as const, value: v });
    let y: string;
    switch (type) {
      case 'clip': {
        const lo = this.constant(layer, 'min', Tensor.scalar(input.dtype, alpha ?? 0));
        const hi = this.constant(layer, 'max', Tensor.scalar(input.dtype, beta ?? 6));
        [y] = this.node(layer, 'Clip', [input.name, lo, hi]);
        break;
      }
      case 'scaledTanh': {
        const inner = beta === undefined || beta === 1 ? input.name : this.node(layer, 'Mul', [input.name, this.constant(layer, 'beta', Tensor.scalar(input.dtype, beta))], {}, 'scale_in')[0];
        const th = this.node(layer, 'Tanh', [inner], {}, alpha === undefined || alpha === 1 ? undefined : 'tanh')[0];
        y = alpha === undefined || alpha === 1 ? th : this.node(layer, 'Mul', [th, this.constant(layer, 'alpha', Tensor.scalar(input.dtype, alpha))])[0];
        break;
      }
      case 'selu': [y] = this.node(layer, op, [input.name], { alpha: fl(alpha), gamma: fl(beta) } as Record<string, AttrInput>); break;
      case 'hardSigmoid': [y] = this.node(layer, op, [input.name], { alpha: fl(alpha), beta: fl(beta) } as Record<string, AttrInput>); break;
      case 'leakyRelu': case 'elu': case 'thresholdedRelu': [y] = this.node(layer, op, [input.name], { alpha: fl(alpha) } as Record<string, AttrInput>); break;
      case 'geluTanh': [y] = this.node(layer, op, [input.name], { approximate: 'tanh' }); break;
      default: [y] = this.node(layer, op, [input.name]);
    }
    return this.finish(layer, [input], [y]);
  }

  /** Max or average pooling over the spatial dims (TensorRT's addPoolingNd). */
  addPooling(input: ITensor, type: PoolingType, o: PoolingOptions): ILayer {
    const layer = this.layerRef(o.name, 'Pooling');
    this.own(input, layer);
    const n = o.windowSize.length;
    if (input.dims.length !== n + 2) throw new NetworkError(`a ${n}-D window needs an input of rank ${n + 2} (N, C, spatial...), got [${input.dims.join(',')}]`, layer);
    const attrs: Record<string, AttrInput> = { kernel_shape: [...o.windowSize], strides: [...(o.stride ?? o.windowSize)], pads: pads(o.padding, undefined, undefined, n) };
    if (type === 'average') attrs.count_include_pad = o.averageCountExcludesPadding === false ? 1 : 0;
    else if (type !== 'max') throw new NetworkError(`unknown pooling type '${type}' (max or average)`, layer);
    const [y] = this.node(layer, type === 'max' ? 'MaxPool' : 'AveragePool', [input.name], attrs);
    return this.finish(layer, [input], [y]);
  }

  /** An element-wise binary operation with broadcasting (TensorRT's addElementWise). */
  addElementWise(a: ITensor, b: ITensor, op: ElementWiseOperation, options: Named = {}): ILayer {
    const layer = this.layerRef(options.name, 'ElementWise');
    this.own(a, layer);
    this.own(b, layer);
    const onnx = ELEMENTWISE[op];
    if (!onnx) throw new NetworkError(`unknown element-wise operation '${op}' (one of ${Object.keys(ELEMENTWISE).join(', ')})`, layer);
    const [y] = this.node(layer, onnx, [a.name, b.name]);
    return this.finish(layer, [a, b], [y]);
  }

  /** A unary operation (TensorRT's addUnary). */
  addUnary(input: ITensor, op: UnaryOperation, options: Named = {}): ILayer {
    const layer = this.layerRef(options.name, 'Unary');
    this.own(input, layer);
    const onnx = UNARY[op];
    if (!onnx) throw new NetworkError(`unknown unary operation '${op}' (one of ${Object.keys(UNARY).join(', ')})`, layer);
    const [y] = this.node(layer, onnx, [input.name]);
    return this.finish(layer, [input], [y]);
  }

  /** Softmax along one axis (default: the last). */
  addSoftMax(input: ITensor, options: Named & { axis?: number } = {}): ILayer {
    const layer = this.layerRef(options.name, 'SoftMax');
    this.own(input, layer);
    const [y] = this.node(layer, 'Softmax', [input.name], { axis: options.axis ?? input.dims.length - 1 });
    return this.finish(layer, [input], [y]);
  }

  /** Concatenation along an axis (TensorRT's default: rank - 3, or 0: the channels of NCHW). */
  addConcatenation(inputs: readonly ITensor[], options: Named & { axis?: number } = {}): ILayer {
    const layer = this.layerRef(options.name, 'Concatenation');
    if (!inputs.length) throw new NetworkError('needs at least one input', layer);
    for (const t of inputs) this.own(t, layer);
    const axis = options.axis ?? Math.max(0, inputs[0].dims.length - 3);
    const [y] = this.node(layer, 'Concat', inputs.map((t) => t.name), { axis });
    return this.finish(layer, inputs, [y]);
  }

  /** Transpose, reshape, transpose (TensorRT's IShuffleLayer); each part optional. */
  addShuffle(input: ITensor, o: ShuffleOptions): ILayer {
    const layer = this.layerRef(o.name, 'Shuffle');
    this.own(input, layer);
    let x = input.name;
    if (o.firstTranspose) x = this.node(layer, 'Transpose', [x], { perm: [...o.firstTranspose] }, o.reshape || o.secondTranspose ? 'first_transpose' : undefined)[0];
    if (o.reshape) {
      const shape = this.constant(layer, 'shape', Tensor.from('int64', [o.reshape.length], o.reshape.map((d) => BigInt(d))));
      x = this.node(layer, 'Reshape', [x, shape], {}, o.secondTranspose ? 'reshape' : undefined)[0];
    }
    if (o.secondTranspose) x = this.node(layer, 'Transpose', [x], { perm: [...o.secondTranspose] })[0];
    if (x === input.name) x = this.node(layer, 'Identity', [x])[0];
    return this.finish(layer, [input], [x]);
  }

  /** A reduction over axes (TensorRT's addReduce). */
  addReduce(input: ITensor, op: ReduceOperation, axes: readonly number[], keepDims: boolean, options: Named = {}): ILayer {
    const layer = this.layerRef(options.name, 'Reduce');
    this.own(input, layer);
    const onnx = REDUCE[op];
    if (!onnx) throw new NetworkError(`unknown reduce operation '${op}' (one of ${Object.keys(REDUCE).join(', ')})`, layer);
    const ax = this.constant(layer, 'axes', Tensor.from('int64', [axes.length], axes.map((a) => BigInt(a))));
    const [y] = this.node(layer, onnx, [input.name, ax], { keepdims: keepDims ? 1 : 0 });
    return this.finish(layer, [input], [y]);
  }

  /**
   * y = (x * scale + shift) ^ power (TensorRT's addScale): one value for all ('uniform'), one per
   * channel ('channel', along channelAxis), or one per element ('elementwise'). Absent parts are
   * identities and add no node. Batch normalization in inference form is a 'channel' scale.
   */
  addScale(input: ITensor, mode: ScaleMode, o: ScaleOptions = {}): ILayer {
    const layer = this.layerRef(o.name, 'Scale');
    this.own(input, layer);
    const axis = o.channelAxis ?? 1;
    let dims: number[];
    if (mode === 'uniform') dims = [1];
    else if (mode === 'channel') {
      if (axis < 0 || axis >= input.dims.length) throw new NetworkError(`channel axis ${axis} is out of range for [${input.dims.join(',')}]`, layer);
      dims = [input.dims[axis], ...new Array<number>(input.dims.length - axis - 1).fill(1)];
    } else if (mode === 'elementwise') dims = [...input.dims];
    else throw new NetworkError(`unknown scale mode '${mode}' (uniform, channel or elementwise)`, layer);
    let x = input.name;
    const parts = (['scale', 'shift', 'power'] as const).filter((k) => o[k]);
    if (!parts.length) x = this.node(layer, 'Identity', [x])[0];
    for (const k of parts) {
      const w = this.weights(layer, k, o[k]!, dims);
      const last = k === parts[parts.length - 1];
      x = this.node(layer, k === 'scale' ? 'Mul' : k === 'shift' ? 'Add' : 'Pow', [x, w], {}, last ? undefined : k)[0];
    }
    return this.finish(layer, [input], [x]);
  }

  /** A plugin's operator (TensorRT's addPluginV3): a node of the plugin's domain and type. */
  addPluginV3(inputs: readonly ITensor[], o: PluginLayerOptions): ILayer {
    const layer = this.layerRef(o.name, 'PluginV3');
    for (const t of inputs) this.own(t, layer);
    const domain = o.domain === 'ai.onnx' ? '' : o.domain;
    if (domain && !this.opsets.has(domain)) this.opsets.set(domain, o.version ?? 1);
    if (!this.registry.get(domain, o.opType)) throw new NetworkError(`no operator ${domain || 'ai.onnx'}::${o.opType} is registered: register its plugin first (plugins.register) or pass a registry with it`, layer);
    const outs = this.node(layer, o.opType, inputs.map((t) => t.name), o.attrs ?? {}, undefined, { domain, outputs: o.outputs ?? 1 });
    return this.finish(layer, inputs, outs);
  }

  /** A constant tensor (TensorRT's addConstant); its values are an initializer named after the layer. */
  addConstant(dims: readonly number[], weights: Weights, options: Named = {}): ILayer {
    const layer = this.layerRef(options.name, 'Constant');
    const name = this.weights(layer, '', weights, [...dims]);
    const t = this.tensor(name, { kind: 'tensor', dtype: this.b.graph.initializers.get(name)!.dtype, shape: [...dims] });
    return this.finish(layer, [], [t.name]);
  }

  /** A strided slice: `size` elements per axis from `start`, every `stride` (TensorRT's addSlice). */
  addSlice(input: ITensor, start: readonly number[], size: readonly number[], stride: readonly number[], options: Named = {}): ILayer {
    const layer = this.layerRef(options.name, 'Slice');
    this.own(input, layer);
    const r = input.dims.length;
    if (start.length !== r || size.length !== r || stride.length !== r) throw new NetworkError(`start, size and stride need ${r} entries (the input's rank)`, layer);
    const ends = start.map((s, i) => (stride[i] > 0 ? s + size[i] * stride[i] : s + size[i] * stride[i] < 0 ? -(2 ** 62) : s + size[i] * stride[i]));
    const i64 = (part: string, v: readonly number[]) => this.constant(layer, part, Tensor.from('int64', [v.length], v.map((x) => BigInt(x))));
    const [y] = this.node(layer, 'Slice', [input.name, i64('starts', start), i64('ends', ends), i64('axes', start.map((_, i) => i)), i64('steps', stride)]);
    const got = this.tensors.get(y)!.dims;
    if (got.join(',') !== size.join(',')) throw new NetworkError(`the slice has shape [${got.join(',')}], not the size [${size.join(',')}] asked for (start or size past the input's [${input.dims.join(',')}])`, layer);
    return this.finish(layer, [input], [y]);
  }

  /** Gathers along an axis by indices (TensorRT's addGather). */
  addGather(data: ITensor, indices: ITensor, axis: number, options: Named = {}): ILayer {
    const layer = this.layerRef(options.name, 'Gather');
    this.own(data, layer);
    this.own(indices, layer);
    const [y] = this.node(layer, 'Gather', [data.name, indices.name], { axis });
    return this.finish(layer, [data, indices], [y]);
  }

  /** A copy of the input (TensorRT's addIdentity). */
  addIdentity(input: ITensor, options: Named = {}): ILayer {
    const layer = this.layerRef(options.name, 'Identity');
    this.own(input, layer);
    const [y] = this.node(layer, 'Identity', [input.name]);
    return this.finish(layer, [input], [y]);
  }

  /**
   * The network as an IR model (what an ONNX file parses to). Each call gives a new Model over the
   * network's current graph.
   * @throws NetworkError when no output is marked.
   */
  toModel(): Model {
    this.settle();
    if (!this.outputList.length) throw new NetworkError(`network '${this.name}' has no output: call markOutput() on the tensors it computes`);
    const src = this.b.graph;
    src.verify();
    const g = new Graph(src.name);
    g.nodes = src.nodes.slice();
    g.inputs = src.inputs.slice();
    g.outputs = src.outputs.slice();
    g.initializers = new Map(src.initializers);
    g.types = new Map(src.types);
    const m = new Model(g);
    m.opsets = new Map(this.opsets);
    m.irVersion = 10;
    m.producerName = 'vkrt network API';
    return m;
  }

  /** The network as ONNX model bytes (write them to a .onnx file; onnxruntime and vkrt read them). */
  toOnnx(): Uint8Array {
    return serializeModel(this.toModel());
  }

  // ---- internals ----

  /** Undoes what a layer that failed halfway added (its nodes, weights, names), so the network stays valid. */
  private settle(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    this.b.rollback(p.mark);
    [...this.tensors.keys()].slice(p.tensors).forEach((k) => this.tensors.delete(k));
    this.opsets.clear();
    for (const [k, v] of p.opsets) this.opsets.set(k, v);
  }

  private layerRef(name: string | undefined, type: LayerType): { name: string; type: LayerType } {
    this.settle();
    this.pending = { mark: this.b.mark(), tensors: this.tensors.size, opsets: new Map(this.opsets) };
    const n = name ?? this.b.uniqueName(`${type.toLowerCase()}_${this.layerList.length}`);
    if (this.layerList.some((l) => l.name === n)) throw new NetworkError(`a layer named '${n}' exists already`, { name: n, type });
    return { name: n, type };
  }

  private own(t: ITensor, layer: { name: string; type: string } | string): void {
    const known = t && this.tensors.get(t.name);
    if (!known) {
      const msg = `'${t?.name}' is not a tensor of this network (use the ITensor an add* call or addInput returned)`;
      throw typeof layer === 'string' ? new NetworkError(`${layer}: ${msg}`) : new NetworkError(msg, layer);
    }
  }

  private tensor(name: string, t: ValueType): ITensor {
    const dims = t.shape as number[];
    const out: ITensor = Object.freeze({ name, dtype: t.dtype, dims: Object.freeze([...dims]) });
    this.tensors.set(name, out);
    this.b.graph.types.set(name, { kind: 'tensor', dtype: t.dtype, shape: [...dims] });
    return out;
  }

  /** Runs `fn`, reporting any error as a NetworkError naming the layer. */
  private guard<T>(layer: { name: string; type: string }, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof NetworkError) throw e;
      const msg = e instanceof VkrtError ? e.message.replace(/^node '[^']*' \(([^)]*)\): /, '$1: ') : String((e as Error)?.message ?? e);
      throw new NetworkError(msg, layer);
    }
  }

  /** An initializer `<layer>.<part>` holding `w`, checked to have `dims` elements. */
  private weights(layer: { name: string; type: string }, part: string, w: Weights, dims: number[]): string {
    const name = part ? `${layer.name}.${part}` : layer.name;
    const n = dims.reduce((a, b) => a * b, 1);
    let t: Tensor;
    if (w instanceof Tensor) {
      if (w.size !== n) throw new NetworkError(`${part || 'weights'}: expected ${n} values ([${dims.join(',')}]), got a tensor of ${w.size} ([${w.dims.join(',')}])`, layer);
      t = w.dims.join(',') === dims.join(',') ? w : new Tensor(w.dtype, dims, w.data);
    } else if (w instanceof Float32Array) {
      if (w.length !== n) throw new NetworkError(`${part || 'weights'}: expected ${n} values ([${dims.join(',')}]), got ${w.length}`, layer);
      t = new Tensor('float32', dims, w.slice());
    } else {
      throw new NetworkError(`${part || 'weights'} must be a Float32Array or a Tensor`, layer);
    }
    this.guard(layer, () => this.b.initializer(name, t));
    this.tensors.set(name, Object.freeze({ name, dtype: t.dtype, dims: Object.freeze([...t.dims]) }));
    return name;
  }

  private constant(layer: { name: string; type: string }, part: string, t: Tensor): string {
    return this.guard(layer, () => this.b.initializer(this.b.uniqueName(`${layer.name}.${part}`), t));
  }

  /**
   * Appends one ONNX node of the layer and infers its outputs' types now. The layer's last node is
   * named after the layer and its output is `<layer>` (or `<layer>:k`); helper nodes get a suffix.
   */
  private node(layer: { name: string; type: string }, opType: string, inputs: readonly (string | undefined)[], attrs: Record<string, AttrInput> = {}, helper?: string, extra: { domain?: string; outputs?: number } = {}): string[] {
    const nodeName = helper ? this.b.uniqueName(`${layer.name}.${helper}`) : layer.name;
    const count = extra.outputs ?? 1;
    const outs = Array.from({ length: count }, (_, k) => this.b.uniqueName(count === 1 ? nodeName : `${nodeName}:${k}`));
    const clean = Object.fromEntries(Object.entries(attrs).filter(([, v]) => v !== undefined));
    this.guard(layer, () => this.b.node(opType, inputs, clean, { name: nodeName, outputs: outs, domain: extra.domain }));
    const node = this.b.graph.nodes[this.b.graph.nodes.length - 1];
    const def = this.registry.get(node.domain, node.opType);
    if (!def?.inferShape) throw new NetworkError(`${node.domain ? `${node.domain}::` : ''}${opType} has no shape function`, layer);
    const opset = this.opsets.get(node.domain) ?? 1;
    const types = this.guard(layer, () => {
      const ctx: ShapeContext = {
        node, opset, attrs: new Attrs(node), outputCount: node.outputs.length,
        constant: (i) => (node.inputs[i] ? this.b.graph.initializers.get(node.inputs[i]) : undefined),
        fail: (m) => { throw new NetworkError(`${opType}: ${m}`, layer); },
        unsupported: (m) => { throw new NetworkError(`${opType}: ${m}`, layer); },
      };
      const g = this.b.graph;
      const typeOf = (i: string): ValueType | undefined => {
        const c = g.initializers.get(i);
        return c ? { kind: 'tensor', dtype: c.dtype, shape: [...c.dims] } : g.types.get(i);
      };
      return def.inferShape!(ctx, node.inputs.map((i) => (i ? typeOf(i) : undefined)));
    });
    return outs.map((o, k) => {
      const t = types[k];
      if (!t?.shape || !t.shape.every((d) => typeof d === 'number')) throw new NetworkError(`${opType}: the shape of output ${k} is not known (${t?.shape ? `[${t.shape.join(',')}]` : 'unknown rank'})`, layer);
      this.tensor(o, t);
      return o;
    });
  }

  private finish(layer: { name: string; type: LayerType }, inputs: readonly ITensor[], outs: string[]): Layer {
    this.pending = undefined;
    const l = new Layer(layer.name, layer.type, inputs, outs.map((o) => this.tensors.get(o)!));
    this.layerList.push(l);
    return l;
  }

  /** The convolution and deconvolution layers: weights checked against the input's channels. */
  private convLike(type: 'Convolution' | 'Deconvolution', op: 'Conv' | 'ConvTranspose', input: ITensor, o: ConvolutionOptions): ILayer {
    const layer = this.layerRef(o.name, type);
    this.own(input, layer);
    const k = o.kernelSize;
    if (!k.length || !k.every((v) => Number.isInteger(v) && v > 0)) throw new NetworkError(`kernelSize must be positive integers, got [${k.join(',')}]`, layer);
    if (input.dims.length !== k.length + 2) throw new NetworkError(`a ${k.length}-D kernel needs an input of rank ${k.length + 2} (N, C, spatial...), got '${input.name}' [${input.dims.join(',')}]`, layer);
    const groups = o.groups ?? 1;
    const cin = input.dims[1];
    if (cin % groups || o.outputMaps % groups) throw new NetworkError(`groups ${groups} must divide the input channels (${cin}) and outputMaps (${o.outputMaps})`, layer);
    const wDims = op === 'Conv' ? [o.outputMaps, cin / groups, ...k] : [cin, o.outputMaps / groups, ...k];
    const w = this.weights(layer, 'weight', o.kernel, wDims);
    const bias = o.bias ? this.weights(layer, 'bias', o.bias, [o.outputMaps]) : undefined;
    const n = k.length;
    const [y] = this.node(layer, op, [input.name, w, bias], {
      kernel_shape: [...k], strides: [...(o.stride ?? new Array<number>(n).fill(1))], dilations: [...(o.dilation ?? new Array<number>(n).fill(1))],
      pads: pads(o.padding, o.prePadding, o.postPadding, n), group: groups,
    });
    return this.finish(layer, [input], [y]);
  }
}

/** ONNX pads (all begins, then all ends) from symmetric or pre/post padding. */
function pads(sym: readonly number[] | undefined, pre: readonly number[] | undefined, post: readonly number[] | undefined, n: number): number[] {
  const zero = new Array<number>(n).fill(0);
  const b = pre ?? sym ?? zero, e = post ?? sym ?? zero;
  if (b.length !== n || e.length !== n) throw new NetworkError(`padding needs ${n} entries per side, got [${b.join(',')}] / [${e.join(',')}]`);
  return [...b, ...e];
}
