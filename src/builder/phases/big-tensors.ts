/**
 * Big tensors (docs/big-tensors.md): a storage buffer binding spans at most maxStorageBufferRange
 * bytes (128 MiB on lavapipe, 4 GiB on most GPUs), so a layer that would bind a larger tensor is
 * rewritten, before kernel selection, into several nodes that each bind pieces the device can bind:
 *
 * - an elementwise node (OpTraits.elementwise: unary, binary, variadic, fused pointwise, Cast,
 *   Where, Clip, Pow) runs once per piece of its output, cut along the first axis whose trailing
 *   block fits (splitElementwise explains how broadcast inputs are cut);
 * - a Gemm or MatMul whose activations are too large runs once per range of rows; one whose
 *   constant weight is too large (each row piece) once per range of output features, the
 *   weight (and a per-feature bias) split at build time, the pieces joined by a Concat (written in
 *   place where the rows are one, else a copy of the small result);
 * - a batch-independent node (OpTraits.batchIndependent: Conv, pooling, Softmax and
 *   LayerNormalization off axis 0, normalizations, LRN) runs once per range of axis 0;
 * - a Gather from a constant table too large to bind runs once per range of the table's columns.
 *
 * A piece of an activation is a slice of the whole tensor: a tensor of its own that lives inside the
 * whole at a byte offset (the sub-view mechanism of Concat/Split, passes/subviews.ts), so no bytes
 * are copied: a piece produced by one split node is the very piece the next split node reads.
 * `placePieces` (after kernel selection, when the storage types are known) makes the slices; the
 * offsets are multiples of the storage-buffer offset alignment by construction. `checkBindings`
 * (after the weight layout) refuses, with every offending layer named, a plan that still binds a
 * range larger than the device's limit (an operator no split applies to).
 */
import { UnsupportedError } from '../../errors';
import type { DType } from '../../ir/dtype';
import { cloneModel, Node, type Attr } from '../../ir/graph';
import { sizeOf, Tensor, type TensorData } from '../../ir/tensor';
import type { TensorDesc } from '../../kernel/contract';
import { gpuBytes, gpuTypeBytes, gpuTypeOf, isPacked, type GpuType } from '../../kernel/storage';
import { convert, ensureTensor } from './kernels';
import { Attrs } from '../../ir/attrs';
import type { OpTraits } from '../../ops/types';
import { BuildState, Piece, rootOf } from '../state';


const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
const lcm = (a: number, b: number): number => (a / gcd(a, b)) * b;

/** The device's binding limit the plan is made for (BuilderConfig.limits may lower it); undefined: none. */
function bindingLimit(state: BuildState): number | undefined {
  return state.caps.maxStorageBufferRange;
}

/** The static dims of a value, or undefined. */
function dimsOf(state: BuildState, name: string): number[] | undefined {
  const t = state.types.get(name);
  return t && t.shape && t.shape.every((d) => typeof d === 'number') ? (t.shape as number[]) : undefined;
}

/** Bytes a value takes in its natural GPU type (the largest storage the builder may give it). */
function bytesOf(state: BuildState, name: string): number {
  const t = state.types.get(name), dims = dimsOf(state, name);
  const gpu = t && gpuTypeOf(t.dtype);
  return dims && gpu ? gpuBytes(gpu, sizeOf(dims)) : 0;
}

function elemBytes(state: BuildState, name: string): number {
  const gpu = gpuTypeOf(state.types.get(name)!.dtype);
  return gpu ? gpuTypeBytes(gpu) : 4;
}

/**
 * The fewest bytes an element of the value may take once the builder has chosen its storage (f16
 * in FP16 engines, one byte for int8/uint8 byte storage): piece offsets are planned in those units
 * so that they stay aligned whatever storage the layers choose.
 */
function minElemBytes(state: BuildState, name: string): number {
  const dtype = state.types.get(name)!.dtype;
  if (dtype === 'int8' || dtype === 'uint8' || dtype === 'bool') return 1;
  if (gpuTypeOf(dtype) === 'f32' && (state.config.fp16 || state.config.int8)) return 2;
  return elemBytes(state, name);
}

