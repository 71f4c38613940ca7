/**
 * ModelProto -> IR. Tensors whose raw bytes are aligned become views into the file's bytes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ParseError } from '../api/errors';
import { DType, dtypeFromOnnx, isBigInt } from '../ir/dtype';
import { bfloat16BitsToNumber, float16BitsToNumber, MiniFloat, miniFloatToNumber } from '../ir/float';
import { Attr, AttrType, Dim, FunctionDef, Graph, Model, Node, ValueType } from '../ir/graph';
import { allocData, sizeOf, Tensor, TensorData } from '../ir/tensor';
import { ModelProto, OptionalProto, SequenceProto, TensorProto } from './schema';
import type { RuntimeValue } from '../ops/types';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Msg = any;

export interface ParseOptions {
  /** Path of the model file: error messages name it; external data is resolved against its folder. */
  path?: string;
  /** Load external data (default true). */
  loadExternalData?: boolean;
}

interface Ctx {
  file?: string;
  baseDir?: string;
  loadExternal: boolean;
  externalCache: Map<string, Buffer>;
}

function num(v: any): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v.toNumber === 'function') return v.toNumber();
  return Number(v);
}

function big(v: any, unsigned: boolean): bigint {
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'bigint') return v;
  // protobufjs Long: high/low 32-bit halves
  const hi = BigInt(v.high >>> 0), lo = BigInt(v.low >>> 0);
  const u = (hi << 32n) | lo;
  return unsigned ? u : BigInt.asIntN(64, u);
}

const ATTR_TYPES: Record<number, AttrType> = {
  1: 'float', 2: 'int', 3: 'string', 4: 'tensor', 5: 'graph', 6: 'floats', 7: 'ints', 8: 'strings',
  9: 'tensors', 10: 'graphs', 11: 'sparse_tensor', 13: 'type_proto', 14: 'type_protos',
};

const utf8 = new TextDecoder('utf-8');

/** Parse ONNX model bytes. Throws ParseError on anything malformed. */
export function parseModel(bytes: Uint8Array, options: ParseOptions = {}): Model {
  const ctx: Ctx = {
    file: options.path,
    baseDir: options.path ? path.dirname(path.resolve(options.path)) : undefined,
    loadExternal: options.loadExternalData ?? true,
    externalCache: new Map(),
  };
  let m: Msg;
  try {
    m = ModelProto.decode(bytes);
  } catch (e) {
    throw new ParseError(`not a valid ONNX model (protobuf decoding failed: ${(e as Error).message}); check that the file is complete and is an .onnx model`, ctx.file);
  }
  if (!m.graph) throw new ParseError('the model has no graph; is this an ONNX model file?', ctx.file);
  const model = new Model(new Graph());
  model.irVersion = num(m.irVersion);
  model.producerName = m.producerName ?? '';
  model.producerVersion = m.producerVersion ?? '';
  model.modelVersion = num(m.modelVersion);
  model.docString = m.docString ?? '';
  model.path = options.path;
  for (const o of m.opsetImport ?? []) {
    const d = o.domain === 'ai.onnx' ? '' : o.domain ?? '';
    model.opsets.set(d, num(o.version));
  }
  if (!model.opsets.has('') && model.irVersion < 3) model.opsets.set('', 1);
  for (const p of m.metadataProps ?? []) model.metadata.set(p.key, p.value);
  model.graph = convertGraph(m.graph, ctx);
  model.functions = (m.functions ?? []).map((fn: Msg) => convertFunction(fn, ctx));
  return model;
}

