/**
 * IR -> ONNX protobuf bytes: the inverse of parse.ts.
 *
 * Tensors are written as little-endian raw_data (strings as string_data), the way onnx's own
 * `numpy_helper.from_array` writes them; narrow floats go back to their bit patterns through
 * src/ir/float.ts, sub-byte types are packed two (or four) per byte, low bits first. 64-bit ints
 * are written exactly (tensors hold bigint); attribute ints are numbers, so values past 2^63
 * saturate to INT64_MAX/MIN, which makes INT64_MAX (a common Slice `ends`) round-trip exactly.
 */
import { UnsupportedError } from '../errors';
import { DType, onnxDTypeCode } from '../ir/dtype';
import { MiniFloat, numberToBfloat16Bits, numberToFloat16Bits, numberToMiniFloat } from '../ir/float';
import { Attr, AttrType, Dim, FunctionDef, Graph, Model, Node, ValueType } from '../ir/graph';
import { Tensor } from '../ir/tensor';
import { ATTRIBUTE_TYPE, ModelProto, TensorProto } from './schema';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Msg = any;

/** Options for {@link serializeModel}. */
export interface SerializeOptions {
  /** ModelProto.ir_version when the model has none (default 10, the IR version of opset 21). */
  irVersion?: number;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextEncoder();

/** A protobufjs-writable int64: {low, high} halves of the two's-complement value. */
function int64(v: number | bigint): { low: number; high: number; unsigned: boolean } {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (!Number.isFinite(v)) b = 0n;
  else if (v >= 2 ** 63) b = (1n << 63n) - 1n;
  else if (v <= -(2 ** 63)) b = -(1n << 63n);
  else b = BigInt(Math.trunc(v));
  const u = BigInt.asUintN(64, b);
  return { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0, unsigned: false };
}

function uint64(v: bigint): { low: number; high: number; unsigned: boolean } {
  const u = BigInt.asUintN(64, v);
  return { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0, unsigned: true };
}

/** The little-endian bytes of a typed array (a view on little-endian hosts). */
function leBytes(a: ArrayBufferView & { BYTES_PER_ELEMENT?: number }): Uint8Array {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const bpe = (a as any).BYTES_PER_ELEMENT ?? 1;
  if (LITTLE_ENDIAN || bpe === 1) return bytes;
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += bpe) for (let k = 0; k < bpe; k++) out[i + k] = bytes[i + bpe - 1 - k];
  return out;
}

function packSubByte(dtype: DType, data: ArrayLike<number>): Uint8Array {
  const bits = dtype.endsWith('2') ? 2 : 4;
  const per = 8 / bits;
  const mask = (1 << bits) - 1;
  const out = new Uint8Array(Math.ceil(data.length / per));
  for (let i = 0; i < data.length; i++) {
    const code = dtype === 'float4e2m1' ? numberToMiniFloat('float4e2m1', data[i]) : data[i] & mask;
    out[Math.floor(i / per)] |= (code & mask) << ((i % per) * bits);
  }
  return out;
}

/** The raw_data bytes of a tensor in ONNX's layout. Throws for string tensors (they have none). */
export function tensorRawBytes(t: Tensor): Uint8Array {
  const d = t.data;
  switch (t.dtype) {
    case 'string': throw new UnsupportedError('string tensors have no raw_data; they are written to string_data');
    case 'float16': return leBytes(Uint16Array.from(d as Float32Array, numberToFloat16Bits));
    case 'bfloat16': return leBytes(Uint16Array.from(d as Float32Array, numberToBfloat16Bits));
    case 'float8e4m3fn': case 'float8e4m3fnuz': case 'float8e5m2': case 'float8e5m2fnuz': case 'float8e8m0':
      return Uint8Array.from(d as Float32Array, (v) => numberToMiniFloat(t.dtype as MiniFloat, v, true));
    case 'float4e2m1': case 'int4': case 'uint4': case 'int2': case 'uint2':
      return packSubByte(t.dtype, d as ArrayLike<number>);
    case 'bool': return Uint8Array.from(d as Uint8Array, (v) => (v ? 1 : 0));
    default: return leBytes(d as ArrayBufferView);
  }
}