/** The fewest rows (of `rowElems` elements of `name`) whose bytes are a multiple of the alignment. */
function rowStep(state: BuildState, name: string, rowElems: number): number {
  const align = state.caps.alignment, bytes = rowElems * minElemBytes(state, name);
  return align / gcd(bytes % align || align, align);
}

/** Phase: nodes binding a tensor larger than the device binds become several nodes over pieces. */
export function splitBigTensors(state: BuildState): void {
  const limit = bindingLimit(state);
  if (!limit) return;
  const g = state.model.graph;
  const out: Node[] = [];
  let changed = false;
  for (const node of g.nodes) {
    if (state.folded.has(node) || !bindsTooMuch(state, node, limit)) { out.push(node); continue; }
    const traits = state.registry.traits(node);
    const label = `${node.name || node.outputs[0]} (${node.opType})`;
    let made: Node[] | string;
    if (traits.elementwise) made = splitElementwise(state, node, limit);
    else if (!node.domain && (node.opType === 'Gemm' || node.opType === 'MatMul')) {
      // activations too large: by rows; a weight too large: (each row piece) by output features
      const A = node.inputs[0], y = node.outputs[0];
      made = bytesOf(state, A) > limit || bytesOf(state, y) > limit ? splitMatMulRows(state, node, limit) : [node];
      if (typeof made !== 'string') made = made.flatMap((n) => (n.opType === node.opType && bindsTooMuch(state, n, limit) ? orWhole(splitFeatures(state, n, limit), n) : [n]));
      if (typeof made !== 'string' && made.length === 1 && made[0] === node) made = 'neither its rows nor its output features can be split';
    } else if (!node.domain && node.opType === 'Gather') made = splitGatherColumns(state, node, limit);
    else if (traits.batchIndependent) made = splitBatch(state, node, limit, traits.batchIndependent);
    else made = 'no split applies to this operator';
    if (typeof made === 'string') {
      if (state.registry.get(node.domain, node.opType)?.view) { out.push(node); continue; } // a view binds nothing (its consumers decide)
      state.log(`big tensors: ${label} binds a tensor above ${limit} bytes and stays whole: ${made}`);
      out.push(node);
      continue;
    }
    state.log(`big tensors: ${label} runs as ${made.filter((n) => n.opType === node.opType).length} pieces (the device binds at most ${limit} bytes)`);
    out.push(...made);
    changed = true;
  }
  if (!changed) return;
  // the model may be the caller's (no optimizer copy when fusion is off): rewrite a copy
  state.model = cloneModel(state.model);
  state.model.graph.nodes = out;
}

function bindsTooMuch(state: BuildState, node: Node, limit: number): boolean {
  return [...node.inputs, ...node.outputs].some((n) => n && bytesOf(state, n) > limit);
}

/** The nodes of a split, or the node itself when it did not apply (the binding check then names it). */
function orWhole(made: Node[] | string, node: Node): Node[] {
  return typeof made === 'string' ? [node] : made;
}

/**
 * The piece of `name` that starts `at` elements in and holds `n` elements shaped `pd`: a new value
 * (a constant slice when `name` is constant, else a slice of the whole in the arena), made once.
 */
function sliceOf(state: BuildState, name: string, at: number, n: number, pd: number[]): string {
  const child = `${name}@${at}+${n}[${pd.join('x')}]`;
  if (!state.types.has(child)) {
    const cst = state.constants.get(name);
    addValue(state, child, state.types.get(name)!.dtype, pd, cst && constSlice(cst, at, n, pd));
  }
  if (!state.constants.has(name)) addPiece(state, { child, whole: name, elemOffset: at });
  return child;
}

