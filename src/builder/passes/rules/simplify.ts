/**
 * Simplifications: constant folding (one generic rule over the ops' references), dead code,
 * Identity/Dropout, chains of shape ops, no-op Pad/Slice/Cast/Expand, MatMul+Add -> Gemm and
 * per-channel Mul/Add folded into the preceding Conv or Gemm (TensorRT's scale fusion).
 */
import { Graph, Node } from '../../../ir/graph';
import { Tensor } from '../../../ir/tensor';
import { OpContext } from '../../../ops/types';
import { FOLD_LIMIT } from '../../../ops/infer-shapes';
import { fusedNode, GraphView, Rewrite, Rule } from '../rule';
import { attrsOf, evalOp, f32, float, ints, isF32, perChannel, producerIf, valuesOf } from '../util';
import { Attrs } from '../../../ir/attrs';
import { EPILOGUE_ATTRS } from '../../../ops/nn/gpu/epilogue';


/** A value used by nobody (and not a graph output) can go. */
const unused = (g: GraphView, name: string) => !name || (!g.isGraphOutput(name) && g.consumers(name).length === 0);

/** Replace `node`'s only output by `input`, unless that would just re-create the node (graph output fed by a graph input). */
function bypass(g: GraphView, node: Node, input: string): Rewrite | undefined {
  const out = node.outputs[0];
  if (!input || !out) return undefined;
  if (g.isGraphOutput(out) && (!g.producer(input) || g.isGraphOutput(input))) return undefined;
  return { remove: [node], replace: [[out, input]], note: `${node.name || out} (${node.opType}) is a no-op` };
}

/** Generic constant folding: a node whose inputs are all known runs its reference at build time. */
export const foldConstants: Rule = {
  name: 'fold-constants',
  ops: ['*'],
  match(node, g) {
    if (node.domain !== '') return undefined;
    if ([...node.attrs.values()].some((a) => a.type === 'graph' || a.type === 'graphs')) return undefined;
    const def = g.registry.get('', node.opType);
    if (!def || def.traits?.nondeterministic || !node.outputs.some((o) => o)) return undefined;
    let args: (Tensor | undefined)[];
    if (node.inputs.every((i) => !i || g.constant(i))) args = node.inputs.map((i) => (i ? g.constant(i) : undefined));
    else if (def.traits?.shapeOnly) {
      const t = g.type(node.inputs[0]);
      const s = g.shape(node.inputs[0]);
      if (!t || !s) return undefined;
      args = [Tensor.shapeOnly(t.dtype, s)]; // Shape, Size: the dims alone, whatever the size
    } else return undefined;
    const ctx: OpContext = {
      node, opset: g.opset(''), attrs: new Attrs(node), values: args, outputCount: node.outputs.length,
      runGraph: () => ctx.fail('no subgraphs'),
      fail: (m) => { throw new Error(m); }, unsupported: (m) => { throw new Error(m); },
    };
    let outs;
    try {
      outs = def.reference(ctx, args);
    } catch {
      return undefined; // an invalid node is reported, naming it, when the builder plans it
    }
    if (!outs.every((o) => o instanceof Tensor && o.size <= FOLD_LIMIT)) return undefined;
    const inits = node.outputs.map((o, k) => [o, outs[k] as Tensor] as [string, Tensor]).filter(([o]) => o);
    return { remove: [node], initializers: inits, note: `${node.name || node.outputs[0]} (${node.opType}) folded` };
  },
};

/** Dead code: a node none of whose outputs is used. */
export const deadCode: Rule = {
  name: 'dead-code',
  ops: ['*'],
  match(node, g) {
    if (!node.outputs.every((o) => unused(g, o))) return undefined;
    return { remove: [node], note: `${node.name || node.outputs[0]} (${node.opType}) is dead` };
  },
};

/** Initializers nobody reads (after folding and rewrites): removed from the weight buffer. */
export function dropUnusedInitializers(g: Graph): number {
  const used = new Set<string>([...g.outputs, ...g.inputs]);
  for (const n of g.nodes) {
    for (const i of n.inputs) used.add(i);
    for (const c of Graph.capturedNames(n)) used.add(c);
  }
  let k = 0;
  for (const name of [...g.initializers.keys()]) if (!used.has(name)) { g.initializers.delete(name); k++; }
  return k;
}