/** Tensor -> a TensorProto message object (protobufjs plain object). */
export function tensorToProto(t: Tensor, name?: string): Msg {
  const p: Msg = { dims: t.dims.map((x) => int64(x)), dataType: onnxDTypeCode(t.dtype) };
  if (name) p.name = name;
  if (t.dtype === 'string') p.stringData = (t.data as string[]).map((s) => utf8.encode(s));
  else p.rawData = tensorRawBytes(t);
  return p;
}

/** Tensor -> serialized TensorProto bytes (what `parseTensor` reads). */
export function serializeTensor(t: Tensor, name?: string): Uint8Array {
  return TensorProto.encode(tensorToProto(t, name)).finish();
}

export function typeToProto(t: ValueType): Msg {
  const tensor = (): Msg => {
    const tt: Msg = { elemType: onnxDTypeCode(t.dtype) };
    if (t.shape) {
      // '?k' at index k is parse.ts's name for an anonymous dim: written back with neither value nor param.
      tt.shape = { dim: t.shape.map((d: Dim, k: number) => (typeof d === 'number' ? { dimValue: int64(d) } : d === `?${k}` ? {} : { dimParam: d })) };
    }
    return { tensorType: tt };
  };
  if (t.kind === 'sequence') return { sequenceType: { elemType: tensor() } };
  if (t.kind === 'optional') {
    const inner = t.elemKind === 'sequence' ? { sequenceType: { elemType: tensor() } } : tensor();
    return { optionalType: { elemType: inner } };
  }
  return tensor();
}

const ATTR_CODE: Record<AttrType, number> = {
  float: ATTRIBUTE_TYPE.FLOAT, int: ATTRIBUTE_TYPE.INT, string: ATTRIBUTE_TYPE.STRING, tensor: ATTRIBUTE_TYPE.TENSOR,
  graph: ATTRIBUTE_TYPE.GRAPH, floats: ATTRIBUTE_TYPE.FLOATS, ints: ATTRIBUTE_TYPE.INTS, strings: ATTRIBUTE_TYPE.STRINGS,
  tensors: ATTRIBUTE_TYPE.TENSORS, graphs: ATTRIBUTE_TYPE.GRAPHS, sparse_tensor: ATTRIBUTE_TYPE.SPARSE_TENSOR,
  type_proto: ATTRIBUTE_TYPE.TYPE_PROTO, type_protos: ATTRIBUTE_TYPE.TYPE_PROTOS,
};

function attrToProto(name: string, a: Attr): Msg {
  const p: Msg = { name, type: ATTR_CODE[a.type] };
  if (a.refAttrName) p.refAttrName = a.refAttrName;
  const v = a.value as any;
  switch (a.type) {
    case 'float': p.f = v; break;
    case 'int': p.i = int64(v); break;
    case 'string': p.s = utf8.encode(v); break;
    case 'tensor': p.t = tensorToProto(v); break;
    case 'sparse_tensor': {
      // The IR holds sparse attributes densified: write them back as a sparse tensor with all
      // elements listed (linear indices), which keeps the attribute's type.
      const t = v as Tensor;
      const idx = new BigInt64Array(t.size);
      for (let i = 0; i < t.size; i++) idx[i] = BigInt(i);
      p.sparseTensor = { values: tensorToProto(t.reshape([t.size])), indices: tensorToProto(new Tensor('int64', [t.size], idx)), dims: t.dims.map((x) => int64(x)) };
      break;
    }
    case 'graph': p.g = graphToProto(v); break;
    case 'floats': p.floats = v; break;
    case 'ints': p.ints = (v as number[]).map((x) => int64(x)); break;
    case 'strings': p.strings = (v as string[]).map((s) => utf8.encode(s)); break;
    case 'tensors': p.tensors = (v as Tensor[]).map((t) => tensorToProto(t)); break;
    case 'graphs': p.graphs = (v as Graph[]).map(graphToProto); break;
    case 'type_proto': p.tp = typeToProto(v); break;
    case 'type_protos': p.typeProtos = (v as ValueType[]).map(typeToProto); break;
  }
  return p;
}