/** A new value of the build: its type, and its value when known. */
function addValue(state: BuildState, name: string, dtype: DType, dims: number[], constant?: Tensor): void {
  state.types.set(name, { kind: 'tensor', dtype, shape: dims });
  if (constant) state.constants.set(name, constant);
}

function addPiece(state: BuildState, p: Piece): void {
  if (!state.pieces.some((q) => q.child === p.child)) state.pieces.push(p);
}

/** Elements [from, from + n) of a constant, as a tensor of `dims`. */
function constSlice(t: Tensor, from: number, n: number, dims: number[]): Tensor {
  const data = t.data as unknown as { slice(a: number, b: number): TensorData };
  return new Tensor(t.dtype, dims, data.slice(from, from + n));
}

/** How a row split binds one input: `flat` leading axes flattened into the rows (a piece per range), or whole. */
type RowSpec = { flat: number } | { whole: true; dims: readonly number[] };


/**
 * An elementwise node as one node per piece of its output: the output cut along axis `k` into
 * ranges, for every index of the axes before it. A piece is contiguous in the output and in every
 * input (an input takes the piece's indices where it has the output's size and index 0 where it
 * broadcasts), so each input's piece is a slice too, and broadcasting between the pieces is what
 * it was between the tensors. `k` is the first axis whose trailing block fits the limit in every
 * tensor; leading indices and ranges start at multiples of the alignment (in elements).
 */
function splitElementwise(state: BuildState, node: Node, limit: number): Node[] | string {
  const outs = node.outputs.filter((o) => o);
  if (outs.length !== 1 || node.outputs[0] !== outs[0]) return 'it has several outputs';
  if (node.attrs.has('broadcast') || node.attrs.has('axis')) return 'it uses the pre-opset-7 broadcast attributes';
  const y = outs[0];
  const D = dimsOf(state, y);
  if (!D) return 'its output shape is not static';
  const R = D.length;
  const names = [...node.inputs.filter((i) => i), y];
  for (const n of names) {
    const gpu = gpuTypeOf(state.types.get(n)!.dtype);
    if (!dimsOf(state, n)) return `the shape of '${n}' is not static`;
    if (!gpu || isPacked(gpu) || gpu === 'sid') return `'${n}' is not stored one element per unit on the GPU`;
  }
  // each tensor's dims aligned to the output's rank (leading 1s), and its strides
  const aligned = (n: string): number[] => { const d = dimsOf(state, n)!; return [...new Array<number>(R - d.length).fill(1), ...d]; };
  const stridesOf = (d: readonly number[]): number[] => d.map((_, j) => sizeOf(d.slice(j + 1)));
  let k = 0;
  for (; k < R; k++) if (names.every((n) => sizeOf(aligned(n).slice(k + 1)) * elemBytes(state, n) <= limit)) break;
  if (k === R) return 'no axis has a trailing block the device binds';
  // rows of axis k per piece: every tensor full on axis k at most `limit` bytes, ranges starting aligned
  let step = 1, maxRow = 1;
  for (const n of names) {
    const d = aligned(n), st = stridesOf(d);
    if (state.constants.has(n)) {
      // a constant's pieces are weights of their own (cut at build time): no offset to align
      if (d[k] === D[k] && D[k] > 1) maxRow = Math.max(maxRow, st[k] * elemBytes(state, n));
      continue;
    }
    for (let j = 0; j < k; j++) if (d[j] !== 1 && (st[j] * minElemBytes(state, n)) % state.caps.alignment !== 0) return `the pieces of '${n}' would not start at multiples of the ${state.caps.alignment}-byte alignment`;
    if (d[k] === D[k] && D[k] > 1) {
      step = lcm(step, rowStep(state, n, st[k]));
      maxRow = Math.max(maxRow, st[k] * elemBytes(state, n));
    }
  }
  let rows = Math.min(D[k], Math.floor(limit / maxRow / step) * step);
  if (rows < 1) return `${step} row(s) of ${maxRow} bytes (the fewest whose pieces start aligned) are more than the device binds`;
  const ranges = Math.ceil(D[k] / rows);
  rows = Math.min(rows, Math.ceil(Math.ceil(D[k] / ranges) / step) * step);
  const lead = sizeOf(D.slice(0, k));
  if (lead * ranges < 2) return 'it fits in one piece';
  if (lead * ranges > 4096) return `it would take ${lead * ranges} pieces`;
  const made: Node[] = [];
  const base = node.name || y;
  let c = 0;
  for (let li = 0; li < lead; li++) {
    // the indices of the axes before k
    const idx: number[] = [];
    for (let j = k - 1, rest = li; j >= 0; j--) { idx[j] = rest % D[j]; rest = Math.floor(rest / D[j]); }
    for (let r0 = 0; r0 < D[k]; r0 += rows) {
      const r1 = Math.min(D[k], r0 + rows);
      const piece = (name: string): string => {
        const d = aligned(name), st = stridesOf(d);
        let at = 0;
        for (let j = 0; j < k; j++) if (d[j] !== 1) at += idx[j] * st[j];
        const full = d[k] === D[k] && D[k] > 1;
        if (full) at += r0 * st[k];
        const pd = [full ? r1 - r0 : d[k], ...d.slice(k + 1)];
        const n = sizeOf(pd), own = dimsOf(state, name)!;
        if (at === 0 && n === sizeOf(own)) return reshaped(state, name, pd, made);
        return sliceOf(state, name, at, n, pd);
      };
      const inputs = node.inputs.map((i) => (i ? piece(i) : i));
      made.push(new Node({ name: `${base}#${c++}`, opType: node.opType, domain: node.domain, inputs, outputs: [piece(y)], attrs: new Map(node.attrs) }));
    }
  }
  return made;
}

