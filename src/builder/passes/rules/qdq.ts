/**
 * Explicit quantization (TensorRT's Q/DQ model): QuantizeLinear/DequantizeLinear pairs around
 * Conv, Gemm and MatMul fold into integer layers, so int8 tensors flow from layer to layer.
 *
 *   Q( act?( Conv(DQ(xq), DQ(wq), b?) ), ys, yzp )            -> QLinearConv(xq, ..., wq, ..., ys, yzp, b_int32) [act]
 *   Q( act?( Gemm|MatMul(DQ(aq), DQ(wq)) [+ b] ), ys, yzp )    -> Reshape -> QLinearConv (1x1) -> Reshape
 *   Q( MaxPool|Reshape|Flatten|...(DQ(xq, s, z)), s, z )       -> the op on xq       (order-preserving)
 *   Q( DQ(xq, s, z), s, z )                                    -> xq
 *   Q( act?( Add( DQ(QLinearConv) | Conv(DQ, DQ), DQ(skip) ) ) -> QLinearConv with a residual input (qdqResidual)
 *
 * Conditions: x and y scales per tensor; w's scale per tensor or per output channel, its zero point
 * 0 (symmetric weights, as TensorRT requires); wq and b constants; every intermediate used only
 * inside the pattern. bias_int32 = round(b / (x_scale * w_scale)) as QLinearConv defines it. The
 * activation (Relu, Clip, ...) runs in the integer layer's epilogue on the real value before
 * requantisation. Anything else stays as it is: Q and DQ run as their own kernels around float layers
 * (layers without an int8 implementation, TensorRT's reformat layers).
 */
import { Node } from '../../../ir/graph';
import { Tensor } from '../../../ir/tensor';
import { ACTIVATIONS } from '../../../ops/nn/gpu/epilogue';
import { fusedNode, GraphView, Rewrite, Rule } from '../rule';
import { attrsOf, producerIf, valuesOf } from '../util';
import { foldConstants } from './simplify';
import { activationAttrs, activationOf } from './vertical';

const INT8_TYPES = new Set(['int8', 'uint8']);

interface Dq { node: Node; q: string; scale: string; zp?: string }

/** A DequantizeLinear producing `name` (any consumers), with its inputs. */
function dqOf(g: GraphView, name: string | undefined): Dq | undefined {
  const p = producerIf(g, name, 'DequantizeLinear');
  if (!p || p.domain) return undefined;
  return { node: p, q: p.inputs[0], scale: p.inputs[1], zp: p.inputs[2] || undefined };
}

const dtypeOf = (g: GraphView, name: string | undefined) => (name ? g.type(name)?.dtype : undefined);

/** A per-tensor (1-element) constant scale and zero point? */
function perTensor(g: GraphView, scale: string, zp: string | undefined): boolean {
  const s = g.constant(scale);
  if (!s || s.size !== 1) return false;
  if (!zp) return true;
  const z = g.constant(zp);
  return !!z && z.size === 1;
}

/** Zero point values of a weight (all must be 0 for symmetric weights); undefined zp means 0. */
function zerosOnly(g: GraphView, zp: string | undefined): boolean {
  if (!zp) return true;
  const z = g.constant(zp);
  return !!z && valuesOf(z).every((v) => v === 0);
}

/** The Q root's float input through an optional activation down to the layer: [layer, act?]. */
function layerUnder(g: GraphView, q: Node, ops: readonly string[]): { layer: Node; act?: Node; kind?: { kind: string; alpha?: number; beta?: number } } | undefined {
  const p = g.producer(q.inputs[0]);
  if (!p || p.domain || !g.usedOnlyBy(q.inputs[0], q)) return undefined;
  if (ops.includes(p.opType)) return { layer: p };
  const kind = activationOf(p, g);
  if (!kind || !ACTIVATIONS.includes(kind.kind)) return undefined;
  const layer = producerIf(g, p.inputs[0], ops, p);
  return layer && !layer.domain ? { layer, act: p, kind } : undefined;
}