/** Read and parse an ONNX model file. */
export function loadModel(file: string, options: Omit<ParseOptions, 'path'> = {}): Model {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new ParseError(`cannot read the model file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, file);
  }
  return parseModel(bytes, { ...options, path: file });
}

function convertFunction(fn: Msg, ctx: Ctx): FunctionDef {
  const opsets = new Map<string, number>();
  for (const o of fn.opsetImport ?? []) opsets.set(o.domain === 'ai.onnx' ? '' : o.domain ?? '', num(o.version));
  const defaults = new Map<string, Attr>();
  for (const a of fn.attributeProto ?? []) defaults.set(a.name, convertAttr(a, ctx, undefined));
  const g = new Graph(fn.name);
  return {
    name: fn.name ?? '',
    domain: fn.domain ?? '',
    overload: fn.overload || undefined,
    inputs: fn.input ?? [],
    outputs: fn.output ?? [],
    attributes: [...(fn.attribute ?? []), ...defaults.keys()],
    attributeDefaults: defaults,
    nodes: (fn.node ?? []).map((n: Msg) => convertNode(n, ctx, g)),
    opsets,
  };
}

function convertGraph(g: Msg, ctx: Ctx, parent?: Graph): Graph {
  const graph = new Graph(g.name || 'graph', parent);
  graph.docString = g.docString || undefined;
  for (const t of g.initializer ?? []) {
    if (!t.name) throw new ParseError(`graph '${graph.name}' has an initializer with no name`, ctx.file);
    graph.initializers.set(t.name, convertTensor(t, ctx));
  }
  for (const s of g.sparseInitializer ?? []) {
    const t = convertSparse(s, ctx);
    const name = s.values?.name;
    if (!name) throw new ParseError(`graph '${graph.name}' has a sparse initializer with no name`, ctx.file);
    graph.initializers.set(name, t);
  }
  for (const vi of g.input ?? []) {
    graph.inputs.push(vi.name);
    const t = convertType(vi.type);
    if (t) graph.types.set(vi.name, t);
  }
  for (const vi of g.output ?? []) {
    graph.outputs.push(vi.name);
    const t = convertType(vi.type);
    if (t) graph.types.set(vi.name, t);
  }
  for (const vi of g.valueInfo ?? []) {
    const t = convertType(vi.type);
    if (t) graph.types.set(vi.name, t);
  }
  graph.nodes = (g.node ?? []).map((n: Msg) => convertNode(n, ctx, graph));
  return graph;
}

function convertNode(n: Msg, ctx: Ctx, graph: Graph): Node {
  if (!n.opType) throw new ParseError(`a node${n.name ? ` '${n.name}'` : ''} in graph '${graph.name}' has no op_type`, ctx.file);
  const attrs = new Map<string, Attr>();
  for (const a of n.attribute ?? []) {
    if (!a.name) throw new ParseError(`node '${n.name ?? ''}' (${n.opType}) has an attribute with no name`, ctx.file);
    attrs.set(a.name, convertAttr(a, ctx, graph));
  }
  return new Node({ name: n.name ?? '', opType: n.opType, domain: n.domain ?? '', inputs: n.input ?? [], outputs: n.output ?? [], attrs });
}

function convertAttr(a: Msg, ctx: Ctx, graph: Graph | undefined): Attr {
  let type = ATTR_TYPES[a.type ?? 0];
  if (!type) type = inferAttrType(a);
  const bytesToStr = (b: Uint8Array) => utf8.decode(b);
  let value: Attr['value'];
  switch (type) {
    case 'float': value = a.f ?? 0; break;
    case 'int': value = num(a.i); break;
    case 'string': value = bytesToStr(a.s ?? new Uint8Array()); break;
    case 'tensor': value = convertTensor(a.t ?? {}, ctx); break;
    case 'graph': value = convertGraph(a.g ?? {}, ctx, graph); break;
    case 'floats': value = (a.floats ?? []).slice(); break;
    case 'ints': value = (a.ints ?? []).map(num); break;
    case 'strings': value = (a.strings ?? []).map(bytesToStr); break;
    case 'tensors': value = (a.tensors ?? []).map((t: Msg) => convertTensor(t, ctx)); break;
    case 'graphs': value = (a.graphs ?? []).map((g: Msg) => convertGraph(g, ctx, graph)); break;
    case 'sparse_tensor': value = convertSparse(a.sparseTensor ?? {}, ctx); type = 'tensor'; break;
    case 'type_proto': value = convertType(a.tp) ?? { dtype: 'float32' }; break;
    case 'type_protos': value = (a.typeProtos ?? []).map((t: Msg) => convertType(t) ?? { dtype: 'float32' }); break;
    default: throw new ParseError(`attribute '${a.name}' has an unknown type ${a.type}`, ctx.file);
  }
  const attr: Attr = { type, value };
  if (a.refAttrName) attr.refAttrName = a.refAttrName;
  return attr;
}

/** Old models (IR < 3?) may omit AttributeProto.type: infer it from which field is set. */
function inferAttrType(a: Msg): AttrType {
  if (a.refAttrName) return 'int';
  if (a.floats?.length) return 'floats';
  if (a.ints?.length) return 'ints';
  if (a.strings?.length) return 'strings';
  if (a.tensors?.length) return 'tensors';
  if (a.graphs?.length) return 'graphs';
  if (a.t) return 'tensor';
  if (a.g) return 'graph';
  if (a.s?.length) return 'string';
  if (a.i !== undefined && num(a.i) !== 0) return 'int';
  if (a.f !== undefined && a.f !== 0) return 'float';
  throw new ParseError(`attribute '${a.name}' has no type and no value`);
}

/** TypeProto -> ValueType (undefined when absent or a map type). */
export function convertType(t: Msg): ValueType | undefined {
  if (!t) return undefined;
  if (t.tensorType || t.sparseTensorType) {
    const tt = t.tensorType ?? t.sparseTensorType;
    const dtype = dtypeFromOnnx(tt.elemType ?? 0);
    if (!dtype) return undefined;
    const shape = tt.shape ? (tt.shape.dim ?? []).map((d: Msg, k: number): Dim => {
      if (d.dimValue !== undefined && d.dimValue !== null && (d.dimParam === undefined || d.dimParam === '')) return num(d.dimValue);
      return d.dimParam || `?${k}`;
    }) : undefined;
    return { kind: 'tensor', dtype, shape };
  }
  if (t.sequenceType) {
    const e = convertType(t.sequenceType.elemType);
    return e ? { kind: 'sequence', dtype: e.dtype, shape: e.shape } : undefined;
  }
  if (t.optionalType) {
    const e = convertType(t.optionalType.elemType);
    return e ? { kind: 'optional', dtype: e.dtype, shape: e.shape, elemKind: e.kind === 'sequence' ? 'sequence' : 'tensor' } : undefined;
  }
  return undefined;
}

function convertSparse(s: Msg, ctx: Ctx): Tensor {
  const dims: number[] = (s.dims ?? []).map(num);
  const values = convertTensor(s.values ?? {}, ctx);
  const indices = convertTensor(s.indices ?? { dataType: 7 }, ctx);
  const out = Tensor.zeros(values.dtype, dims);
  const nnz = values.size;
  const rank = dims.length;
  const total = sizeOf(dims);
  const idx = indices.toNumbers();
  const linear = indices.dims.length === 1;
  for (let k = 0; k < nnz; k++) {
    let off: number;
    if (linear) off = idx[k];
    else {
      off = 0;
      for (let a = 0; a < rank; a++) off = off * dims[a] + idx[k * rank + a];
    }
    if (!(off >= 0 && off < total)) throw new ParseError(`sparse tensor index ${off} is out of range`, ctx.file);
    (out.data as any)[off] = (values.data as any)[k];
  }
  return out;
}

const MAX_ELEMENTS = 2 ** 31;

/** TensorProto (decoded message) -> Tensor. */
export function convertTensor(t: Msg, ctx: Ctx = { loadExternal: true, externalCache: new Map() }): Tensor {
  const name = t.name ? `tensor '${t.name}'` : 'a tensor';
  const dtype = dtypeFromOnnx(t.dataType ?? 0);
  if (!dtype) throw new ParseError(`${name} has unknown data_type ${t.dataType}`, ctx.file);
  const dims: number[] = (t.dims ?? []).map(num);
  for (const d of dims) if (!Number.isSafeInteger(d) || d < 0) throw new ParseError(`${name} has an invalid dimension ${d}`, ctx.file);
  const n = sizeOf(dims);
  if (n > MAX_ELEMENTS) throw new ParseError(`${name} claims ${n} elements, more than vkrt accepts`, ctx.file);
  let raw: Uint8Array | undefined = t.rawData && t.rawData.length ? t.rawData : undefined;
  if (t.dataLocation === 1) raw = readExternal(t, ctx, name);
  if (raw) return fromRaw(dtype, dims, raw, name, ctx);
  return fromTyped(dtype, dims, t, name, ctx);
}

function readExternal(t: Msg, ctx: Ctx, name: string): Uint8Array {
  const kv = new Map<string, string>((t.externalData ?? []).map((e: Msg) => [e.key, e.value]));
  const loc = kv.get('location');
  if (!loc) throw new ParseError(`${name} is stored externally but names no location`, ctx.file);
  if (!ctx.loadExternal) return new Uint8Array(0);
  if (!ctx.baseDir) throw new ParseError(`${name} is stored in external file '${loc}', but the model was given as bytes; load it from its path instead`, ctx.file);
  const full = path.resolve(ctx.baseDir, loc);
  const rel = path.relative(ctx.baseDir, full);
  if (path.isAbsolute(loc) || rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new ParseError(`${name} refers to external data '${loc}' outside the model's folder; refusing to read it`, ctx.file);
  }
  let buf = ctx.externalCache.get(full);
  if (!buf) {
    try {
      buf = fs.readFileSync(full);
    } catch (e) {
      throw new ParseError(`${name}: cannot read external data file '${loc}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, ctx.file);
    }
    ctx.externalCache.set(full, buf);
  }
  const offset = Number(kv.get('offset') ?? 0);
  const length = kv.has('length') ? Number(kv.get('length')) : buf.length - offset;
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > buf.length) {
    throw new ParseError(`${name}: external data range offset=${kv.get('offset')} length=${kv.get('length')} lies outside '${loc}' (${buf.length} bytes)`, ctx.file);
  }
  return new Uint8Array(buf.buffer, buf.byteOffset + offset, length);
}

function fromRaw(dtype: DType, dims: number[], raw: Uint8Array, name: string, ctx: Ctx): Tensor {
  const n = sizeOf(dims);
  const need = (bytes: number) => {
    if (raw.length !== bytes) throw new ParseError(`${name}: raw_data has ${raw.length} bytes, but ${dtype}[${dims.join(',')}] needs ${bytes}`, ctx.file);
  };
  const view = <T>(Ctor: { new (b: ArrayBufferLike, o: number, l: number): T; new (b: ArrayBufferLike): T; BYTES_PER_ELEMENT: number }, count: number): T => {
    need(count * Ctor.BYTES_PER_ELEMENT);
    if (raw.byteOffset % Ctor.BYTES_PER_ELEMENT === 0) return new Ctor(raw.buffer, raw.byteOffset, count);
    return new Ctor(new Uint8Array(raw).buffer); // unaligned: one copy of the bytes (Buffer.slice would alias)
  };
  let data: TensorData;
  switch (dtype) {
    case 'float32': data = view(Float32Array, n); break;
    case 'float64': data = view(Float64Array, n); break;
    case 'complex64': data = view(Float32Array, 2 * n); break;
    case 'complex128': data = view(Float64Array, 2 * n); break;
    case 'int8': data = view(Int8Array, n); break;
    case 'uint8': data = view(Uint8Array, n); break;
    case 'bool': data = Uint8Array.from(view(Uint8Array, n), (b) => (b ? 1 : 0)); break;
    case 'int16': data = view(Int16Array, n); break;
    case 'uint16': data = view(Uint16Array, n); break;
    case 'int32': data = view(Int32Array, n); break;
    case 'uint32': data = view(Uint32Array, n); break;
    case 'int64': data = view(BigInt64Array, n); break;
    case 'uint64': data = view(BigUint64Array, n); break;
    case 'float16': { const h = view(Uint16Array, n); data = Float32Array.from(h, float16BitsToNumber); break; }
    case 'bfloat16': { const h = view(Uint16Array, n); data = Float32Array.from(h, bfloat16BitsToNumber); break; }
    case 'float8e4m3fn': case 'float8e4m3fnuz': case 'float8e5m2': case 'float8e5m2fnuz': case 'float8e8m0': {
      const b = view(Uint8Array, n); data = Float32Array.from(b, (c) => miniFloatToNumber(dtype as MiniFloat, c)); break;
    }
    case 'float4e2m1': case 'int4': case 'uint4': case 'int2': case 'uint2': {
      const bits = dtype.endsWith('2') ? 2 : 4;
      const per = 8 / bits;
      need(Math.ceil(n / per));
      data = unpackSubByte(dtype, n, (i) => (raw[Math.floor(i / per)] >> ((i % per) * bits)) & ((1 << bits) - 1));
      break;
    }
    case 'string': throw new ParseError(`${name}: string tensors cannot use raw_data`, ctx.file);
    default: throw new ParseError(`${name}: unsupported data type ${dtype}`, ctx.file);
  }
  return new Tensor(dtype, dims, data);
}

function unpackSubByte(dtype: DType, n: number, code: (i: number) => number): TensorData {
  const data = allocData(dtype, n);
  for (let i = 0; i < n; i++) {
    const c = code(i);
    if (dtype === 'float4e2m1') (data as Float32Array)[i] = miniFloatToNumber('float4e2m1', c);
    else if (dtype === 'int4') (data as Int8Array)[i] = c >= 8 ? c - 16 : c;
    else if (dtype === 'int2') (data as Int8Array)[i] = c >= 2 ? c - 4 : c;
    else (data as Uint8Array)[i] = c;
  }
  return data;
}

function fromTyped(dtype: DType, dims: number[], t: Msg, name: string, ctx: Ctx): Tensor {
  const n = sizeOf(dims);
  const check = (len: number, per = 1) => {
    if (len !== Math.ceil(n * per)) throw new ParseError(`${name}: has ${len} values, but ${dtype}[${dims.join(',')}] needs ${Math.ceil(n * per)}`, ctx.file);
  };
  if (n === 0) return Tensor.zeros(dtype, dims);
  switch (dtype) {
    case 'float32': check(t.floatData?.length ?? 0); return new Tensor(dtype, dims, Float32Array.from(t.floatData));
    case 'complex64': check(t.floatData?.length ?? 0, 2); return new Tensor(dtype, dims, Float32Array.from(t.floatData));
    case 'float64': check(t.doubleData?.length ?? 0); return new Tensor(dtype, dims, Float64Array.from(t.doubleData));
    case 'complex128': check(t.doubleData?.length ?? 0, 2); return new Tensor(dtype, dims, Float64Array.from(t.doubleData));
    case 'string': {
      const s = t.stringData ?? [];
      check(s.length);
      return new Tensor(dtype, dims, s.map((b: Uint8Array) => utf8.decode(b)));
    }
    case 'int64': case 'uint64': {
      const src = dtype === 'int64' ? t.int64Data : t.uint64Data;
      check(src?.length ?? 0);
      const d = allocData(dtype, n) as BigInt64Array | BigUint64Array;
      for (let i = 0; i < n; i++) d[i] = big(src[i], dtype === 'uint64');
      return new Tensor(dtype, dims, d);
    }
    case 'uint32': {
      const src = t.uint64Data?.length ? t.uint64Data : t.int32Data;
      check(src?.length ?? 0);
      return new Tensor(dtype, dims, Uint32Array.from(src, num));
    }
    case 'float16': case 'bfloat16': {
      const src: number[] = t.int32Data ?? [];
      check(src.length);
      const conv = dtype === 'float16' ? float16BitsToNumber : bfloat16BitsToNumber;
      return new Tensor(dtype, dims, Float32Array.from(src, (v) => conv(v & 0xffff)));
    }
    case 'float8e4m3fn': case 'float8e4m3fnuz': case 'float8e5m2': case 'float8e5m2fnuz': case 'float8e8m0': {
      const src: number[] = t.int32Data ?? [];
      check(src.length);
      return new Tensor(dtype, dims, Float32Array.from(src, (v) => miniFloatToNumber(dtype as MiniFloat, v & 0xff)));
    }
    case 'float4e2m1': case 'int4': case 'uint4': case 'int2': case 'uint2': {
      const src: number[] = t.int32Data ?? [];
      const bits = dtype.endsWith('2') ? 2 : 4;
      const per = 8 / bits;
      check(src.length, 1 / per);
      return new Tensor(dtype, dims, unpackSubByte(dtype, n, (i) => (src[Math.floor(i / per)] >> ((i % per) * bits)) & ((1 << bits) - 1)));
    }
    default: {
      // int8/16/32, uint8/16, bool: int32_data
      const src: number[] = t.int32Data ?? [];
      check(src.length);
      const d = allocData(dtype, n) as Exclude<TensorData, string[] | BigInt64Array | BigUint64Array>;
      for (let i = 0; i < n; i++) d[i] = dtype === 'bool' ? (src[i] ? 1 : 0) : src[i];
      if (isBigInt(dtype)) throw new Error('unreachable');
      return new Tensor(dtype, dims, d);
    }
  }
}

/** Parse a serialized TensorProto (e.g. a test's input_0.pb). */
export function parseTensor(bytes: Uint8Array, file?: string): Tensor {
  let m: Msg;
  try {
    m = TensorProto.decode(bytes);
  } catch (e) {
    throw new ParseError(`not a valid TensorProto (${(e as Error).message})`, file);
  }
  return convertTensor(m, { file, baseDir: file ? path.dirname(file) : undefined, loadExternal: true, externalCache: new Map() });
}

function convertSequence(m: Msg, ctx: Ctx): Tensor[] {
  if ((m.sequenceValues?.length ?? 0) > 0 || (m.mapValues?.length ?? 0) > 0) {
    throw new ParseError('sequences of sequences or maps are not supported', ctx.file);
  }
  return (m.tensorValues ?? []).map((t: Msg) => convertTensor(t, ctx));
}

/**
 * Parse a serialized test value whose kind the model's type says: TensorProto, SequenceProto
 * (-> Tensor[]) or OptionalProto (-> value or null).
 */
export function parseValue(bytes: Uint8Array, type: ValueType | undefined, file?: string): RuntimeValue {
  const ctx: Ctx = { file, loadExternal: true, externalCache: new Map() };
  try {
    if (type?.kind === 'sequence') return convertSequence(SequenceProto.decode(bytes), ctx);
    if (type?.kind === 'optional') {
      const o: Msg = OptionalProto.decode(bytes);
      if (o.tensorValue) return convertTensor(o.tensorValue, ctx);
      if (o.sequenceValue) return convertSequence(o.sequenceValue, ctx);
      return null;
    }
  } catch (e) {
    if (e instanceof ParseError) throw e;
    throw new ParseError(`not a valid ${type?.kind} value (${(e as Error).message})`, file);
  }
  return parseTensor(bytes, file);
}