/** `name` with dims `dims` (same elements): itself, a reshaped constant, or a Reshape view added to `made`. */
function reshaped(state: BuildState, name: string, dims: readonly number[], made: Node[]): string {
  const own = dimsOf(state, name)!;
  if (own.length === dims.length && own.every((v, j) => v === dims[j])) return name;
  const nd = [...dims];
  const out = `${name}#[${nd.join('x')}]`;
  if (state.types.has(out)) return out;
  const dtype = state.types.get(name)!.dtype;
  const c = state.constants.get(name);
  if (c) { addValue(state, out, dtype, nd, c.reshape(nd)); return out; }
  const shape = `${out}:shape`;
  addValue(state, shape, 'int64', [nd.length], new Tensor('int64', [nd.length], BigInt64Array.from(nd.map(BigInt))));
  addValue(state, out, dtype, nd);
  made.push(new Node({ name: `${out}:reshape`, opType: 'Reshape', inputs: [name, shape], outputs: [out] }));
  return out;
}

/** A Gemm (transA = 0) or a MatMul with a matrix B whose A or output is too large: one node per range of A's rows. */
function splitMatMulRows(state: BuildState, node: Node, limit: number): Node[] | string {
  const [A, B, C] = node.inputs;
  const ad = dimsOf(state, A), bd = B ? dimsOf(state, B) : undefined, yd = dimsOf(state, node.outputs[0]);
  if (!ad || !bd || !yd) return 'its shapes are not static';
  if (ad.length < 2 || bd.length !== 2) return 'A is a vector or B is not a matrix';
  if (node.opType === 'Gemm' && Number(node.attrs.get('transA')?.value ?? 0) !== 0) return 'A is transposed';
  const specs: (RowSpec | undefined)[] = [{ flat: ad.length - 1 }, { whole: true, dims: bd }];
  if (C) {
    const cd = dimsOf(state, C);
    if (!cd) return 'its bias shape is not static';
    specs.push(cd.length === 2 && cd[0] === yd[0] && yd[0] > 1 ? { flat: 1 } : { whole: true, dims: cd });
  }
  return splitByRows(state, node, limit, specs, yd.length - 1);
}