/** Nodes of `dqs` that only `user` reads (removable with the pattern). */
function ownDqs(g: GraphView, user: Node, dqs: Dq[]): Node[] {
  return dqs.filter((d) => g.usedOnlyBy(d.node.outputs[0], user)).map((d) => d.node);
}


/** bias_int32[c] = round(b[c] / (x_scale * w_scale[c])), or undefined when it overflows int32. */
function int32Bias(b: Tensor, xs: number, ws: number[], channels: number): Tensor | undefined {
  const bv = valuesOf(b);
  if (bv.length !== channels) return undefined;
  const out = new Int32Array(channels);
  for (let c = 0; c < channels; c++) {
    const v = Math.round(bv[c] / (Math.fround(xs) * Math.fround(ws[ws.length === 1 ? 0 : c])));
    if (!Number.isFinite(v) || Math.abs(v) > 2147483647) return undefined;
    out[c] = v;
  }
  return new Tensor('int32', [channels], out);
}

/** The parts every integer-layer fold shares: x, w and y quantization checked. */
function quantParts(g: GraphView, layer: Node, q: Node, channels: (w: Tensor) => number) {
  const x = dqOf(g, layer.inputs[0]);
  const w = dqOf(g, layer.inputs[1]);
  if (!x || !w || x.node === w.node) return undefined;
  if (!INT8_TYPES.has(dtypeOf(g, x.q) ?? '') || !INT8_TYPES.has(dtypeOf(g, q.outputs[0]) ?? '')) return undefined;
  const wq = g.constant(w.q);
  if (!wq || !INT8_TYPES.has(wq.dtype) || !zerosOnly(g, w.zp)) return undefined;
  if (!perTensor(g, x.scale, x.zp) || !perTensor(g, q.inputs[1], q.inputs[2] || undefined)) return undefined;
  const ws = g.constant(w.scale);
  const C = channels(wq);
  if (!ws || (ws.size !== 1 && ws.size !== C)) return undefined;
  const axis = attrsOf(w.node).int('axis', 1);
  if (ws.size !== 1 && ws.size > 1 && !(axis === 0 || axis === -wq.rank)) return undefined;
  return { x, w, wq, ws, xs: valuesOf(g.constant(x.scale)!)[0], C };
}

/**
 * The QLinearConv inputs (0-8) of Conv(DQ(x), DQ(w), b?) whose output is quantized as Q `q`
 * quantizes it (q's output names the type), the initializers they need and the DQ nodes only the
 * Conv reads; undefined when the Conv does not qualify.
 */
function qlinearConvOf(g: GraphView, conv: Node, q: Node) {
  const parts = quantParts(g, conv, q, (w) => w.dims[0]);
  if (!parts) return undefined;
  const b = conv.inputs[2] ? g.constant(conv.inputs[2]) : undefined;
  if (conv.inputs[2] && !b) return undefined;
  const inputs = [parts.x.q, parts.x.scale, parts.x.zp ?? '', parts.w.q, parts.w.scale, parts.w.zp ?? '', q.inputs[1], q.inputs[2] ?? ''];
  const initializers: [string, Tensor][] = [];
  if (b) {
    const bi = int32Bias(b, parts.xs, valuesOf(parts.ws), parts.C);
    if (!bi) return undefined;
    const name = g.fresh(`${conv.inputs[2]}_int32`);
    initializers.push([name, bi]);
    inputs.push(name);
  }
  // QLinearConv needs every zero point named: a missing one is 0 of its tensor's type
  for (const [k, ref] of [[2, parts.x.q], [5, parts.w.q], [7, q.outputs[0]]] as const) {
    if (inputs[k]) continue;
    const name = g.fresh(`vkrt_zero_${dtypeOf(g, ref)}`);
    initializers.push([name, Tensor.scalar(dtypeOf(g, ref)!, 0)]);
    inputs[k] = name;
  }
  return { inputs, initializers, dqs: ownDqs(g, conv, [parts.x, parts.w]) };
}