export const removeIdentity: Rule = {
  name: 'remove-identity',
  ops: ['Identity'],
  match: (node, g) => (g.type(node.inputs[0])?.kind ?? 'tensor') === 'tensor' ? bypass(g, node, node.inputs[0]) : undefined,
};

/** Dropout at inference is the identity (training_mode absent or false; the mask unused). */
export const removeDropout: Rule = {
  name: 'remove-dropout',
  ops: ['Dropout'],
  match(node, g) {
    if (node.outputs[1] && !unused(g, node.outputs[1])) return undefined;
    const tm = node.inputs[2];
    if (tm && !(g.constant(tm) && Number(g.constant(tm)!.get(0)) === 0)) return undefined;
    if (g.opset('') < 7 && attrsOf(node).int('is_test', 0) === 0) return undefined;
    return bypass(g, node, node.inputs[0]);
  },
};

const SHAPE_OPS = ['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze'];

/** Chains of Reshape/Flatten/Squeeze/Unsqueeze become one Reshape; one to the input's shape goes. */
export const collapseReshapes: Rule = {
  name: 'collapse-reshapes',
  ops: SHAPE_OPS,
  match(node, g) {
    const out = g.shape(node.outputs[0]);
    const inShape = g.shape(node.inputs[0]);
    if (!out || !inShape || out.includes(0)) return undefined;
    if (out.join(',') === inShape.join(',')) return bypass(g, node, node.inputs[0]);
    const p = producerIf(g, node.inputs[0], SHAPE_OPS);
    if (!p || p.domain) return undefined;
    const shape = g.fresh(`${node.outputs[0]}.shape`);
    const parts = g.usedOnlyBy(node.inputs[0], node) ? [p, node] : [node];
    const fused = fusedNode(node, parts, { opType: 'Reshape', inputs: [p.inputs[0], shape], attrs: { axes: undefined, axis: undefined, allowzero: undefined } });
    return { remove: parts, add: [fused], initializers: [[shape, Tensor.from('int64', [out.length], out.map((d) => BigInt(d)))]] };
  },
};

function permOf(node: Node, rank: number): number[] {
  return attrsOf(node).ints('perm', Array.from({ length: rank }, (_, i) => rank - 1 - i));
}

/** Transpose(Transpose(x)) is one Transpose; the identity permutation goes. */
export const collapseTransposes: Rule = {
  name: 'collapse-transposes',
  ops: ['Transpose'],
  match(node, g) {
    const rank = g.shape(node.inputs[0])?.length ?? g.type(node.inputs[0])?.shape?.length;
    if (rank === undefined) return undefined;
    const p2 = permOf(node, rank);
    if (p2.every((v, i) => v === i)) return bypass(g, node, node.inputs[0]);
    const p = producerIf(g, node.inputs[0], 'Transpose');
    if (!p || p.domain) return undefined;
    const p1 = permOf(p, rank);
    const perm = p2.map((a) => p1[a]);
    const parts = g.usedOnlyBy(node.inputs[0], node) ? [p, node] : [node];
    if (perm.every((v, i) => v === i)) {
      if (parts.length === 1) return bypass(g, node, p.inputs[0]);
      return { remove: parts, replace: [[node.outputs[0], p.inputs[0]]], note: `${p.name}+${node.name}: transposes cancel` };
    }
    return { remove: parts, add: [fusedNode(node, parts, { inputs: [p.inputs[0]], attrs: { perm: ints(perm) } })] };
  },
};

/** Pad by zero everywhere, Slice of everything, Cast to the same type, Expand to the same shape. */
export const removeNoOps: Rule = {
  name: 'remove-no-op',
  ops: ['Pad', 'Slice', 'Cast', 'Expand'],
  match(node, g) {
    const x = node.inputs[0];
    switch (node.opType) {
      case 'Pad': {
        const pads = g.opset('') < 11 ? attrsOf(node).ints('pads', []) : node.inputs[1] && g.constant(node.inputs[1]) ? valuesOf(g.constant(node.inputs[1])!) : undefined;
        return pads && pads.every((p) => p === 0) ? bypass(g, node, x) : undefined;
      }
      case 'Slice': {
        const a = g.shape(x), b = g.shape(node.outputs[0]);
        if (!a || !b || a.join(',') !== b.join(',')) return undefined;
        if (g.opset('') >= 10 && node.inputs[4] && !(g.constant(node.inputs[4]) && valuesOf(g.constant(node.inputs[4])!).every((s) => s === 1))) return undefined;
        return bypass(g, node, x);
      }
      case 'Cast':
        return g.type(x)?.dtype && g.type(x)?.dtype === g.type(node.outputs[0])?.dtype ? bypass(g, node, x) : undefined;
      case 'Expand': {
        const a = g.shape(x), b = g.shape(node.outputs[0]);
        return a && b && a.join(',') === b.join(',') ? bypass(g, node, x) : undefined;
      }
    }
    return undefined;
  },
};