/**
 * Gather along axis 0 from a constant table too large to bind (an embedding): one Gather per range
 * of the table's columns (its last axis), the table cut at build time, the results joined by a
 * Concat along the last axis. Every index still reads one row of each piece, so no index changes.
 */
function splitGatherColumns(state: BuildState, node: Node, limit: number): Node[] | string {
  const [data, indices] = node.inputs;
  const y = node.outputs[0];
  const table = state.constants.get(data);
  if (!table) return 'its table is not a constant';
  if (table.rank < 2) return 'its table has one axis';
  const axis = Number(node.attrs.get('axis')?.value ?? 0);
  if (axis !== 0 && axis !== -table.rank) return 'it gathers along another axis than the first';
  const Y = dimsOf(state, y), I = dimsOf(state, indices);
  if (!Y || !I) return 'its shapes are not static';
  if (bytesOf(state, indices) > limit) return 'its indices are themselves larger than the device binds';
  const D = table.dims[table.rank - 1], rows = sizeOf(table.dims.slice(0, -1)), eb = elemBytes(state, data);
  if (rows * eb > limit) return `one column of the table (${rows * eb} bytes) is larger than the device binds`;
  let per = Math.max(1, Math.floor(limit / (rows * eb)));
  const pieces = Math.ceil(D / per);
  per = Math.ceil(D / pieces);
  if (pieces < 2) return 'its table fits';
  const src = table.data as unknown as ArrayLike<number | bigint> & { constructor: new (k: number) => TensorData };
  const made: Node[] = [];
  const parts: string[] = [];
  const base = node.name || y;
  for (let c = 0; c < pieces; c++) {
    const d0 = c * per, n = Math.min(D, d0 + per) - d0;
    const tName = `${data}@c${d0}+${n}`;
    if (!state.types.has(tName)) {
      const dst = new (src.constructor)(rows * n) as unknown as { [k: number]: number | bigint };
      for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) dst[r * n + j] = src[r * D + d0 + j];
      const dims = [...table.dims.slice(0, -1), n];
      addValue(state, tName, table.dtype, dims, new Tensor(table.dtype, dims, dst as unknown as TensorData));
    }
    const part = `${y}@c${d0}+${n}`;
    addValue(state, part, state.types.get(y)!.dtype, [...Y.slice(0, -1), n]);
    parts.push(part);
    made.push(new Node({ name: `${base}#${c}`, opType: 'Gather', inputs: [tName, indices], outputs: [part], attrs: new Map(node.attrs) }));
  }
  const cat: Attr = { type: 'int', value: Y.length - 1 };
  made.push(new Node({ name: `${base}#concat`, opType: 'Concat', inputs: parts, outputs: [y], attrs: new Map([['axis', cat]]) }));
  return made;
}

/** A node independent along axis 0 (OpTraits.batchIndependent): one node per range of items. */
function splitBatch(state: BuildState, node: Node, limit: number, when: NonNullable<OpTraits['batchIndependent']>): Node[] | string {
  const outs = node.outputs.filter((o) => o);
  if (outs.length !== 1 || node.outputs[0] !== outs[0]) return 'it has several outputs';
  const x = dimsOf(state, node.inputs[0]), yd = dimsOf(state, outs[0]);
  if (!x || !yd) return 'its shapes are not static';
  if (!x.length || x[0] !== yd[0]) return 'its output does not keep the first axis of its input';
  const opset = state.model.opsets.get(node.domain) ?? 0;
  if (typeof when === 'function' && !when(new Attrs(node), opset, x.length)) return 'these attributes mix the items along the first axis';
  const same = (d: readonly number[] | undefined): boolean => !!d && d.length === yd.length && d.every((v, j) => v === yd[j]);
  const specs = node.inputs.map((i, k): RowSpec | undefined => {
    if (!i) return undefined;
    const d = dimsOf(state, i);
    if (!d) return undefined;
    return k === 0 || (same(d) && !state.constants.has(i)) ? { flat: 1 } : { whole: true, dims: d };
  });
  if (node.inputs.some((i, k) => i && !specs[k])) return 'an input shape is not static';
  return splitByRows(state, node, limit, specs, 1);
}

