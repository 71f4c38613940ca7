/**
 * Pattern recognition of scaled-dot-product attention: the decomposed form exporters write,
 *
 *   Softmax(scale * Q @ K^T [+ mask], axis = last) @ V      Q, K, V 4-D [batch, heads, seq, head]
 *
 * rebuilt into one `vkrt::Attention` node (the ONNX Attention op at opset 23). The scale may be any
 * mix of Mul/Div by scalar constants on Q, on K (before or after its transpose) and on the scores:
 * PyTorch's SDPA export multiplies Q and K^T by sqrt(scale) each, transformers' BERT divides the
 * scores by sqrt(d), fairseq-style code multiplies Q; all of them are `scale` = the product.
 *
 * The rewrite happens only where Attention computes exactly the same thing:
 *  - Q, K, V are 4-D with equal batch and head dims (no MatMul broadcasting: Attention's batch dims
 *    must agree and its head grouping is not MatMul's broadcast);
 *  - the scale is a product of scalar constants, finite and positive (Attention applies
 *    sqrt(scale) to Q and K);
 *  - the softmax runs over the last axis (under the opset's default and axis rules);
 *  - an additive mask broadcasts (right-aligned, rank 1-4) to [B, H, S, T] with its last dim
 *    exactly T: Attention pads a shorter mask with -inf, Add would broadcast it;
 *  - every intermediate (scaled Q/K, scores, probabilities) feeds the next step only;
 *  - the GPU kernel can run it (float32, head sizes within its limit), so fusing never makes a
 *    buildable model unbuildable.
 * One difference is deliberate: a row masked entirely with -inf gives zero weights in Attention
 * where Softmax gives NaN.
 */
import { Node } from '../../../ir/graph';
import { ATTENTION_MAX_HEAD_SIZE } from '../../../ops/reduce/gpu-attention';
import { FUSED_ATTR, fusedNode, GraphView, partName, Rule, VKRT_DOMAIN } from '../rule';
import { attrsOf, float, ints, isF32, producerIf, scalarOf } from '../util';

/** A value with the scalar Mul/Div steps that produced it peeled off. */
interface Unscaled {
  /** The value before the scaling. */
  value: string;
  /** Product of the scalar factors (1 when none). */
  factor: number;
  /** The Mul/Div nodes, in execution order. */
  nodes: Node[];
  /** The node that reads `value` (the first scaling node, or the original user). */
  user: Node;
}

const sameShape = (a: number[] | undefined, b: number[] | undefined) => !!a && !!b && a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Peel Mul/Div by scalar constants off `name` (read by `user` only): each step must keep the
 * shape (a size-1 constant of higher rank would broadcast the value up) and feed the next only.
 */
function unscale(g: GraphView, name: string, user: Node): Unscaled {
  let factor = 1;
  const nodes: Node[] = [];
  for (;;) {
    const p = producerIf(g, name, ['Mul', 'Div'], user);
    if (!p || p.domain) break;
    let next: string | undefined;
    let f: number | undefined;
    if (p.opType === 'Div') {
      const d = scalarOf(g, p.inputs[1]);
      if (d !== undefined && d !== 0 && scalarOf(g, p.inputs[0]) === undefined) { next = p.inputs[0]; f = 1 / d; }
    } else {
      for (const k of [0, 1]) {
        const c = scalarOf(g, p.inputs[1 - k]);
        if (c !== undefined && scalarOf(g, p.inputs[k]) === undefined) { next = p.inputs[k]; f = c; break; }
      }
    }
    if (next === undefined || f === undefined || !sameShape(g.shape(next), g.shape(p.outputs[0]))) break;
    factor *= f;
    nodes.unshift(p);
    name = next;
    user = p;
  }
  return { value: name, factor, nodes, user };
}

/** Does this Softmax normalise the last axis of its rank-`rank` input? */
function softmaxOnLastAxis(g: GraphView, sm: Node, rank: number): boolean {
  // before opset 13 the default axis is 1 and the input is coerced to 2-D at the axis: over the
  // last axis that is the same as a softmax over it; vkrt::Softmax is opset 13
  const opset = sm.domain === VKRT_DOMAIN ? 13 : g.opset('');
  const axis = attrsOf(sm).int('axis', opset >= 13 ? -1 : 1);
  return (axis < 0 ? axis + rank : axis) === rank - 1;
}

/** Does the additive mask `m` broadcast to [B, H, S, T] exactly as Attention's attn_mask does? */
function maskFits(g: GraphView, m: string, target: number[]): boolean {
  const md = g.shape(m);
  if (!md || md.length < 1 || md.length > 4 || !isF32(g, m)) return false;
  if (md[md.length - 1] !== target[3]) return false;
  const off = 4 - md.length;
  return md.every((d, i) => d === 1 || d === target[off + i]);
}

/**
 * K^T as MatMul reads it -> K for Attention. A Transpose read only here is absorbed: its perm
 * composed with the last-axes swap gives K's, identity (the head-split layout) needs no node;
 * otherwise one Transpose producing K stays (named after the original one).
 */
