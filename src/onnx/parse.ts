/**
 * ModelProto -> IR.
 *
 * Design (see docs/onnx.md):
 * - protobufjs decodes `bytes` fields as views (subarray) of the input, so raw_data of a large
 *   initializer is never copied by the decoder; a float32/int32/... tensor whose raw bytes are
 *   aligned for its element type becomes a typed-array view of the file's bytes. Unaligned bytes,
 *   narrow floats, bool and sub-byte types are converted (one pass, bounded by the input size).
 * - Every count that comes from the file is checked before anything is allocated from it: a hostile
 *   file gives a ParseError, never an unbounded allocation. Repeated fields cannot be hostile by
 *   count alone: protobufjs only materialises what the bytes hold.
 * - int64 fields arrive as `long` objects; tensors keep them exact (BigInt64Array), dims and
 *   attributes become numbers (dims must be safe integers; attribute ints beyond 2^53 round).
 */
import * as fs from 'fs';
import * as path from 'path';
import { ParseError, VkrtError } from '../errors';
import { DType, dtypeFromOnnx } from '../ir/dtype';
import { bfloat16BitsToNumber, float16BitsToNumber, MiniFloat, miniFloatToNumber } from '../ir/float';
import { Attr, AttrType, Dim, FunctionDef, Graph, Model, Node, ValueType } from '../ir/graph';
import { allocData, Tensor, TensorData } from '../ir/tensor';
import * as protobuf from 'protobufjs/minimal';
import { ATTRIBUTE_TYPE, DATA_LOCATION_EXTERNAL, GraphProto, ModelProto, NodeProto, OptionalProto, SequenceProto, TensorProto } from './schema';
import type { RuntimeValue } from '../ops/types';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Msg = any;

/** Limits that keep a hostile file from making the parser allocate or recurse without bound. */
export interface ParseLimits {
  /** Most elements one tensor may declare (default 2^31). */
  maxElements: number;
  /** Most elements a sparse tensor may expand to when densified (default 2^26). */
  maxSparseElements: number;
  /**
   * Deepest nesting of subgraphs (If/Loop/Scan bodies) and of sequence/optional types (default 32).
   * protobufjs separately refuses messages nested more than 100 deep (protoc's default), which
   * is about 33 subgraph levels.
   */
  maxDepth: number;
  /** Most dims one tensor or shape may have (default 64). */
  maxRank: number;
  /** External data files up to this size are read whole and shared by views (default 1 GiB); larger ones are read per tensor. */
  wholeFileBytes: number;
  /**
   * Most nodes in all graphs, subgraphs and functions together (default 2^22 = 4,194,304). The IR
   * holds about 0.5 KB per node, so the default bounds a parse to about 2 GB; raise it for
   * larger models.
   */
  maxNodes: number;
}

export const DEFAULT_PARSE_LIMITS: Readonly<ParseLimits> = {
  maxElements: 2 ** 31,
  maxSparseElements: 2 ** 26,
  maxDepth: 32,
  maxRank: 64,
  wholeFileBytes: 2 ** 30,
  maxNodes: 2 ** 22,
};

export interface ParseOptions {
  /** Path of the model file: error messages name it; external data is resolved against its folder. */
  path?: string;
  /** Override some of {@link DEFAULT_PARSE_LIMITS}. */
  limits?: Partial<ParseLimits>;
}

interface Ctx {
  file?: string;
  /** Folder external data must stay inside (already resolved through symlinks lazily). */
  baseDir?: string;
  realBaseDir?: string;
  limits: ParseLimits;
  externalCache: Map<string, Buffer | { fd: number; size: number }>;
  /** Op type and domain strings seen so far. */
  strings: Map<string, string>;
  /** Nodes converted so far (against limits.maxNodes). */
  nodes: number;
}

function intern(ctx: Ctx, s: string): string {
  const have = ctx.strings.get(s);
  if (have !== undefined) return have;
  if (ctx.strings.size < 4096) ctx.strings.set(s, s);
  return s;
}

function makeCtx(file: string | undefined, limits?: Partial<ParseLimits>): Ctx {
  return {
    file,
    baseDir: file ? path.dirname(path.resolve(file)) : undefined,
    limits: { ...DEFAULT_PARSE_LIMITS, ...limits },
    externalCache: new Map(),
    strings: new Map(),
    nodes: 0,
  };
}

function closeCtx(ctx: Ctx): void {
  for (const v of ctx.externalCache.values()) if (!(v instanceof Uint8Array)) fs.closeSync(v.fd);
  ctx.externalCache.clear();
}

/** A 64-bit protobuf value (number, bigint or `long` object) as an exact bigint. */
export function longToBigInt(v: any, unsigned = false): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string') return BigInt(v);
  const u = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return unsigned ? BigInt.asUintN(64, u) : BigInt.asIntN(64, u);
}

/** A 64-bit protobuf value as a number (nearest double beyond 2^53). */
function num(v: any): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v.toNumber === 'function') return v.toNumber();
  return Number(v);
}