function nodeToProto(n: Node): Msg {
  const p: Msg = { input: n.inputs, output: n.outputs, opType: n.opType };
  if (n.name) p.name = n.name;
  if (n.domain) p.domain = n.domain;
  if (n.docString) p.docString = n.docString;
  if (n.attrs.size) p.attribute = [...n.attrs].map(([k, a]) => attrToProto(k, a));
  return p;
}

/** Graph -> GraphProto message object (types of inputs/outputs, the rest as value_info). */
export function graphToProto(g: Graph): Msg {
  const vi = (name: string) => {
    // Types come only from the IR: an input without a known type is written without one.
    const t = g.types.get(name);
    return t ? { name, type: typeToProto(t) } : { name };
  };
  const io = new Set([...g.inputs, ...g.outputs]);
  const p: Msg = {
    name: g.name,
    node: g.nodes.map(nodeToProto),
    initializer: [...g.initializers].map(([name, t]) => tensorToProto(t, name)),
    input: g.inputs.map(vi),
    output: g.outputs.map(vi),
    valueInfo: [...g.types.keys()].filter((k) => !io.has(k)).map(vi),
  };
  if (g.docString) p.docString = g.docString;
  return p;
}

function opsetsToProto(m: Map<string, number>): Msg[] {
  return [...m].map(([domain, version]) => ({ domain, version: int64(version) }));
}

function functionToProto(f: FunctionDef): Msg {
  const p: Msg = {
    name: f.name,
    domain: f.domain,
    input: f.inputs,
    output: f.outputs,
    attribute: f.attributes.filter((a) => !f.attributeDefaults.has(a)),
    attributeProto: [...f.attributeDefaults].map(([k, a]) => attrToProto(k, a)),
    node: f.nodes.map(nodeToProto),
    opsetImport: opsetsToProto(f.opsets),
  };
  if (f.overload) p.overload = f.overload;
  return p;
}

/** Model -> ModelProto message object. */
export function modelToProto(model: Model, options: SerializeOptions = {}): Msg {
  const p: Msg = {
    irVersion: int64(model.irVersion || options.irVersion || 10),
    opsetImport: opsetsToProto(model.opsets),
    graph: graphToProto(model.graph),
  };
  if (model.producerName) p.producerName = model.producerName;
  if (model.producerVersion) p.producerVersion = model.producerVersion;
  if (model.modelVersion) p.modelVersion = int64(model.modelVersion);
  if (model.docString) p.docString = model.docString;
  if (model.metadata.size) p.metadataProps = [...model.metadata].map(([key, value]) => ({ key, value }));
  if (model.functions.length) p.functions = model.functions.map(functionToProto);
  return p;
}

/**
 * Model -> ONNX ModelProto bytes (a complete .onnx file; all tensors inline, no external data).
 * `parseModel(serializeModel(m))` gives back an equal model: same print(), same tensor bytes.
 *
 * @throws UnsupportedError never for valid IR; protobufjs errors would mean an IR invariant broke.
 */
export function serializeModel(model: Model, options: SerializeOptions = {}): Uint8Array {
  return ModelProto.encode(modelToProto(model, options)).finish();
}

/** Graph + opsets -> ModelProto bytes (ai.onnx 21 when no opsets are given). */
export function serializeGraph(graph: Graph, opsets: Map<string, number> | Record<string, number> = { '': 21 }): Uint8Array {
  const m = new Model(graph);
  m.opsets = opsets instanceof Map ? new Map(opsets) : new Map(Object.entries(opsets));
  return serializeModel(m);
}

export { uint64 as uint64Value, int64 as int64Value };