function keyOf(g: GraphView, kt: Unscaled, mm1: Node): { k: string; src: string; factor: number; parts: Node[]; removed: Node[]; added: Node[] } | undefined {
  const tr = producerIf(g, kt.value, 'Transpose', kt.user);
  const src = tr && !tr.domain ? g.shape(tr.inputs[0]) : undefined;
  if (tr && src && src.length === 4) {
    const perm = attrsOf(tr).ints('perm', [3, 2, 1, 0]);
    if (perm.length !== 4) return undefined;
    const inner = unscale(g, tr.inputs[0], tr);
    const kPerm = [perm[0], perm[1], perm[3], perm[2]];
    if (kPerm.every((p, i) => p === i)) {
      return { k: inner.value, src: inner.value, factor: inner.factor * kt.factor, parts: [...inner.nodes, tr, ...kt.nodes], removed: [], added: [] };
    }
    const t = new Node({ name: partName(tr), opType: 'Transpose', inputs: [inner.value], outputs: [g.fresh(`${partName(mm1)}.key`)], attrs: new Map([['perm', ints(kPerm)]]) });
    return { k: t.outputs[0], src: inner.value, factor: inner.factor * kt.factor, parts: [...inner.nodes, ...kt.nodes], removed: [tr], added: [t] };
  }
  // K arrives transposed already (or its Transpose is shared): transpose it back for Attention
  const t = new Node({ name: g.fresh(`${partName(mm1)}.key_t`), opType: 'Transpose', inputs: [kt.value], outputs: [g.fresh(`${partName(mm1)}.key`)], attrs: new Map([['perm', ints([0, 1, 3, 2])]]) });
  return { k: t.outputs[0], src: kt.value, factor: kt.factor, parts: kt.nodes, removed: [], added: [t] };
}

/** Scaled-dot-product attention, rooted at the MatMul with V. */
export const attention: Rule = {
  name: 'attention',
  ops: ['MatMul'],
  match(mm2, g) {
    if (mm2.domain) return undefined;
    const [probs, v] = mm2.inputs;
    const sm = producerIf(g, probs, 'Softmax', mm2);
    const ps = g.shape(probs), vs = g.shape(v);
    // (a value read twice by one node counts as used once: V must not be the probabilities)
    if (!sm || !ps || !vs || ps.length !== 4 || vs.length !== 4 || !sm.inputs[0] || v === probs) return undefined;
    const [B, H, S, T] = ps;
    if (vs[0] !== B || vs[1] !== H || vs[2] !== T || !softmaxOnLastAxis(g, sm, 4)) return undefined;
    if (!isF32(g, v) || vs[3] > ATTENTION_MAX_HEAD_SIZE) return undefined;

    // the scores, and the mask when an Add sits before the softmax (either operand order)
    const add = producerIf(g, sm.inputs[0], 'Add', sm);
    const tries: { scores: string; user: Node; mask?: string }[] = add && !add.domain
      ? [0, 1].map((k) => ({ scores: add.inputs[k], user: add, mask: add.inputs[1 - k] }))
      : [{ scores: sm.inputs[0], user: sm }];
    for (const t of tries) {
      if (t.mask !== undefined && (t.mask === t.scores || !maskFits(g, t.mask, ps))) continue;
      if (!sameShape(g.shape(t.scores), ps)) continue;
      const s = unscale(g, t.scores, t.user);
      const mm1 = producerIf(g, s.value, 'MatMul', s.user);
      if (!mm1 || mm1.domain) continue;
      const q = unscale(g, mm1.inputs[0], mm1);
      const qs = g.shape(q.value), kts = g.shape(mm1.inputs[1]);
      if (!qs || !kts || qs.length !== 4 || kts.length !== 4) continue;
      if (qs[0] !== B || qs[1] !== H || qs[2] !== S || kts[0] !== B || kts[1] !== H || kts[2] !== qs[3] || kts[3] !== T) continue;
      if (!isF32(g, q.value) || qs[3] > ATTENTION_MAX_HEAD_SIZE) continue;
      const key = keyOf(g, unscale(g, mm1.inputs[1], mm1), mm1);
      // (a new K value has no type yet: its source's is K's)
      if (!key || !isF32(g, key.src)) continue;
      const scale = q.factor * key.factor * s.factor;
      if (!Number.isFinite(scale) || !(scale > 0)) continue;

      const parts = [...q.nodes, ...key.parts, mm1, ...s.nodes, ...(t.mask !== undefined ? [add!] : []), sm, mm2];
      const inputs = t.mask !== undefined ? [q.value, key.k, v, t.mask] : [q.value, key.k, v];
      const node = fusedNode(mm2, parts, { opType: 'Attention', domain: VKRT_DOMAIN, inputs, outputs: [mm2.outputs[0]] });
      for (const a of [...node.attrs.keys()]) if (a !== FUSED_ATTR) node.attrs.delete(a);
      node.attrs.set('scale', float(scale));
      return { remove: [...parts, ...key.removed], add: [...key.added, node], note: `${parts.map(partName).join(', ')} -> ${node.name} (scale ${scale})` };
    }
    return undefined;
  },
};

/** The attention rule table (runs in the patterns pass, after Softmax is rebuilt). */
export const ATTENTION_RULES: readonly Rule[] = [attention];