const ATTR_TYPES: Record<number, AttrType> = {
  [ATTRIBUTE_TYPE.FLOAT]: 'float', [ATTRIBUTE_TYPE.INT]: 'int', [ATTRIBUTE_TYPE.STRING]: 'string',
  [ATTRIBUTE_TYPE.TENSOR]: 'tensor', [ATTRIBUTE_TYPE.GRAPH]: 'graph', [ATTRIBUTE_TYPE.FLOATS]: 'floats',
  [ATTRIBUTE_TYPE.INTS]: 'ints', [ATTRIBUTE_TYPE.STRINGS]: 'strings', [ATTRIBUTE_TYPE.TENSORS]: 'tensors',
  [ATTRIBUTE_TYPE.GRAPHS]: 'graphs', [ATTRIBUTE_TYPE.SPARSE_TENSOR]: 'sparse_tensor',
  [ATTRIBUTE_TYPE.TYPE_PROTO]: 'type_proto', [ATTRIBUTE_TYPE.TYPE_PROTOS]: 'type_protos',
};

const utf8 = new TextDecoder('utf-8');
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack/i.test(e.message);
}

/** Run a conversion; a stack overflow (absurdly nested input) becomes a ParseError. */
function guarded<T>(ctx: Ctx, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof VkrtError) throw e;
    if (isStackOverflow(e)) throw new ParseError(`${what} is nested too deeply to read`, ctx.file, { cause: e });
    throw e;
  }
}

function decode<T>(type: { decode(b: Uint8Array): unknown }, bytes: Uint8Array, ctx: Ctx, what: string): T {
  // Decode from a Buffer view (no copy): protobufjs then reads strings with Node's UTF-8 decoder,
  // which replaces invalid sequences with U+FFFD (its own decoder can yield lone surrogates that
  // do not survive re-encoding), and `bytes` fields come back as views of the same memory.
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    return type.decode(buf) as T;
  } catch (e) {
    const why = isStackOverflow(e) ? 'messages nested too deeply' : (e as Error).message;
    throw new ParseError(`not a valid ${what} (protobuf decoding failed: ${why}); check that the file is complete and is what it claims to be`, ctx.file, { cause: e });
  }
}

/** Field numbers read one message at a time (onnx.proto): ModelProto.graph, GraphProto.node, GraphProto.initializer. */
const MODEL_GRAPH = 7, GRAPH_NODE = 1, GRAPH_INITIALIZER = 5;
const WIRE_LENGTH_DELIMITED = 2;

/**
 * Split a message's bytes into the ranges of some length-delimited fields and the rest: `pick`
 * fields are returned as [start, end) offsets (flat pairs), everything else as one message's bytes.
 */
function splitFields(buf: Buffer, pick: readonly number[]): { ranges: Map<number, number[]>; rest: Buffer } {
  const r = protobuf.Reader.create(buf);
  const ranges = new Map<number, number[]>(pick.map((f) => [f, []]));
  const rest: Buffer[] = [];
  while (r.pos < r.len) {
    const start = r.pos;
    const tag = r.uint32();
    const list = ranges.get(tag >>> 3);
    if (list && (tag & 7) === WIRE_LENGTH_DELIMITED) {
      const len = r.uint32();
      const from = r.pos;
      r.skip(len);
      list.push(from, from + len);
    } else {
      r.skipType(tag & 7);
      rest.push(buf.subarray(start, r.pos));
    }
  }
  return { ranges, rest: rest.length === 1 ? rest[0] : Buffer.concat(rest) };
}

/** The messages at `ranges`, decoded one at a time as the caller iterates (then garbage). */
function* lazyMessages(type: { decode(b: Uint8Array): unknown }, buf: Buffer, ranges: number[], ctx: Ctx, what: string): Generator<Msg> {
  for (let i = 0; i < ranges.length; i += 2) yield decode<Msg>(type, buf.subarray(ranges[i], ranges[i + 1]), ctx, what);
}

/**
 * Decode a ModelProto whose main graph's nodes and initializers are decoded one at a time while
 * they are converted: a large graph's decoded messages are never all alive at once, so peak memory
 * is the file, the IR and one node (not also a message tree as large as the IR). Falls back to a
 * whole decode when the graph field is repeated (protobuf merges repeats).
 */
function decodeModelLazily(bytes: Uint8Array, ctx: Ctx): Msg {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let model: { ranges: Map<number, number[]>; rest: Buffer };
  let graph: { ranges: Map<number, number[]>; rest: Buffer };
  let gbuf: Buffer;
  try {
    model = splitFields(buf, [MODEL_GRAPH]);
    const g = model.ranges.get(MODEL_GRAPH)!;
    if (g.length !== 2) return decode(ModelProto, bytes, ctx, 'ONNX model');
    gbuf = buf.subarray(g[0], g[1]);
    graph = splitFields(gbuf, [GRAPH_NODE, GRAPH_INITIALIZER]);
  } catch (e) {
    if (e instanceof VkrtError) throw e;
    const why = isStackOverflow(e) ? 'messages nested too deeply' : (e as Error).message;
    throw new ParseError(`not a valid ONNX model (protobuf decoding failed: ${why}); check that the file is complete and is what it claims to be`, ctx.file, { cause: e });
  }
  countNodes(ctx, graph.ranges.get(GRAPH_NODE)!.length / 2);
  const m: Msg = decode(ModelProto, model.rest, ctx, 'ONNX model');
  const g: Msg = decode(GraphProto, graph.rest, ctx, 'ONNX model');
  g.node = lazyMessages(NodeProto, gbuf, graph.ranges.get(GRAPH_NODE)!, ctx, 'ONNX model');
  g.initializer = lazyMessages(TensorProto, gbuf, graph.ranges.get(GRAPH_INITIALIZER)!, ctx, 'ONNX model');
  m.graph = g;
  return m;
}