/**
 * One node per range of rows: the output's first `outFlat` axes (and each `flat` input's first
 * `flat` axes, the same rows) flattened and cut into ranges whose pieces the device binds, each
 * piece's offset a multiple of the alignment in elements (so in bytes for any storage type).
 */
function splitByRows(state: BuildState, node: Node, limit: number, specs: (RowSpec | undefined)[], outFlat: number): Node[] | string {
  const y = node.outputs[0];
  const D = dimsOf(state, y)!;
  for (const n of [...node.inputs, y]) {
    if (!n) continue;
    const gpu = gpuTypeOf(state.types.get(n)!.dtype);
    if (!gpu || isPacked(gpu) || gpu === 'sid') return `'${n}' is not stored one element per unit on the GPU`;
  }
  const P = sizeOf(D.slice(0, outFlat));
  if (P < 2) return 'its output has a single row';
  const full: { name: string; rowElems: number; bytes: number }[] = [{ name: y, rowElems: sizeOf(D.slice(outFlat)), bytes: elemBytes(state, y) }];
  for (const [k, sp] of specs.entries()) {
    const i = node.inputs[k];
    if (!sp || !i) continue;
    const d = dimsOf(state, i)!;
    if ('flat' in sp) {
      if (sizeOf(d.slice(0, sp.flat)) !== P) return `input '${i}' does not have the output's rows`;
      full.push({ name: i, rowElems: sizeOf(d.slice(sp.flat)), bytes: elemBytes(state, i) });
    } else if (bytesOf(state, i) > limit && !(k === 1 && state.constants.has(i) && (node.opType === 'Gemm' || node.opType === 'MatMul'))) {
      return `input '${i}', bound whole in every piece, is itself larger than the device binds`;
    }
  }
  let step = 1;
  for (const f of full) if (!state.constants.has(f.name)) step = lcm(step, rowStep(state, f.name, f.rowElems));
  const maxRow = Math.max(...full.map((f) => f.rowElems * f.bytes));
  let rows = Math.floor(limit / maxRow / step) * step;
  if (rows < step) return `${step} row(s) of ${maxRow} bytes (the fewest whose pieces start aligned) are more than the device binds`;
  const pieces = Math.ceil(P / rows);
  rows = Math.min(rows, Math.ceil(Math.ceil(P / pieces) / step) * step);
  const made: Node[] = [];
  const wholeName = (i: string, dims: readonly number[]): string => reshaped(state, i, dims, made);
  const base = node.name || y;
  for (let r0 = 0, c = 0; r0 < P; r0 += rows, c++) {
    const r1 = Math.min(P, r0 + rows);
    const piece = (name: string, flat: number): string => {
      const d = dimsOf(state, name)!;
      const rowElems = sizeOf(d.slice(flat)), n = (r1 - r0) * rowElems, at = r0 * rowElems;
      const pd = [r1 - r0, ...d.slice(flat)];
      return sliceOf(state, name, at, n, pd);
    };
    const inputs = node.inputs.map((i, k) => {
      const sp = specs[k];
      if (!i || !sp) return i;
      return 'flat' in sp ? piece(i, sp.flat) : wholeName(i, sp.dims);
    });
    made.push(new Node({ name: `${base}#${c}`, opType: node.opType, domain: node.domain, inputs, outputs: [piece(y, outFlat)], attrs: new Map(node.attrs) }));
  }
  return made;
}