/** Q(act?(Conv(DQ(x), DQ(w), b?))) -> QLinearConv. */
export const qdqConv: Rule = {
  name: 'qdq-conv',
  ops: ['QuantizeLinear'],
  match(q, g) {
    if (q.domain) return undefined;
    const u = layerUnder(g, q, ['Conv']);
    if (!u || !g.usedOnlyBy(u.layer.outputs[0], u.act ?? q)) return undefined;
    const conv = u.layer;
    const ql = qlinearConvOf(g, conv, q);
    if (!ql) return undefined;
    const layerParts = [conv, ...(u.act ? [u.act] : []), q];
    const node = fusedNode(conv, layerParts, { opType: 'QLinearConv', inputs: ql.inputs, outputs: [q.outputs[0]], attrs: (u.kind ? activationAttrs(u.kind) : {}) });
    return { remove: [...ql.dqs, ...layerParts], add: [node], initializers: ql.initializers };
  },
};

/** Values of two per-tensor constants (or absent: 0) equal? */
function sameValue(g: GraphView, a: string | undefined, b: string | undefined): boolean {
  const v = (n: string | undefined) => {
    if (!n) return [0];
    const t = g.constant(n);
    return t && t.size === 1 ? valuesOf(t) : undefined;
  };
  const [x, y] = [v(a), v(b)];
  return !!x && !!y && x[0] === y[0];
}

/**
 * The residual connection in the integer layer's epilogue:
 *
 *   Q( act?( Add( DQ(QLinearConv(...)), DQ(skip) ) ), ys, yzp )   -> QLinearConv(..., skip, s_s, s_zp, mid_s, mid_zp) [act]
 *   Q( act?( Add( Conv(DQ(x), DQ(w), b?), DQ(skip) ) ), ys, yzp ) -> QLinearConv(..., skip, s_s, s_zp) [act]
 *
 * (either operand order). The first is what `vkrt quantize` writes for a ResNet / MobileNetV2
 * block (both Add inputs are calibrated); the second what QAT exporters write (Q/DQ on the skip
 * branch only). The QLinearConv must have no activation and no residual yet, the skip an
 * int8/uint8 tensor with per-tensor constant scale and zero point, the Add no broadcasting. The
 * fused layer computes the float32 chain of the unfused graph (requantResidual,
 * src/ops/nn/gpu/epilogue.ts), so with the mid quantization it gives the same integers.
 */