/** MatMul followed by Add of a constant that broadcasts to [M,N]: one Gemm (batched A through two Reshape views). */
export const matmulAddToGemm: Rule = {
  name: 'matmul-add-to-gemm',
  ops: ['Add'],
  match(node, g) {
    for (const k of [0, 1]) {
      const mm = producerIf(g, node.inputs[k], 'MatMul', node);
      const c = node.inputs[1 - k];
      if (!mm || mm.domain || !g.constant(c)) continue;
      const a = g.shape(mm.inputs[0]), b = g.shape(mm.inputs[1]), cs = g.constant(c)!.dims;
      if (!a || !b || a.length < 2 || b.length !== 2 || !isF32(g, mm.inputs[0]) || !isF32(g, c)) continue;
      const N = b[1];
      if (a.length === 2) {
        const M = a[0];
        if (cs.length > 2 || (cs.length === 2 && cs[0] !== 1 && cs[0] !== M) || (cs.length >= 1 && cs[cs.length - 1] !== 1 && cs[cs.length - 1] !== N)) continue;
        return { remove: [mm, node], add: [fusedNode(mm, [mm, node], { opType: 'Gemm', inputs: [mm.inputs[0], mm.inputs[1], c], outputs: node.outputs })] };
      }
      // batched A ([..., M, K]) times one B ([K, N]) plus a bias along N: the rows of every batch
      // are one GEMM; the Reshapes around it are views (no kernel)
      if (cs.some((d, i) => d !== 1 && !(i === cs.length - 1 && d === N))) continue;
      return batchedGemm(g, mm, node, c, a, N);
    }
    return undefined;
  },
};

/** Reshape(A, [rows, K]) -> Gemm(., B, C) -> Reshape(., [..., M, N]) for a batched MatMul + Add. */
function batchedGemm(g: GraphView, mm: Node, add: Node, c: string, a: number[], N: number): Rewrite {
  const K = a[a.length - 1];
  const rows = a.slice(0, -1).reduce((p, q) => p * q, 1);
  const outShape = [...a.slice(0, -1), N];
  const flatShape = g.fresh(`${mm.name || mm.outputs[0]}.rows_shape`), backShape = g.fresh(`${add.outputs[0]}.shape`);
  const flat = g.fresh(`${mm.inputs[0]}.rows`), rowsOut = g.fresh(`${add.outputs[0]}.rows`);
  const c2 = g.constant(c)!.dims.length === 1 ? c : g.fresh(`${c}.row`);
  const inits: [string, Tensor][] = [
    [flatShape, Tensor.from('int64', [2], [BigInt(rows), BigInt(K)])],
    [backShape, Tensor.from('int64', [outShape.length], outShape.map((d) => BigInt(d)))],
  ];
  if (c2 !== c) inits.push([c2, g.constant(c)!.reshape([g.constant(c)!.size])]);
  const gemm = fusedNode(mm, [mm, add], { opType: 'Gemm', inputs: [flat, mm.inputs[1], c2], outputs: [rowsOut] });
  return {
    remove: [mm, add],
    add: [
      new Node({ name: g.fresh(`${gemm.name}.rows`), opType: 'Reshape', inputs: [mm.inputs[0], flatShape], outputs: [flat] }),
      gemm,
      new Node({ name: g.fresh(`${gemm.name}.unrows`), opType: 'Reshape', inputs: [rowsOut, backShape], outputs: add.outputs }),
    ],
    initializers: inits,
    types: [[flat, { kind: 'tensor', dtype: 'float32', shape: [rows, K] }], [rowsOut, { kind: 'tensor', dtype: 'float32', shape: [rows, N] }]],
    note: `${gemm.name}: batched MatMul + bias as one Gemm over ${rows} rows`,
  };
}