/** A Gemm or MatMul whose constant weight B is too large: one node per range of output features. */
function splitFeatures(state: BuildState, node: Node, limit: number): Node[] | string {
  const [A, B, C] = node.inputs;
  const y = node.outputs[0];
  const w = B ? state.constants.get(B) : undefined;
  if (!w) return 'its weight is not a constant';
  if (w.rank !== 2) return 'its weight is not a matrix';
  if (bytesOf(state, B) <= limit) return 'only its weight can be split, and the weight fits';
  const Y = dimsOf(state, y);
  if (!Y || !dimsOf(state, A)) return 'its shapes are not static';
  const gemm = node.opType === 'Gemm';
  const transB = gemm && Number(node.attrs.get('transB')?.value ?? 0) !== 0;
  const [K, N] = transB ? [w.dims[1], w.dims[0]] : [w.dims[0], w.dims[1]];
  let bias: Tensor | undefined;
  if (C) {
    bias = state.constants.get(C);
    const cd = dimsOf(state, C);
    if (!cd) return 'its bias shape is not static';
    if (cd.length && cd[cd.length - 1] === N && N > 1 && !bias) return 'its bias is per feature and not a constant';
  }
  const eb = elemBytes(state, B);
  // features per piece: a multiple of 64 (slice offsets stay aligned when the rows are one) where the weight allows
  let pieces = Math.ceil((N * K * eb) / limit);
  let per = Math.ceil(N / pieces);
  const round = (n: number): number => (n >= 64 ? Math.floor(n / 64) * 64 : n);
  per = round(per);
  while (per * K * eb > limit && per > 1) per = round(Math.floor(per / 2)) || 1;
  if (per * K * eb > limit) return `one output feature's weights (${K * eb} bytes) are larger than the device binds`;
  pieces = Math.ceil(N / per);
  const made: Node[] = [];
  const parts: string[] = [];
  const base = node.name || y;
  const wd = w.data as unknown as ArrayLike<number | bigint> & { slice(a: number, b: number): TensorData; constructor: new (n: number) => TensorData };
  for (let c = 0; c < pieces; c++) {
    const n0 = c * per, n1 = Math.min(N, n0 + per), n = n1 - n0;
    const bName = `${B}@f${n0}+${n}`;
    if (!state.types.has(bName)) {
      let data: TensorData;
      if (transB) data = wd.slice(n0 * K, n1 * K);
      else {
        const dst = new (wd.constructor)(K * n) as unknown as { [k: number]: number | bigint };
        for (let k = 0; k < K; k++) for (let j = 0; j < n; j++) dst[k * n + j] = wd[k * N + n0 + j];
        data = dst as unknown as TensorData;
      }
      const dims = transB ? [n, K] : [K, n];
      addValue(state, bName, w.dtype, dims, new Tensor(w.dtype, dims, data));
    }
    const inputs = [A, bName];
    if (C) {
      const cd = dimsOf(state, C)!;
      if (bias && cd.length && cd[cd.length - 1] === N && N > 1) {
        const cName = `${C}@f${n0}+${n}`;
        if (!state.types.has(cName)) {
          const rows = sizeOf(cd.slice(0, -1));
          const src = bias.data as unknown as ArrayLike<number | bigint> & { constructor: new (k: number) => TensorData };
          const dst = new (src.constructor)(rows * n) as unknown as { [k: number]: number | bigint };
          for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) dst[r * n + j] = src[r * N + n0 + j];
          const dims = [...cd.slice(0, -1), n];
          addValue(state, cName, bias.dtype, dims, new Tensor(bias.dtype, dims, dst as unknown as TensorData));
        }
        inputs.push(cName);
      } else inputs.push(C);
    }
    const part = `${y}@f${n0}+${n}`;
    addValue(state, part, state.types.get(y)!.dtype, [...Y.slice(0, -1), n]);
    parts.push(part);
    made.push(new Node({ name: `${base}#${c}`, opType: node.opType, domain: node.domain, inputs, outputs: [part], attrs: new Map(node.attrs) }));
  }
  const axis: Attr = { type: 'int', value: Y.length - 1 };
  made.push(new Node({ name: `${base}#concat`, opType: 'Concat', inputs: parts, outputs: [y], attrs: new Map([['axis', axis]]) }));
  return made;
}

/**
 * After kernel selection: each piece of an activation becomes a slice of its whole (the whole made
 * here when no layer binds it), at the byte offset of its first element in the storage the layers chose.
 */