export const qdqResidual: Rule = {
  name: 'qdq-residual',
  ops: ['QuantizeLinear'],
  match(q, g) {
    if (q.domain || !INT8_TYPES.has(dtypeOf(g, q.outputs[0]) ?? '') || !perTensor(g, q.inputs[1], q.inputs[2] || undefined)) return undefined;
    const p = g.producer(q.inputs[0]);
    if (!p || p.domain || !g.usedOnlyBy(q.inputs[0], q)) return undefined;
    let add = p, act: Node | undefined, kind: ReturnType<typeof activationOf>;
    if (p.opType !== 'Add') {
      kind = activationOf(p, g);
      if (!kind || !ACTIVATIONS.includes(kind.kind)) return undefined;
      const a = producerIf(g, p.inputs[0], 'Add', p);
      if (!a) return undefined;
      add = a; act = p;
    }
    if (add.domain || add.inputs.length !== 2) return undefined;
    const out = g.shape(add.outputs[0]);
    if (!out || add.inputs.some((i) => g.shape(i)?.join(',') !== out.join(','))) return undefined;
    for (const [ci, si] of [[0, 1], [1, 0]]) {
      const cName = add.inputs[ci], sName = add.inputs[si];
      if (cName === sName) return undefined;
      const skip = dqOf(g, sName);
      if (!skip || !INT8_TYPES.has(dtypeOf(g, skip.q) ?? '') || !perTensor(g, skip.scale, skip.zp)) continue;
      if (skip.zp && dtypeOf(g, skip.zp) !== dtypeOf(g, skip.q)) continue;
      const finalZp = (initializers: [string, Tensor][]) => {
        if (q.inputs[2]) return q.inputs[2];
        const name = g.fresh(`vkrt_zero_${dtypeOf(g, q.outputs[0])}`);
        initializers.push([name, Tensor.scalar(dtypeOf(g, q.outputs[0])!, 0)]);
        return name;
      };
      const resid = [skip.q, skip.scale, skip.zp ?? ''];
      const tail = [add, ...(act ? [act] : []), q];
      const skipDq = g.usedOnlyBy(sName, add) ? [skip.node] : [];
      const attrs = kind ? activationAttrs(kind) : {};
      // an integer layer whose output is dequantized for the Add
      const dq = dqOf(g, cName);
      if (dq && dq.node !== skip.node && g.usedOnlyBy(cName, add)) {
        const qc = producerIf(g, dq.q, 'QLinearConv', dq.node);
        if (!qc || qc.domain || g.isGraphOutput(dq.q) || qc.inputs.length > 9) continue;
        const qa = attrsOf(qc);
        if (qa.has('vkrt_activation') && qa.string('vkrt_activation') !== 'None') continue;
        if (!sameValue(g, dq.scale, qc.inputs[6]) || !sameValue(g, dq.zp, qc.inputs[7]) || !qc.inputs[7]) continue;
        const initializers: [string, Tensor][] = [];
        const base = [...qc.inputs.slice(0, 6), q.inputs[1], finalZp(initializers), qc.inputs[8] ?? ''];
        const inputs = [...base, ...resid, qc.inputs[6], qc.inputs[7]];
        const parts = [qc, dq.node, ...skipDq, ...tail];
        const node = fusedNode(qc, parts, { inputs, outputs: [q.outputs[0]], attrs });
        return { remove: parts, add: [node], initializers };
      }
      // a float Conv on dequantized int8 values
      const conv = producerIf(g, cName, 'Conv', add);
      if (!conv || conv.domain) continue;
      const ql = qlinearConvOf(g, conv, q);
      if (!ql) continue;
      const inputs = [...ql.inputs, ...(ql.inputs.length === 8 ? [''] : []), ...resid];
      const parts = [conv, ...skipDq, ...tail];
      const node = fusedNode(conv, parts, { opType: 'QLinearConv', inputs, outputs: [q.outputs[0]], attrs });
      return { remove: [...ql.dqs, ...parts], add: [node], initializers: ql.initializers };
    }
    return undefined;
  },
};

/**
 * Q(act?(Gemm|MatMul(DQ(a), DQ(w)) [+ b])) with a constant 2-D weight -> a 1x1 QLinearConv over
 * the rows of a (Reshape views around it): the integer GEMM with bias and epilogue.
 */