/** Conv/Gemm nodes whose weights the scale rules may rewrite: constant weights, no epilogue yet. */
function plainLayer(g: GraphView, node: Node): boolean {
  if (node.attrs.has(EPILOGUE_ATTRS.activation)) return false;
  if (node.opType === 'Conv') return node.inputs.length <= 3 && !!g.constant(node.inputs[1]) && (!node.inputs[2] || !!g.constant(node.inputs[2])) && isF32(g, node.inputs[1]);
  if (node.opType === 'Gemm') return !!g.constant(node.inputs[1]) && (!node.inputs[2] || !!g.constant(node.inputs[2])) && isF32(g, node.inputs[1]);
  return false;
}

/** Conv weights scaled per output channel (and the bias with them). */
export function scaleConv(g: GraphView, conv: Node, scale: number[] | undefined, shift: number[] | undefined): { w: Tensor; b: Tensor } {
  const W = g.constant(conv.inputs[1])!;
  const M = W.dims[0];
  const per = W.size / M;
  const w = valuesOf(W), bias = conv.inputs[2] ? valuesOf(g.constant(conv.inputs[2])!) : new Array<number>(M).fill(0);
  if (scale) for (let m = 0; m < M; m++) for (let i = 0; i < per; i++) w[m * per + i] *= scale[m];
  const b = bias.map((v, m) => (scale ? v * scale[m] : v) + (shift ? shift[m] : 0));
  return { w: f32(W.dims, w), b: f32([M], b) };
}

/** Mul/Add by a per-channel constant after a Conv (or a per-column one after a Gemm): into the weights. */
export const scaleIntoLayer: Rule = {
  name: 'scale-into-conv-gemm',
  ops: ['Mul', 'Add'],
  match(node, g) {
    for (const k of [0, 1]) {
      const p = producerIf(g, node.inputs[k], ['Conv', 'Gemm'], node);
      const s = g.constant(node.inputs[1 - k]);
      if (!p || p.domain || !s || !plainLayer(g, p)) continue;
      const out = g.shape(p.outputs[0]);
      if (!out || g.shape(node.outputs[0])?.join(',') !== out.join(',')) continue;
      const isMul = node.opType === 'Mul';
      const w = g.fresh(`${p.inputs[1]}.scaled`), b = g.fresh(`${p.outputs[0]}.bias`);
      if (p.opType === 'Conv') {
        const per = perChannel(s, out.length, out[1]);
        if (!per) continue;
        const r = scaleConv(g, p, isMul ? per : undefined, isMul ? undefined : per);
        return { remove: [p, node], add: [fusedNode(p, [p, node], { inputs: [p.inputs[0], w, b], outputs: node.outputs })], initializers: [[w, r.w], [b, r.b]] };
      }
      // Gemm: Y = alpha A B + beta C; per-column factors scale B's columns and C
      const N = out[1];
      const per = perChannel(s, 2, N, 1);
      if (!per) continue;
      const at = attrsOf(p);
      const beta = at.float('beta', 1), transB = at.int('transB', 0) !== 0;
      const B = g.constant(p.inputs[1])!;
      const C = p.inputs[2] ? g.constant(p.inputs[2])! : undefined;
      const C0 = C ? evalOp(g, 'Mul', [C, f32([], [beta])])[0] : f32([1], [0]);
      let Bn = B;
      let Cn: Tensor;
      if (isMul) {
        const bv = valuesOf(B);
        const [r, c] = B.dims;
        for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) bv[i * c + j] *= per[transB ? i : j];
        Bn = f32(B.dims, bv);
        Cn = evalOp(g, 'Mul', [C0, f32([N], per)])[0];
      } else Cn = evalOp(g, 'Add', [C0, f32([N], per)])[0];
      const fused = fusedNode(p, [p, node], { inputs: [p.inputs[0], w, b], outputs: node.outputs, attrs: { beta: float(1) } });
      return { remove: [p, node], add: [fused], initializers: [[w, Bn], [b, Cn]] };
    }
    return undefined;
  },
};

/** The simplification table. */
export const SIMPLIFY_RULES: readonly Rule[] = [foldConstants, deadCode, removeIdentity, removeDropout, collapseReshapes, collapseTransposes, removeNoOps];
/** Rules that move arithmetic into layers (run after pattern recognition so patterns see their Mul/Add). */
export const SCALE_RULES: readonly Rule[] = [matmulAddToGemm, scaleIntoLayer];