const normDomain = (d: string | undefined) => (d === 'ai.onnx' ? '' : d ?? '');

/**
 * Parse ONNX model bytes. Throws ParseError on anything malformed.
 *
 * Large initializers are views into `bytes` (when aligned): do not modify or reuse `bytes` while
 * the model is alive. External data is read relative to `options.path`'s folder.
 */
export function parseModel(bytes: Uint8Array, options: ParseOptions = {}): Model {
  if (!(bytes instanceof Uint8Array)) throw new ParseError('parseModel expects the file bytes as a Uint8Array/Buffer', options.path);
  const ctx = makeCtx(options.path, options.limits);
  const m: Msg = decodeModelLazily(bytes, ctx);
  if (!m.graph) throw new ParseError('the model has no graph; is this an ONNX model file?', ctx.file);
  try {
    return guarded(ctx, 'the model', () => convertModel(m, ctx, options.path));
  } finally {
    closeCtx(ctx);
  }
}

function convertModel(m: Msg, ctx: Ctx, file: string | undefined): Model {
  const model = new Model(new Graph());
  model.irVersion = num(m.irVersion);
  model.producerName = m.producerName ?? '';
  model.producerVersion = m.producerVersion ?? '';
  model.modelVersion = num(m.modelVersion);
  model.docString = m.docString ?? '';
  model.path = file;
  model.opsets = convertOpsets(m.opsetImport, ctx);
  // IR version < 3 had no opset_import: it meant ai.onnx version 1.
  if (!model.opsets.has('') && model.irVersion < 3) model.opsets.set('', 1);
  for (const p of m.metadataProps ?? []) model.metadata.set(p.key ?? '', p.value ?? '');
  model.graph = convertGraph(m.graph, ctx, undefined, 0);
  model.functions = (m.functions ?? []).map((fn: Msg) => convertFunction(fn, ctx));
  return model;
}

function convertOpsets(list: Msg[] | undefined, ctx: Ctx): Map<string, number> {
  const out = new Map<string, number>();
  for (const o of list ?? []) {
    const v = num(o.version);
    if (!Number.isSafeInteger(v) || v < 0) throw new ParseError(`opset import of domain '${o.domain ?? ''}' has an invalid version ${v}`, ctx.file);
    out.set(normDomain(o.domain), v);
  }
  return out;
}