export const qdqGemm: Rule = {
  name: 'qdq-gemm',
  ops: ['QuantizeLinear'],
  match(q, g) {
    if (q.domain) return undefined;
    // the float path above Q: act? -> Add(bias)? -> Gemm|MatMul
    const p0 = g.producer(q.inputs[0]);
    if (!p0 || p0.domain || !g.usedOnlyBy(q.inputs[0], q)) return undefined;
    let act: Node | undefined, kind: ReturnType<typeof activationOf>;
    let top = p0;
    const k0 = activationOf(p0, g);
    if (k0 && ACTIVATIONS.includes(k0.kind) && p0.opType !== 'Gemm' && p0.opType !== 'MatMul' && p0.opType !== 'Add') {
      act = p0; kind = k0;
      const below = g.producer(p0.inputs[0]);
      if (!below || below.domain || !g.usedOnlyBy(p0.inputs[0], p0)) return undefined;
      top = below;
    }
    let add: Node | undefined, bias: Tensor | undefined;
    let layer = top;
    if (top.opType === 'Add') {
      const [l, r] = top.inputs;
      const mm = [l, r].map((n) => g.producer(n)).find((p) => p && p.opType === 'MatMul' && !p.domain);
      if (!mm || !g.usedOnlyBy(mm.outputs[0], top)) return undefined;
      bias = g.constant(mm.outputs[0] === l ? r : l);
      if (!bias) return undefined;
      add = top; layer = mm;
    }
    if (layer.opType !== 'Gemm' && layer.opType !== 'MatMul') return undefined;
    if (!add && !g.usedOnlyBy(layer.outputs[0], act ?? q)) return undefined;
    const at = attrsOf(layer);
    const transB = layer.opType === 'Gemm' && at.int('transB', 0) !== 0;
    if (layer.opType === 'Gemm') {
      if (at.int('transA', 0) !== 0 || at.float('alpha', 1) !== 1 || at.float('beta', 1) !== 1) return undefined;
      if (layer.inputs[2]) { if (bias) return undefined; bias = g.constant(layer.inputs[2]); if (!bias) return undefined; }
    }
    const aShape = g.shape(layer.inputs[0]);
    const outShape = g.shape((add ?? layer).outputs[0]);
    const parts = quantParts(g, layer, q, (w) => (transB ? w.dims[0] : w.dims[1]));
    if (!parts || !aShape || !outShape || aShape.length < 2 || parts.wq.rank !== 2) return undefined;
    // per-channel w scales must lie along the output channels: axis 0 of [N, K] (transB) or 1 of [K, N]
    const wsAxis = attrsOf(parts.w.node).int('axis', 1);
    if (parts.ws.size > 1 && (transB ? wsAxis !== 0 : wsAxis !== 1 && wsAxis !== -1)) return undefined;
    const [K, N] = transB ? [parts.wq.dims[1], parts.wq.dims[0]] : parts.wq.dims;
    if (bias && bias.size !== N) return undefined;
    const rows = aShape.slice(0, -1).reduce((x, y) => x * y, 1);
    // the weight as [N, K, 1, 1]
    const wv = valuesOf(parts.wq);
    const w4 = new (parts.wq.dtype === 'int8' ? Int8Array : Uint8Array)(N * K);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) w4[n * K + k] = transB ? wv[n * K + k] : wv[k * N + n];
    const wName = g.fresh(`${parts.w.q}_nk11`);
    const wsName = parts.ws.size > 1 ? g.fresh(`${parts.w.scale}_n`) : parts.w.scale;
    const initializers: [string, Tensor][] = [[wName, new Tensor(parts.wq.dtype, [N, K, 1, 1], w4)]];
    if (parts.ws.size > 1) initializers.push([wsName, new Tensor('float32', [N], Float32Array.from(valuesOf(parts.ws)))]);
    const zero = (ref: string | undefined, fallback: string | undefined) => {
      if (fallback) return fallback;
      const name = g.fresh(`vkrt_zero_${dtypeOf(g, ref)}`);
      initializers.push([name, Tensor.scalar(dtypeOf(g, ref)!, 0)]);
      return name;
    };
    const in4 = g.fresh(`${parts.x.q}_rows`), out4 = g.fresh(`${q.outputs[0]}_rows`);
    const s1 = g.fresh(`${in4}_shape`), s2 = g.fresh(`${q.outputs[0]}_shape`);
    initializers.push([s1, Tensor.from('int64', [4], [rows, K, 1, 1])], [s2, Tensor.from('int64', [outShape.length], outShape)]);
    const inputs = [parts.x.q, parts.x.scale, zero(parts.x.q, parts.x.zp), wName, wsName, zero(parts.w.q, parts.w.zp), q.inputs[1], zero(q.outputs[0], q.inputs[2] || undefined)];
    if (bias) {
      const bi = int32Bias(bias, parts.xs, valuesOf(parts.ws), N);
      if (!bi) return undefined;
      const bn = g.fresh(`${layer.outputs[0]}_bias_int32`);
      initializers.push([bn, bi]);
      inputs.push(bn);
    }
    const layerParts = [layer, ...(add ? [add] : []), ...(act ? [act] : []), q];
    const conv = fusedNode(layer, layerParts, {
      opType: 'QLinearConv', inputs, outputs: [out4],
      attrs: { ...Object.fromEntries([...layer.attrs.keys()].map((k) => [k, undefined])), kernel_shape: { type: 'ints', value: [1, 1] }, ...(kind ? activationAttrs(kind) : {}) },
    });
    const r1 = new Node({ name: g.fresh(`${conv.name}_rows`), opType: 'Reshape', inputs: [parts.x.q, s1], outputs: [in4] });
    const r2 = new Node({ name: g.fresh(`${conv.name}_unrows`), opType: 'Reshape', inputs: [out4, s2], outputs: [q.outputs[0]] });
    return {
      remove: [...ownDqs(g, layer, [parts.x, parts.w]), ...layerParts], add: [r1, conv, r2], initializers,
      types: [[in4, { dtype: dtypeOf(g, parts.x.q)!, shape: [rows, K, 1, 1] }], [out4, { dtype: dtypeOf(g, q.outputs[0])!, shape: [rows, N, 1, 1] }]],
    };
  },
};