export function placePieces(state: BuildState): void {
  for (const p of state.pieces) {
    const child = state.tensors.get(p.child);
    if (!child) continue; // nothing bound it
    const whole = rootOf(state, p.whole);
    let w = state.tensors.get(whole);
    if (!w) {
      const dims = dimsOf(state, p.whole)!;
      state.tensors.set(whole, (w = { name: whole, dtype: child.dtype, gpu: child.gpu, dims, bytes: gpuBytes(child.gpu, sizeOf(dims)), kind: 'activation', offset: -1 }));
      state.prec.produced(whole, child.gpu);
    }
    if (w.gpu !== child.gpu) {
      throw new UnsupportedError(`tensor '${whole}' is larger than the device binds (${w.bytes} bytes) and is split into pieces, but its pieces are stored as ${child.gpu} and the whole as ${w.gpu}; build it in one precision (BuilderConfig.fp32Layers) or with smaller inputs`);
    }
    const offset = p.elemOffset * gpuTypeBytes(child.gpu);
    if (offset % state.caps.alignment) throw new Error(`internal: piece '${p.child}' of '${whole}' at byte ${offset} is not aligned`);
    state.subviews.slice(p.child, whole, offset);
  }
}

/**
 * The storage conversion of a whole written in pieces (an FP16 engine's output back to f32): one
 * conversion layer per piece, each writing its slice of the converted whole. Undefined when
 * `whole` has no pieces.
 */
export function convertPieces(state: BuildState, whole: string, desc: TensorDesc, from: GpuType, to: GpuType): string | undefined {
  const pieces = state.pieces.filter((p) => rootOf(state, p.whole) === whole && state.tensors.has(p.child));
  if (!pieces.length) return undefined;
  const key = `${whole}::${to}`;
  if (state.tensors.has(key)) return key;
  ensureTensor(state, key, 'activation', { ...desc, gpu: to, constant: undefined });
  for (const p of pieces) {
    const child = state.tensors.get(p.child)!;
    const made = convert(state, p.child, { dtype: child.dtype, gpu: to, dims: child.dims }, from, to);
    state.subviews.slice(made, key, p.elemOffset * gpuTypeBytes(to));
  }
  return key;
}

/**
 * After the weight layout: every binding within the device's limit, else one UnsupportedError
 * naming each layer and tensor that is too large and what to do.
 */
export function checkBindings(state: BuildState): void {
  const limit = bindingLimit(state);
  if (!limit) return;
  const bad: string[] = [];
  for (const l of state.layers) {
    const seen = new Set<string>();
    for (const d of l.dispatches) {
      for (const b of d.bindings) {
        let what: string, bytes: number;
        if ('tensor' in b) { what = `tensor '${b.tensor}'`; bytes = state.tensors.get(b.tensor)?.bytes ?? 0; }
        else if ('kernelWeight' in b) { what = `kernel weight ${b.kernelWeight}`; bytes = l.kernelWeights[b.kernelWeight]?.bytes ?? 0; }
        else { what = `scratch ${b.scratch}`; bytes = l.scratch[b.scratch]?.bytes ?? 0; }
        if (bytes <= limit || seen.has(what)) continue;
        seen.add(what);
        bad.push(`layer '${l.name}' (${l.opTypes.join('+')}, kernel ${l.kernel}) binds ${what} of ${bytes} bytes`);
      }
    }
  }
  if (!bad.length) return;
  throw new UnsupportedError(`${bad.length} binding(s) exceed the device's maxStorageBufferRange of ${limit} bytes:\n  ${bad.join('\n  ')}\nvkrt runs elementwise, batch-independent (Conv, pooling, Softmax, normalizations), Gemm/MatMul and embedding-Gather layers in pieces (docs/big-tensors.md; the build log says why a layer stayed whole); for these layers reduce the batch size or the input shapes, or run on a device with a larger limit.`);
}