/** Read and parse an ONNX model file (external data is read from its folder). */
export function loadModel(file: string, options: Omit<ParseOptions, 'path'> = {}): Model {
  let bytes: Buffer;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new ParseError(`cannot read the model file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, file, { cause: e });
  }
  return parseModel(bytes, { ...options, path: file });
}

function convertFunction(fn: Msg, ctx: Ctx): FunctionDef {
  const name = fn.name ?? '';
  if (!name) throw new ParseError('the model has a local function with no name', ctx.file);
  const defaults = new Map<string, Attr>();
  for (const a of fn.attributeProto ?? []) defaults.set(a.name, convertAttr(a, ctx, undefined, 1, `function '${name}'`));
  const g = new Graph(name);
  for (const vi of fn.valueInfo ?? []) {
    const t = convertType(vi.type, ctx, 0);
    if (t && vi.name) g.types.set(vi.name, t);
  }
  return {
    name,
    domain: normDomain(fn.domain),
    overload: fn.overload || undefined,
    inputs: fn.input ?? [],
    outputs: fn.output ?? [],
    attributes: [...(fn.attribute ?? []), ...[...defaults.keys()].filter((k) => !(fn.attribute ?? []).includes(k))],
    attributeDefaults: defaults,
    nodes: (fn.node ?? []).map((n: Msg) => convertNode(n, ctx, g, 1)),
    opsets: convertOpsets(fn.opsetImport, ctx),
  };
}

function convertGraph(g: Msg, ctx: Ctx, parent: Graph | undefined, depth: number): Graph {
  if (depth > ctx.limits.maxDepth) throw new ParseError(`subgraphs are nested more than ${ctx.limits.maxDepth} deep`, ctx.file);
  const graph = new Graph(g.name || 'graph', parent);
  graph.docString = g.docString || undefined;
  const where = `graph '${graph.name}'`;
  const addInit = (name: string, t: Tensor) => {
    if (graph.initializers.has(name)) throw new ParseError(`${where} has two initializers named '${name}'`, ctx.file);
    graph.initializers.set(name, t);
  };
  for (const t of g.initializer ?? []) {
    if (!t.name) throw new ParseError(`${where} has an initializer with no name`, ctx.file);
    addInit(t.name, convertTensor(t, ctx));
  }
  for (const s of g.sparseInitializer ?? []) {
    const name = s.values?.name;
    if (!name) throw new ParseError(`${where} has a sparse initializer with no name (values.name is empty)`, ctx.file);
    addInit(name, convertSparse(s, ctx));
  }
  const info = (vi: Msg, what: string) => {
    if (!vi.name) throw new ParseError(`${where} has a ${what} with no name`, ctx.file);
    const t = convertType(vi.type, ctx, 0);
    if (t) graph.types.set(vi.name, t);
    return vi.name as string;
  };
  for (const vi of g.input ?? []) graph.inputs.push(info(vi, 'graph input'));
  for (const vi of g.output ?? []) graph.outputs.push(info(vi, 'graph output'));
  for (const vi of g.valueInfo ?? []) info(vi, 'value_info entry');
  for (const n of (g.node ?? []) as Iterable<Msg>) graph.nodes.push(convertNode(n, ctx, graph, depth));
  uniqueNodeNames(graph.nodes);
  return graph;
}

/**
 * ONNX node names are for diagnostics only and need not be unique (OpenVINO's exporter repeats
 * them); the IR wants them unique because fused layers and the profiler are named after them.
 * Repeats get a `__<k>` suffix; empty names stay empty.
 */
function uniqueNodeNames(nodes: Node[]): void {
  const seen = new Set<string>();
  for (const n of nodes) if (n.name) seen.add(n.name);
  if (seen.size === nodes.filter((n) => n.name).length) return;
  const taken = new Set<string>();
  for (const n of nodes) {
    if (!n.name) continue;
    if (taken.has(n.name)) {
      let k = 2;
      while (seen.has(`${n.name}__${k}`) || taken.has(`${n.name}__${k}`)) k++;
      n.name = `${n.name}__${k}`;
    }
    taken.add(n.name);
  }
}

/** Refuse a model with more nodes than limits.maxNodes, before converting them. */
function countNodes(ctx: Ctx, n: number): void {
  if (ctx.nodes + n > ctx.limits.maxNodes) {
    throw new ParseError(`the model has more than ${ctx.limits.maxNodes} nodes (at least ${ctx.nodes + n}); that is over the parse limit maxNodes (about 0.5 KB of memory per node): raise it with parseModel(bytes, { limits: { maxNodes } }) if the machine has the memory`, ctx.file);
  }
}

function convertNode(n: Msg, ctx: Ctx, graph: Graph, depth: number): Node {
  ctx.nodes++;
  if (ctx.nodes > ctx.limits.maxNodes) countNodes(ctx, 0);
  const label = `node '${n.name || '(unnamed)'}'${n.opType ? ` (${n.opType})` : ''} in graph '${graph.name}'`;
  if (!n.opType) throw new ParseError(`${label} has no op_type`, ctx.file);
  const attrs = new Map<string, Attr>();
  for (const a of n.attribute ?? []) {
    if (!a.name) throw new ParseError(`${label} has an attribute with no name`, ctx.file);
    if (attrs.has(a.name)) throw new ParseError(`${label} has attribute '${a.name}' twice`, ctx.file);
    attrs.set(a.name, convertAttr(a, ctx, graph, depth, label));
  }
  // op types and domains repeat across nodes: one string each, not one per node
  const node = new Node({ name: n.name ?? '', opType: intern(ctx, n.opType), domain: intern(ctx, normDomain(n.domain)), inputs: n.input ?? [], outputs: n.output ?? [] });
  node.attrs = attrs;
  if (n.docString) node.docString = n.docString;
  return node;
}

function convertAttr(a: Msg, ctx: Ctx, graph: Graph | undefined, depth: number, label: string): Attr {
  const what = `${label}: attribute '${a.name}'`;
  let type: AttrType | undefined = a.type ? ATTR_TYPES[a.type] : inferAttrType(a);
  if (!type) throw new ParseError(`${what} has an unknown type ${a.type}`, ctx.file);
  // An absent bytes field reads as protobufjs's default, which may be a plain empty array.
  const str = (b: Uint8Array | undefined) => (b instanceof Uint8Array ? utf8.decode(b) : '');
  const tensor = (t: Msg) => convertTensor(t ?? {}, ctx, what);
  const sub = (g: Msg) => convertGraph(g ?? {}, ctx, graph, depth + 1);
  let value: Attr['value'];
  switch (type) {
    case 'float': value = a.f ?? 0; break;
    case 'int': value = num(a.i); break;
    case 'string': value = str(a.s); break;
    case 'tensor': value = tensor(a.t); break;
    case 'graph': value = sub(a.g); break;
    case 'floats': value = (a.floats ?? []).slice(); break;
    case 'ints': value = (a.ints ?? []).map(num); break;
    case 'strings': value = (a.strings ?? []).map(str); break;
    case 'tensors': value = (a.tensors ?? []).map(tensor); break;
    case 'graphs': value = (a.graphs ?? []).map(sub); break;
    // The IR holds sparse attributes (Constant's sparse_value) densified, as plain tensors.
    case 'sparse_tensor': value = convertSparse(a.sparseTensor ?? {}, ctx); type = 'tensor'; break;
    case 'type_proto': value = convertType(a.tp, ctx, 0) ?? { dtype: 'float32' }; break;
    case 'type_protos': value = (a.typeProtos ?? []).map((t: Msg) => convertType(t, ctx, 0) ?? { dtype: 'float32' }); break;
    default: throw new ParseError(`${what} has type ${type}, which vkrt does not read`, ctx.file);
  }
  const attr: Attr = { type, value };
  if (a.refAttrName) attr.refAttrName = a.refAttrName;
  return attr;
}

/** IR version 1/2 models may omit AttributeProto.type: infer it from which field is set. */
function inferAttrType(a: Msg): AttrType | undefined {
  if (a.floats?.length) return 'floats';
  if (a.ints?.length) return 'ints';
  if (a.strings?.length) return 'strings';
  if (a.tensors?.length) return 'tensors';
  if (a.graphs?.length) return 'graphs';
  if (a.t) return 'tensor';
  if (a.g) return 'graph';
  if (a.sparseTensor) return 'sparse_tensor';
  if (a.s?.length) return 'string';
  if (a.f !== undefined && a.f !== 0) return 'float';
  // An int (possibly 0), or a function-body reference with only ref_attr_name.
  return 'int';
}

/** TypeProto -> ValueType (undefined when absent or a map/unknown type). */
export function convertType(t: Msg, ctx: Ctx = makeCtx(undefined), depth = 0): ValueType | undefined {
  if (!t) return undefined;
  if (depth > ctx.limits.maxDepth) throw new ParseError(`a type is nested more than ${ctx.limits.maxDepth} deep`, ctx.file);
  const tt = t.tensorType ?? t.sparseTensorType;
  if (tt) {
    const dtype = dtypeFromOnnx(tt.elemType ?? 0);
    if (!dtype) return undefined;
    let shape: Dim[] | undefined;
    if (tt.shape) {
      const dims: Msg[] = tt.shape.dim ?? [];
      if (dims.length > ctx.limits.maxRank) throw new ParseError(`a value type has rank ${dims.length}, more than ${ctx.limits.maxRank}`, ctx.file);
      shape = dims.map((d: Msg, k: number): Dim => {
        if (d.dimParam) return d.dimParam;
        // dim_value/dim_param are a oneof: an unset one reads as the prototype's default (0), so
        // ask whether the field was actually present.
        if (!Object.prototype.hasOwnProperty.call(d, 'dimValue')) return `?${k}`;
        const v = num(d.dimValue);
        if (!Number.isSafeInteger(v)) throw new ParseError(`a value type has dimension ${d.dimValue}, which is not a usable size`, ctx.file);
        // Some exporters write -1 for "unknown": read it as an anonymous symbolic dim.
        return v < 0 ? `?${k}` : v;
      });
    }
    return { kind: 'tensor', dtype, shape };
  }
  if (t.sequenceType) {
    const e = convertType(t.sequenceType.elemType, ctx, depth + 1);
    return e ? { kind: 'sequence', dtype: e.dtype, shape: e.shape } : undefined;
  }
  if (t.optionalType) {
    const e = convertType(t.optionalType.elemType, ctx, depth + 1);
    return e ? { kind: 'optional', dtype: e.dtype, shape: e.shape, elemKind: e.kind === 'sequence' ? 'sequence' : 'tensor' } : undefined;
  }
  return undefined;
}

/** Validated dims of a tensor, and its element count (checked against the limits). */
function checkDims(raw: Msg[] | undefined, name: string, ctx: Ctx, maxElements = ctx.limits.maxElements): { dims: number[]; n: number } {
  const list = raw ?? [];
  if (list.length > ctx.limits.maxRank) throw new ParseError(`${name} has rank ${list.length}, more than ${ctx.limits.maxRank}`, ctx.file);
  const dims = list.map(num);
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new ParseError(`${name} has an invalid dimension ${d} in [${dims.join(',')}]`, ctx.file);
    n *= d;
  }
  // n may be inexact past 2^53, but then it is far beyond the limit anyway; a 0 dim makes it 0.
  if (n > maxElements) throw new ParseError(`${name} claims ${n} elements ([${dims.join(',')}]), more than the limit of ${maxElements}`, ctx.file);
  return { dims, n };
}

function convertSparse(s: Msg, ctx: Ctx): Tensor {
  const name = s.values?.name ? `sparse tensor '${s.values.name}'` : 'a sparse tensor';
  const { dims, n: total } = checkDims(s.dims, name, ctx, ctx.limits.maxSparseElements);
  if (!s.values) throw new ParseError(`${name} has no values`, ctx.file);
  const values = convertTensor(s.values, ctx);
  const indices = convertTensor(s.indices ?? { dataType: 7, dims: [0] }, ctx, `${name}: indices`);
  if (values.dims.length !== 1) throw new ParseError(`${name}: values must be 1-D, got [${values.dims.join(',')}]`, ctx.file);
  const nnz = values.size;
  const rank = dims.length;
  const linear = indices.dims.length === 1;
  if (linear ? indices.size !== nnz : indices.dims.length !== 2 || indices.dims[0] !== nnz || indices.dims[1] !== rank) {
    throw new ParseError(`${name}: indices [${indices.dims.join(',')}] do not fit ${nnz} values of rank ${rank}`, ctx.file);
  }
  const out = Tensor.zeros(values.dtype, dims);
  const idx = indices.toNumbers();
  for (let k = 0; k < nnz; k++) {
    let off: number;
    if (linear) off = idx[k];
    else {
      off = 0;
      for (let a = 0; a < rank; a++) {
        const i = idx[k * rank + a];
        if (!(i >= 0 && i < dims[a])) { off = -1; break; }
        off = off * dims[a] + i;
      }
    }
    if (!(Number.isInteger(off) && off >= 0 && off < total)) throw new ParseError(`${name}: index ${off} of value ${k} is out of range`, ctx.file);
    (out.data as any)[off] = (values.data as any)[k];
  }
  return out;
}

/** Bytes of raw_data a dtype needs for n elements. */
export function rawByteLength(dtype: DType, n: number): number {
  switch (dtype) {
    case 'float64': case 'int64': case 'uint64': case 'complex64': return 8 * n;
    case 'complex128': return 16 * n;
    case 'float32': case 'int32': case 'uint32': return 4 * n;
    case 'float16': case 'bfloat16': case 'int16': case 'uint16': return 2 * n;
    case 'int4': case 'uint4': case 'float4e2m1': return Math.ceil(n / 2);
    case 'int2': case 'uint2': return Math.ceil(n / 4);
    default: return n;
  }
}

/** TensorProto (decoded message) -> Tensor. `where` prefixes error messages (e.g. the node). */
export function convertTensor(t: Msg, ctx: Ctx = makeCtx(undefined), where?: string): Tensor {
  const name = `${where ? `${where}: ` : ''}${t.name ? `tensor '${t.name}'` : 'a tensor'}`;
  const dtype = dtypeFromOnnx(t.dataType ?? 0);
  if (!dtype) throw new ParseError(`${name} has unknown data_type ${t.dataType}`, ctx.file);
  const { dims, n } = checkDims(t.dims, name, ctx);
  if (t.segment) throw new ParseError(`${name} is a segment of a larger tensor (TensorProto.segment), which vkrt does not support; re-export the model without segments`, ctx.file);
  let raw: Uint8Array | undefined = t.rawData && t.rawData.length ? t.rawData : undefined;
  if (t.dataLocation === DATA_LOCATION_EXTERNAL) {
    if (dtype === 'string') throw new ParseError(`${name}: string tensors cannot be stored externally`, ctx.file);
    raw = readExternal(t, ctx, name, rawByteLength(dtype, n));
  }
  if (raw) return fromRaw(dtype, dims, n, raw, name, ctx);
  return fromTyped(dtype, dims, n, t, name, ctx);
}

/** A decimal integer string from external_data (no signs, hex or exponents). */
function extInt(v: string | undefined, key: string, name: string, ctx: Ctx): number | undefined {
  if (v === undefined) return undefined;
  const x = /^\d{1,16}$/.test(v.trim()) ? Number(v.trim()) : NaN;
  if (!Number.isSafeInteger(x)) throw new ParseError(`${name}: external data ${key} '${v}' is not a byte count`, ctx.file);
  return x;
}

/**
 * Bytes of an externally stored tensor. The location is relative to the model's folder and must
 * stay inside it, symlinks included (ONNX external data rule; onnxruntime enforces the same).
 */
function readExternal(t: Msg, ctx: Ctx, name: string, expected: number): Uint8Array {
  const kv = new Map<string, string>();
  for (const e of t.externalData ?? []) kv.set(e.key ?? '', e.value ?? '');
  const loc = kv.get('location');
  if (!loc) throw new ParseError(`${name} is stored externally but names no location`, ctx.file);
  if (!ctx.baseDir) throw new ParseError(`${name} is stored in external file '${loc}', but the model was given as bytes; load it from its path (loadModel) or pass options.path`, ctx.file);
  const refuse = (why: string) => new ParseError(`${name} refers to external data '${loc}' ${why}; refusing to read it`, ctx.file);
  if (loc.includes('\0')) throw refuse('with a NUL character in the path');
  if (path.isAbsolute(loc) || path.win32.isAbsolute(loc) || /^[\\/]/.test(loc)) throw refuse('by an absolute path (it must be relative to the model file)');
  const full = path.resolve(ctx.baseDir, loc);
  const inside = (base: string, p: string) => {
    const rel = path.relative(base, p);
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  };
  if (!inside(ctx.baseDir, full)) throw refuse("outside the model's folder");
  const offset = extInt(kv.get('offset'), 'offset', name, ctx) ?? 0;
  const length = extInt(kv.get('length'), 'length', name, ctx);
  if (length !== undefined && length !== expected) {
    throw new ParseError(`${name}: external data length ${length} does not match the ${expected} bytes its type and dims need`, ctx.file);
  }
  let entry = ctx.externalCache.get(full);
  if (!entry) {
    const cannot = (e: unknown) => new ParseError(`${name}: cannot read external data file '${loc}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, ctx.file, { cause: e });
    let real: string;
    try {
      ctx.realBaseDir ??= fs.realpathSync(ctx.baseDir);
      real = fs.realpathSync(full);
    } catch (e) {
      throw cannot(e);
    }
    if (!inside(ctx.realBaseDir, real)) throw refuse("that resolves (through a symlink) outside the model's folder");
    let fd: number | undefined;
    try {
      // Check before opening: opening a FIFO blocks until a writer appears. O_NONBLOCK covers the
      // race where the file is swapped between stat and open (regular files ignore the flag).
      if (!fs.statSync(real).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
      fd = fs.openSync(real, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
      const st = fs.fstatSync(fd);
      // A FIFO or device would block or never end: only regular files.
      if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
      if (st.size <= ctx.limits.wholeFileBytes) {
        const buf = Buffer.allocUnsafeSlow(st.size);
        let got = 0;
        while (got < st.size) {
          const r = fs.readSync(fd, buf, got, st.size - got, got);
          if (r === 0) break;
          got += r;
        }
        fs.closeSync(fd);
        fd = undefined;
        entry = buf.subarray(0, got);
      } else {
        entry = { fd, size: st.size };
        fd = undefined;
      }
    } catch (e) {
      if (fd !== undefined) fs.closeSync(fd);
      throw cannot(e);
    }
    ctx.externalCache.set(full, entry);
  }
  const size = entry instanceof Uint8Array ? entry.length : entry.size;
  if (offset + expected > size) {
    throw new ParseError(`${name}: external data range offset=${offset} length=${expected} lies past the end of '${loc}' (${size} bytes)`, ctx.file);
  }
  if (entry instanceof Uint8Array) return entry.subarray(offset, offset + expected);
  const buf = Buffer.allocUnsafeSlow(expected);
  const r = fs.readSync(entry.fd, buf, 0, expected, offset);
  if (r !== expected) throw new ParseError(`${name}: short read from external data file '${loc}'`, ctx.file);
  return buf;
}

type Ctor<T> = { new (b: ArrayBufferLike, o: number, l: number): T; new (n: number): T; BYTES_PER_ELEMENT: number };

/**
 * A typed array over `raw`: a view when the bytes are aligned for T (zero copy), else one copy.
 * Little-endian hosts only read ONNX's little-endian raw_data directly; big-endian hosts swap.
 */
function viewOf<T extends ArrayLike<unknown>>(C: Ctor<T>, raw: Uint8Array, count: number): T {
  const bpe = C.BYTES_PER_ELEMENT;
  let out: T;
  if (raw.byteOffset % bpe === 0) out = new C(raw.buffer, raw.byteOffset, count);
  else {
    out = new C(count);
    new Uint8Array((out as unknown as Uint8Array).buffer).set(raw.subarray(0, count * bpe));
  }
  if (!LITTLE_ENDIAN && bpe > 1) {
    const bytes = new Uint8Array(count * bpe);
    for (let i = 0; i < count * bpe; i += bpe) for (let k = 0; k < bpe; k++) bytes[i + k] = raw[i + bpe - 1 - k];
    out = new C(bytes.buffer, 0, count);
  }
  return out;
}

function fromRaw(dtype: DType, dims: number[], n: number, raw: Uint8Array, name: string, ctx: Ctx): Tensor {
  const need = rawByteLength(dtype, n);
  if (dtype === 'string') throw new ParseError(`${name}: string tensors cannot use raw_data`, ctx.file);
  if (raw.length !== need) throw new ParseError(`${name}: raw_data has ${raw.length} bytes, but ${dtype}[${dims.join(',')}] needs ${need}`, ctx.file);
  let data: TensorData;
  switch (dtype) {
    case 'float32': data = viewOf(Float32Array, raw, n); break;
    case 'float64': data = viewOf(Float64Array, raw, n); break;
    case 'complex64': data = viewOf(Float32Array, raw, 2 * n); break;
    case 'complex128': data = viewOf(Float64Array, raw, 2 * n); break;
    case 'int8': data = viewOf(Int8Array, raw, n); break;
    case 'uint8': data = viewOf(Uint8Array, raw, n); break;
    case 'bool': data = Uint8Array.from(raw, (b) => (b ? 1 : 0)); break;
    case 'int16': data = viewOf(Int16Array, raw, n); break;
    case 'uint16': data = viewOf(Uint16Array, raw, n); break;
    case 'int32': data = viewOf(Int32Array, raw, n); break;
    case 'uint32': data = viewOf(Uint32Array, raw, n); break;
    case 'int64': data = viewOf(BigInt64Array, raw, n); break;
    case 'uint64': data = viewOf(BigUint64Array, raw, n); break;
    case 'float16': data = Float32Array.from(viewOf(Uint16Array, raw, n), float16BitsToNumber); break;
    case 'bfloat16': data = Float32Array.from(viewOf(Uint16Array, raw, n), bfloat16BitsToNumber); break;
    case 'float8e4m3fn': case 'float8e4m3fnuz': case 'float8e5m2': case 'float8e5m2fnuz': case 'float8e8m0':
      data = Float32Array.from(raw, (c) => miniFloatToNumber(dtype as MiniFloat, c));
      break;
    case 'float4e2m1': case 'int4': case 'uint4': case 'int2': case 'uint2': {
      const bits = dtype.endsWith('2') ? 2 : 4;
      const per = 8 / bits;
      data = unpackSubByte(dtype, n, (i) => (raw[Math.floor(i / per)] >> ((i % per) * bits)) & ((1 << bits) - 1));
      break;
    }
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

/** Values from the typed fields (float_data, int32_data, ...), per the TensorProto field comments. */
function fromTyped(dtype: DType, dims: number[], n: number, t: Msg, name: string, ctx: Ctx): Tensor {
  const take = <A extends ArrayLike<unknown>>(src: A | undefined, field: string, count = n): A => {
    const len = src?.length ?? 0;
    if (len !== count) {
      throw new ParseError(`${name}: ${field} has ${len} values, but ${dtype}[${dims.join(',')}] needs ${count}${len === 0 ? ' (no raw_data either)' : ''}`, ctx.file);
    }
    return (src ?? []) as A;
  };
  if (n === 0) return Tensor.zeros(dtype, dims);
  switch (dtype) {
    case 'float32': return new Tensor(dtype, dims, Float32Array.from(take<number[]>(t.floatData, 'float_data')));
    case 'complex64': return new Tensor(dtype, dims, Float32Array.from(take<number[]>(t.floatData, 'float_data', 2 * n)));
    case 'float64': return new Tensor(dtype, dims, Float64Array.from(take<number[]>(t.doubleData, 'double_data')));
    case 'complex128': return new Tensor(dtype, dims, Float64Array.from(take<number[]>(t.doubleData, 'double_data', 2 * n)));
    case 'string': return new Tensor(dtype, dims, take<Uint8Array[]>(t.stringData, 'string_data').map((b) => (b instanceof Uint8Array ? utf8.decode(b) : '')));
    case 'int64': {
      const src = take<Msg[]>(t.int64Data, 'int64_data');
      const d = new BigInt64Array(n);
      for (let i = 0; i < n; i++) d[i] = BigInt.asIntN(64, longToBigInt(src[i]));
      return new Tensor(dtype, dims, d);
    }
    case 'uint64': {
      const src = take<Msg[]>(t.uint64Data, 'uint64_data');
      const d = new BigUint64Array(n);
      for (let i = 0; i < n; i++) d[i] = longToBigInt(src[i], true);
      return new Tensor(dtype, dims, d);
    }
    case 'uint32': {
      // The spec puts uint32 in uint64_data; some writers use int32_data (bits as int32).
      const fromU64 = (t.uint64Data?.length ?? 0) > 0;
      const src = take<Msg[]>(fromU64 ? t.uint64Data : t.int32Data, fromU64 ? 'uint64_data' : 'int32_data');
      return new Tensor(dtype, dims, Uint32Array.from(src, (v) => Number(BigInt.asUintN(32, longToBigInt(v)))));
    }
    case 'float16': case 'bfloat16': {
      const conv = dtype === 'float16' ? float16BitsToNumber : bfloat16BitsToNumber;
      return new Tensor(dtype, dims, Float32Array.from(take<number[]>(t.int32Data, 'int32_data'), (v) => conv(v & 0xffff)));
    }
    case 'float8e4m3fn': case 'float8e4m3fnuz': case 'float8e5m2': case 'float8e5m2fnuz': case 'float8e8m0':
      return new Tensor(dtype, dims, Float32Array.from(take<number[]>(t.int32Data, 'int32_data'), (v) => miniFloatToNumber(dtype as MiniFloat, v & 0xff)));
    case 'float4e2m1': case 'int4': case 'uint4': case 'int2': case 'uint2': {
      // Packed like raw_data, one byte per int32_data entry.
      const bits = dtype.endsWith('2') ? 2 : 4;
      const per = 8 / bits;
      const src = take<number[]>(t.int32Data, 'int32_data', Math.ceil(n / per));
      return new Tensor(dtype, dims, unpackSubByte(dtype, n, (i) => (src[Math.floor(i / per)] >> ((i % per) * bits)) & ((1 << bits) - 1)));
    }
    case 'int8': case 'int16': case 'int32': case 'uint8': case 'uint16': case 'bool': {
      const src = take<number[]>(t.int32Data, 'int32_data');
      const d = allocData(dtype, n) as Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array;
      if (dtype === 'bool') for (let i = 0; i < n; i++) d[i] = src[i] ? 1 : 0;
      else d.set(src); // typed-array assignment wraps like a C cast
      return new Tensor(dtype, dims, d);
    }
    default: throw new ParseError(`${name}: unsupported data type ${dtype}`, ctx.file);
  }
}

/** Parse a serialized TensorProto (e.g. a test's input_0.pb); external data is read relative to `file`. */
export function parseTensor(bytes: Uint8Array, file?: string, limits?: Partial<ParseLimits>): Tensor {
  const ctx = makeCtx(file, limits);
  const m: Msg = decode(TensorProto, bytes, ctx, 'TensorProto');
  try {
    return convertTensor(m, ctx);
  } finally {
    closeCtx(ctx);
  }
}

function convertSequence(m: Msg, ctx: Ctx): Tensor[] {
  if ((m.sequenceValues?.length ?? 0) > 0 || (m.mapValues?.length ?? 0) > 0 || (m.optionalValues?.length ?? 0) > 0) {
    throw new ParseError('sequences of sequences, maps or optionals are not supported', ctx.file);
  }
  return [
    ...(m.tensorValues ?? []).map((t: Msg) => convertTensor(t, ctx)),
    ...(m.sparseTensorValues ?? []).map((s: Msg) => convertSparse(s, ctx)),
  ];
}

/**
 * Parse a serialized test value whose kind the model's type says: TensorProto, SequenceProto
 * (-> Tensor[]) or OptionalProto (-> value or null).
 */
export function parseValue(bytes: Uint8Array, type: ValueType | undefined, file?: string): RuntimeValue {
  const ctx = makeCtx(file);
  try {
    if (type?.kind === 'sequence') return convertSequence(decode(SequenceProto, bytes, ctx, 'SequenceProto'), ctx);
    if (type?.kind === 'optional') {
      const o: Msg = decode(OptionalProto, bytes, ctx, 'OptionalProto');
      if (o.tensorValue) return convertTensor(o.tensorValue, ctx);
      if (o.sequenceValue) return convertSequence(o.sequenceValue, ctx);
      if (o.sparseTensorValue) return convertSparse(o.sparseTensorValue, ctx);
      return null;
    }
  } finally {
    closeCtx(ctx);
  }
  return parseTensor(bytes, file);
}