/** Same scale and zero point (both constants, equal values) on two Q/DQ nodes? */
function sameQuant(g: GraphView, a: Node, b: Node): boolean {
  const eq = (x: string | undefined, y: string | undefined) => {
    if (!x && !y) return true;
    const tx = x ? g.constant(x) : undefined, ty = y ? g.constant(y) : undefined;
    if ((x && !tx) || (y && !ty)) return false;
    const vx = tx ? valuesOf(tx) : [0], vy = ty ? valuesOf(ty) : [0];
    return vx.length === vy.length && vx.every((v, i) => v === vy[i]);
  };
  return eq(a.inputs[1], b.inputs[1]) && eq(a.inputs[2] || undefined, b.inputs[2] || undefined) && attrsOf(a).int('axis', 1) === attrsOf(b).int('axis', 1);
}

/**
 * Ops through which int8 values pass unchanged in order (max commutes with a monotone map; the
 * others only move data): Q(op(DQ(x))) with the same quantization runs op on the integers.
 */
export const INT8_PASSTHROUGH = new Set(['MaxPool', 'Reshape', 'Flatten', 'Transpose', 'Squeeze', 'Unsqueeze']);

/** Q(MaxPool|Reshape|...(DQ(x))) with the same quantization -> the op on the integers. */
export const qdqPassthrough: Rule = {
  name: 'qdq-passthrough',
  ops: ['QuantizeLinear'],
  match(q, g) {
    const op = producerIf(g, q.inputs[0], [...INT8_PASSTHROUGH], q);
    if (!op || op.domain || op.outputs.slice(1).some((o) => o)) return undefined;
    const x = dqOf(g, op.inputs[0]);
    if (!x || !g.usedOnlyBy(op.inputs[0], op) || !sameQuant(g, x.node, q) || !perTensor(g, x.scale, x.zp)) return undefined;
    if (dtypeOf(g, x.q) !== dtypeOf(g, q.outputs[0]) || !INT8_TYPES.has(dtypeOf(g, x.q) ?? '')) return undefined;
    if (op.opType === 'MaxPool' && g.opset('') < 12) return undefined; // int8 MaxPool arrived in opset 12
    const node = fusedNode(op, [x.node, op, q], { inputs: [x.q, ...op.inputs.slice(1)], outputs: [q.outputs[0]] });
    return { remove: [x.node, op, q], add: [node] };
  },
};

/** Q(DQ(x)) with the same quantization: x itself. */
export const qdqPair: Rule = {
  name: 'qdq-pair',
  ops: ['QuantizeLinear'],
  match(q, g): Rewrite | undefined {
    const dq = producerIf(g, q.inputs[0], 'DequantizeLinear');
    if (!dq || dq.domain || q.domain || !sameQuant(g, dq, q) || dtypeOf(g, dq.inputs[0]) !== dtypeOf(g, q.outputs[0])) return undefined;
    if (g.isGraphOutput(q.outputs[0])) return undefined;
    return { remove: [q, ...(g.usedOnlyBy(dq.outputs[0], q) ? [dq] : [])], replace: [[q.outputs[0], dq.inputs[0]]] };
  },
};

/** Constant nodes become initializers first, so scales and zero points given as Constant nodes are seen. */
const constantNodes: Rule = { name: 'qdq-constant-nodes', ops: ['Constant'], match: (n, g) => foldConstants.match(n, g) };

export const QDQ_RULES: readonly Rule[] = [constantNodes, qdqPair, qdqConv, qdqGemm, qdqPassthrough, qdqResidual];
