/**
 * The `attention` rule: the exporter forms of scaled-dot-product attention become one
 * vkrt::Attention node (ops before/after, the matched scale), forms whose semantics differ from
 * Attention's stay as they are, and every graph computes the same outputs after the optimizer in
 * the reference interpreter and on the GPU. A one-layer BERT-style encoder built in code shows the
 * attention as one layer of the engine plan.
 */
import { strict as assert } from 'assert';
import { buildPlan } from '../../../src/builder/builder';
import { FUSED_ATTR } from '../../../src/builder/passes/rule';
import { GraphBuilder } from '../../../src/ir/builder';
import { Model } from '../../../src/ir/graph';
import { Tensor } from '../../../src/ir/tensor';
import { interpret } from '../../../src/ops/interpreter';
import { errorStats } from '../../helpers/model-cases';
import { useGpu } from '../../helpers/gpu';
import { randomTensor } from '../../helpers/gpu-op';
import { feedsFor, ops, optimized, sameGpu, sameReference } from './check';
import { buildEngine } from '../../../src/api/build';

let seed = 500;
const scalar = (b: GraphBuilder, v: number) => b.constant(Tensor.scalar('float32', v), 'c');
const rand = (b: GraphBuilder, dims: number[], lo = -1, hi = 1) => b.constant(randomTensor('float32', dims, seed++, lo, hi), 'w');
const i64 = (b: GraphBuilder, v: number[]) => b.constant(Tensor.from('int64', [v.length], v.map(BigInt)), 'i');

interface Sdpa {
  opset?: number;
  /** Where the scale is: on the scores (Div or Mul), on Q, on Q and K^T (sqrt each: PyTorch's SDPA export), or nowhere. */
  scale?: 'div' | 'mul' | 'q' | 'qk' | 'none';
  /** The scale constant's dims (default a scalar) and value (default 1/sqrt(D) or its inverse for Div). */
  scaleDims?: number[];
  scaleValue?: number;
  /** An additive mask: a constant of these dims, or a graph input `mask` of these dims. */
  mask?: { dims: number[]; input?: boolean; first?: boolean };
  /** K's layout: [B,H,T,D] + Transpose, already [B,H,D,T], or [B,T,H,D] + one Transpose to [B,H,D,T]. */
  key?: 'transpose' | 'pretransposed' | 'seq-major';
  softmaxAxis?: number | null;
  /** Softmax written out as Exp(x - max) / sum. */
  decomposedSoftmax?: boolean;
  /** Also output the scores (an intermediate with another consumer). */
  exposeScores?: boolean;
  dims?: { B: number; H: number; S: number; T: number; D: number; Dv?: number };
  /** Q, K, V 3-D [B*H, seq, D]. */
  rank3?: boolean;
  /** K and V with batch 1 (MatMul broadcasts them). */
  broadcastKv?: boolean;
}

/** attn.qk -> attn.scale -> attn.mask -> attn.softmax -> attn.pv, the way exporters write it. */
function sdpa(o: Sdpa = {}): Model {
  const { B, H, S, T, D, Dv = D } = o.dims ?? { B: 2, H: 3, S: 5, T: 7, D: 8 };
  const b = new GraphBuilder('sdpa', { '': o.opset ?? 17 });
  const lead = o.rank3 ? [B * H] : [B, H];
  const kvLead = o.broadcastKv ? [1, H] : lead;
  const q0 = b.input('q', 'float32', [...lead, S, D]);
  const key = o.key ?? 'transpose';
  const k0 = b.input('k', 'float32', key === 'pretransposed' ? [...kvLead, D, T] : key === 'seq-major' ? [B, T, H, D] : [...kvLead, T, D]);
  const v = b.input('v', 'float32', [...kvLead, T, Dv]);
  const mask = o.mask && (o.mask.input ? b.input('mask', 'float32', o.mask.dims) : rand(b, o.mask.dims, -3, 0));
  const scale = o.scaleValue ?? 1 / Math.sqrt(D);
  const sc = (v: number) => b.constant(o.scaleDims ? new Tensor('float32', o.scaleDims, new Float32Array(o.scaleDims.reduce((x, y) => x * y, 1)).fill(v)) : Tensor.scalar('float32', v), 'scale');
  const rank = lead.length + 2;
  const swap = [...Array(rank).keys()];
  [swap[rank - 2], swap[rank - 1]] = [swap[rank - 1], swap[rank - 2]];
  let kt = key === 'pretransposed' ? k0 : b.node('Transpose', [k0], { perm: key === 'seq-major' ? [0, 2, 3, 1] : swap }, { name: 'attn.k_t' })[0];
  let q = q0;
  if (o.scale === 'q') q = b.node('Mul', [q0, sc(scale)], {}, { name: 'attn.q_scale' })[0];
  if (o.scale === 'qk') {
    q = b.node('Mul', [q0, sc(Math.sqrt(scale))], {}, { name: 'attn.q_scale' })[0];
    kt = b.node('Mul', [kt, sc(Math.sqrt(scale))], {}, { name: 'attn.k_scale' })[0];
  }
  let s = b.node('MatMul', [q, kt], {}, { name: 'attn.qk' })[0];
  const scores = s;
  const form = o.scale ?? 'div';
  if (form === 'div') s = b.node('Div', [s, sc(o.scaleValue ?? Math.sqrt(D))], {}, { name: 'attn.scale' })[0];
  if (form === 'mul') s = b.node('Mul', [sc(scale), s], {}, { name: 'attn.scale' })[0];
  if (mask) s = b.node('Add', o.mask!.first ? [mask, s] : [s, mask], {}, { name: 'attn.mask' })[0];
  let p: string;
  if (o.decomposedSoftmax) {
    const m = b.node('ReduceMax', [s], { axes: [-1], keepdims: 1 }, { name: 'attn.max' })[0];
    const e = b.node('Exp', [b.node('Sub', [s, m], {}, { name: 'attn.sub' })[0]], {}, { name: 'attn.exp' })[0];
    const z = b.node('ReduceSum', [e, i64(b, [-1])], { keepdims: 1 }, { name: 'attn.sum' })[0];
    p = b.node('Div', [e, z], {}, { name: 'attn.softmax' })[0];
  } else {
    const axis = o.softmaxAxis === undefined ? -1 : o.softmaxAxis;
    p = b.node('Softmax', [s], axis === null ? {} : { axis }, { name: 'attn.softmax' })[0];
  }
  b.output(b.node('MatMul', [p, v], {}, { name: 'attn.pv' })[0]);
  if (o.exposeScores) b.output(scores);
  return b.build();
}

interface Accepted {
  title: string;
  build(): Model;
  after: string[];
  /** The fused node's name and the scale it carries. */
  name: string;
  scale: number;
}

const D = 8;
const ACCEPTED: Accepted[] = [
  {
    title: 'scores / sqrt(d), no mask', build: () => sdpa({ scale: 'div' }),
    after: ['vkrt::Attention'], name: 'attn.k_t+attn.qk+attn.scale+attn.softmax+attn.pv', scale: 1 / Math.sqrt(D),
  },
  {
    title: 'scale * scores + constant mask [1,1,S,T] (mask first in the Add)',
    build: () => sdpa({ scale: 'mul', mask: { dims: [1, 1, 5, 7], first: true } }),
    after: ['vkrt::Attention'], name: 'attn.k_t+attn.qk+attn.scale+attn.mask+attn.softmax+attn.pv', scale: 1 / Math.sqrt(D),
  },
  {
    title: 'scale on Q, mask input [B,1,1,T]', build: () => sdpa({ scale: 'q', scaleValue: 0.3, mask: { dims: [2, 1, 1, 7], input: true } }),
    after: ['vkrt::Attention'], name: 'attn.q_scale+attn.k_t+attn.qk+attn.mask+attn.softmax+attn.pv', scale: 0.3,
  },
  {
    title: 'PyTorch SDPA export: sqrt(scale) on Q and on K^T, mask [S,T]',
    build: () => sdpa({ scale: 'qk', mask: { dims: [5, 7] } }),
    after: ['vkrt::Attention'], name: 'attn.q_scale+attn.k_t+attn.k_scale+attn.qk+attn.mask+attn.softmax+attn.pv', scale: 1 / Math.sqrt(D),
  },
  {
    title: 'K already transposed: a Transpose back to [B,H,T,D] feeds the Attention',
    build: () => sdpa({ key: 'pretransposed', mask: { dims: [2, 3, 5, 7], input: true } }),
    after: ['Transpose', 'vkrt::Attention'], name: 'attn.qk+attn.scale+attn.mask+attn.softmax+attn.pv', scale: 1 / Math.sqrt(D),
  },
  {
    title: 'K as [B,T,H,D] with one Transpose (perm 0,2,3,1): it becomes the head split (perm 0,2,1,3)',
    build: () => sdpa({ key: 'seq-major' }),
    after: ['Transpose', 'vkrt::Attention'], name: 'attn.qk+attn.scale+attn.softmax+attn.pv', scale: 1 / Math.sqrt(D),
  },
  {
    title: 'opset 11, Softmax(axis=3), no scale at all (scale 1)', build: () => sdpa({ opset: 11, softmaxAxis: 3, scale: 'none' }),
    after: ['vkrt::Attention'], name: 'attn.k_t+attn.qk+attn.softmax+attn.pv', scale: 1,
  },
  {
    title: 'a decomposed softmax (rebuilt first by the softmax rule)', build: () => sdpa({ decomposedSoftmax: true, mask: { dims: [1, 1, 1, 7] } }),
    after: ['vkrt::Attention'], name: 'attn.k_t+attn.qk+attn.scale+attn.mask+attn.max+attn.sub+attn.exp+attn.sum+attn.softmax+attn.pv', scale: 1 / Math.sqrt(D),
  },
];

const REJECTED: { title: string; build(): Model }[] = [
  { title: 'softmax over a non-last axis', build: () => sdpa({ softmaxAxis: 2 }) },
  { title: 'opset 11 Softmax with its default axis (1)', build: () => sdpa({ opset: 11, softmaxAxis: null }) },
  { title: 'a per-head (non-scalar) scale [1,H,1,1]', build: () => sdpa({ scale: 'mul', scaleDims: [1, 3, 1, 1] }) },
  { title: 'a size-1 scale of rank 5 (broadcasts the scores up)', build: () => sdpa({ scale: 'mul', scaleDims: [1, 1, 1, 1, 1] }) },
  { title: 'a negative scale (Attention applies sqrt(scale))', build: () => sdpa({ scale: 'mul', scaleValue: -0.5 }) },
  { title: 'the raw scores are also a graph output', build: () => sdpa({ exposeScores: true }) },
  { title: 'a mask whose last dim is 1 (Attention pads it with -inf; Add broadcasts it)', build: () => sdpa({ mask: { dims: [2, 1, 5, 1], input: true } }) },
  { title: 'a mask of rank 5', build: () => sdpa({ mask: { dims: [1, 2, 3, 5, 7], input: true } }) },
  { title: '3-D operands [B*H, seq, D]', build: () => sdpa({ rank3: true }) },
  { title: 'K and V broadcast over the batch by MatMul', build: () => sdpa({ broadcastKv: true }) },
];

/** The probabilities feed a second consumer (e.g. an attention-weights output). */
function probsShared(): Model {
  const b = new GraphBuilder('sdpa', { '': 17 });
  const q = b.input('q', 'float32', [1, 2, 4, 8]);
  const k = b.input('k', 'float32', [1, 2, 4, 8]);
  const v = b.input('v', 'float32', [1, 2, 4, 8]);
  const s = b.node('Div', [b.node('MatMul', [q, b.node('Transpose', [k], { perm: [0, 1, 3, 2] })[0]])[0], scalar(b, Math.sqrt(8))])[0];
  const p = b.node('Softmax', [s], { axis: -1 }, { name: 'softmax' })[0];
  b.output(b.node('MatMul', [p, v], {}, { name: 'pv' })[0]);
  b.output(b.node('ReduceSum', [p, i64(b, [1])], { keepdims: 0 }, { name: 'weights' })[0]);
  return b.build();
}
REJECTED.push({ title: 'the probabilities have another consumer', build: probsShared });

/** Degenerate graphs where a value the rule would remove is read twice by one node. */
function selfRead(which: 'add' | 'pv'): Model {
  const b = new GraphBuilder('sdpa', { '': 17 });
  const q = b.input('q', 'float32', [1, 2, 4, 8]);
  const k = b.input('k', 'float32', [1, 2, 4, 8]);
  let s = b.node('Div', [b.node('MatMul', [q, b.node('Transpose', [k], { perm: [0, 1, 3, 2] })[0]])[0], scalar(b, Math.sqrt(8))])[0];
  if (which === 'add') s = b.node('Add', [s, s], {}, { name: 'twice' })[0];
  const p = b.node('Softmax', [s], { axis: -1 }, { name: 'softmax' })[0];
  b.output(b.node('MatMul', [p, which === 'pv' ? p : b.input('v', 'float32', [1, 2, 4, 8])], {}, { name: 'pv' })[0]);
  return b.build();
}
REJECTED.push({ title: 'the scores added to themselves (no separate mask)', build: () => selfRead('add') });
REJECTED.push({ title: 'the probabilities as V too (MatMul(p, p))', build: () => selfRead('pv') });

/**
 * A one-layer BERT-style encoder: Q/K/V projections, head split (Reshape + Transpose; K's second
 * transpose as transformers writes it), scores / sqrt(d) + (1 - mask) * -10000, Softmax, context,
 * merge heads, output projection, residual + decomposed LayerNorm, GELU (erf) FFN, residual +
 * LayerNorm.
 */
function bertLayer(): Model {
  const S = 6, hidden = 16, heads = 2, dh = hidden / heads, ff = 32;
  const b = new GraphBuilder('bert', { '': 13 });
  const x = b.input('x', 'float32', [1, S, hidden]);
  const m = b.input('attention_mask', 'float32', [1, S]);
  const linear = (y: string, k: number, n: number, name: string) =>
    b.node('Add', [b.node('MatMul', [y, rand(b, [k, n], -0.4, 0.4)], {}, { name: `${name}.matmul` })[0], rand(b, [n], -0.1, 0.1)], {}, { name: `${name}.bias` })[0];
  const split = (y: string, name: string) =>
    b.node('Transpose', [b.node('Reshape', [y, i64(b, [1, S, heads, dh])], {}, { name: `${name}.reshape` })[0]], { perm: [0, 2, 1, 3] }, { name: `${name}.heads` })[0];
  const layerNorm = (y: string, name: string) => {
    const mean = b.node('ReduceMean', [y], { axes: [-1] }, { name: `${name}.mean` })[0];
    const d = b.node('Sub', [y, mean], {}, { name: `${name}.sub` })[0];
    const v = b.node('ReduceMean', [b.node('Pow', [d, scalar(b, 2)], {}, { name: `${name}.pow` })[0]], { axes: [-1] }, { name: `${name}.var` })[0];
    const sd = b.node('Sqrt', [b.node('Add', [v, scalar(b, 1e-12)], {}, { name: `${name}.eps` })[0]], {}, { name: `${name}.sqrt` })[0];
    const n = b.node('Div', [d, sd], {}, { name: `${name}.div` })[0];
    return b.node('Add', [b.node('Mul', [n, rand(b, [hidden], 0.5, 1.5)], {}, { name: `${name}.gamma` })[0], rand(b, [hidden], -0.1, 0.1)], {}, { name: `${name}.beta` })[0];
  };
  const q = split(linear(x, hidden, hidden, 'query'), 'query');
  const k = b.node('Transpose', [split(linear(x, hidden, hidden, 'key'), 'key')], { perm: [0, 1, 3, 2] }, { name: 'key.t' })[0];
  const v = split(linear(x, hidden, hidden, 'value'), 'value');
  const ext = b.node('Unsqueeze', [m, i64(b, [1, 2])], {}, { name: 'mask.unsqueeze' })[0];
  const additive = b.node('Mul', [b.node('Sub', [scalar(b, 1), ext], {}, { name: 'mask.invert' })[0], scalar(b, -10000)], {}, { name: 'mask.scale' })[0];
  let s = b.node('MatMul', [q, k], {}, { name: 'attn.qk' })[0];
  s = b.node('Div', [s, scalar(b, Math.sqrt(dh))], {}, { name: 'attn.scale' })[0];
  s = b.node('Add', [s, additive], {}, { name: 'attn.mask' })[0];
  const p = b.node('Dropout', [b.node('Softmax', [s], { axis: -1 }, { name: 'attn.softmax' })[0]], {}, { name: 'attn.dropout' })[0];
  const ctx = b.node('MatMul', [p, v], {}, { name: 'attn.pv' })[0];
  const merged = b.node('Reshape', [b.node('Transpose', [ctx], { perm: [0, 2, 1, 3] }, { name: 'attn.merge' })[0], i64(b, [1, S, hidden])], {}, { name: 'attn.reshape' })[0];
  const h1 = layerNorm(b.node('Add', [linear(merged, hidden, hidden, 'attn.out'), x], {}, { name: 'attn.residual' })[0], 'ln1');
  const up = linear(h1, hidden, ff, 'ffn.up');
  const gelu = b.node('Mul', [b.node('Mul', [up, scalar(b, 0.5)], {}, { name: 'gelu.half' })[0],
    b.node('Add', [b.node('Erf', [b.node('Div', [up, scalar(b, Math.SQRT2)], {}, { name: 'gelu.div' })[0]], {}, { name: 'gelu.erf' })[0], scalar(b, 1)], {}, { name: 'gelu.add' })[0]], {}, { name: 'gelu.mul' })[0];
  b.output(layerNorm(b.node('Add', [linear(gelu, ff, hidden, 'ffn.down'), h1], {}, { name: 'ffn.residual' })[0], 'ln2'));
  return b.build();
}

/** Half the tokens masked out: exercises the additive mask. */
function bertFeeds(model: Model): Map<string, Tensor> {
  const feeds = feedsFor(model, 11, -1, 1);
  feeds.set('attention_mask', Tensor.from('float32', [1, 6], [1, 1, 1, 0, 1, 0]));
  return feeds;
}

/** lavapipe's and NVIDIA's storage-buffer offset alignment is 16 or less. */
const CAPS = { subgroupSize: 32, maxGroupsX: 65535, maxGroupsY: 65535, maxWorkgroupInvocations: 1024, fp16: false, alignment: 16 };

describe('attention rule (scaled-dot-product attention -> vkrt::Attention)', function () {
  this.timeout(180000);
  const gpu = useGpu();

  for (const c of ACCEPTED) {
    describe(c.title, () => {
      it('rewrites into one Attention node with the matched scale', () => {
        const model = c.build();
        const before = ops(model);
        const { model: out, counts } = optimized(model, ['simplify', 'patterns']);
        assert.equal(counts.get('attention'), 1, `attention did not fire\n${out.graph.print()}`);
        assert.deepEqual(ops(out), c.after, `ops after (before: ${before.join(', ')})\n${out.graph.print()}`);
        const att = out.graph.nodes.find((n) => n.opType === 'Attention')!;
        assert.equal(att.name, c.name);
        assert.ok(Math.abs((att.attrs.get('scale')!.value as number) - c.scale) <= 1e-6 * c.scale, `scale ${att.attrs.get('scale')!.value}, expected ${c.scale}`);
        assert.deepEqual([...att.attrs.keys()].sort(), [FUSED_ATTR, 'scale'].sort());
        assert.deepEqual(att.outputs, model.graph.outputs.slice(0, 1), 'the fused node produces the graph output');
        assert.deepEqual(ops(model), before, 'the original model is not changed');
      });
      it('computes the same outputs (reference, GPU)', async () => {
        const model = c.build();
        const feeds = feedsFor(model);
        const { model: out } = optimized(model);
        assert.ok(ops(out).includes('vkrt::Attention'));
        sameReference(model, out, feeds, 1e-5);
        const [plain, fused] = await sameGpu(gpu.device, model, feeds, 1e-4);
        assert.equal(fused.length, c.after.length, `fused layers: ${fused.join(', ')}`);
        assert.ok(plain.length > fused.length);
      });
    });
  }

  for (const c of REJECTED) {
    it(`does not rewrite: ${c.title}`, () => {
      const model = c.build();
      const { model: out, counts } = optimized(model);
      assert.equal(counts.get('attention'), undefined, `attention fired\n${out.graph.print()}`);
      assert.ok(!ops(out).includes('vkrt::Attention'));
      sameReference(model, out, feedsFor(model), 1e-5);
    });
  }

  it('a one-layer BERT-style encoder: the attention is one layer of the plan and the engine matches', async () => {
    const model = bertLayer();
    const plan = buildPlan(model, CAPS);
    const att = plan.layers.filter((l) => l.opTypes.includes('Softmax') || l.opTypes.includes('Attention'));
    assert.equal(att.length, 1, `layers: ${plan.layers.map((l) => `${l.name} [${l.opTypes.join('+')}]`).join(', ')}`);
    assert.deepEqual(att[0].opTypes, ['MatMul', 'Div', 'Add', 'Softmax', 'MatMul']);
    assert.equal(att[0].name, 'attn.qk+attn.scale+attn.mask+attn.softmax+attn.pv');
    assert.equal(att[0].kernel, 'attention_online_softmax');
    // K's head split and its K^T transpose collapse into one Transpose (perm 0,2,3,1), which the
    // rule turns into K's [B,H,T,D] layout: one Transpose per head split, as for Q and V
    const transposes = plan.layers.filter((l) => l.opTypes.join() === 'Transpose').map((l) => l.name);
    assert.deepEqual(transposes, ['query.heads', 'value.heads', 'key.heads+key.t', 'attn.merge']);
    assert.equal(plan.layers.filter((l) => l.opTypes.includes('MatMul')).length, 7, 'six projections and the attention');
    const plain = buildPlan(model, CAPS, { fusion: false });
    assert.ok(plain.layers.length > plan.layers.length + 4, `${plain.layers.length} -> ${plan.layers.length}`);
    const feeds = bertFeeds(model);
    sameReference(model, optimized(model).model, feeds, 1e-5);
    const [p, f] = await sameGpu(gpu.device, model, feeds, 1e-4);
    assert.equal(p.length, plain.layers.length);
    assert.equal(f.length, plan.layers.length);
  });

  it('in an FP16 engine the fused attention keeps its FP32 kernel and the encoder still matches', async () => {
    const model = bertLayer();
    const feeds = bertFeeds(model);
    const ref = interpret(model, feeds).get(model.graph.outputs[0]) as Tensor;
    const engine = buildEngine(model, { device: gpu.device, fp16: true });
    try {
      const att = engine.plan.layers.find((l) => l.opTypes.includes('Softmax'))!;
      assert.equal(att.kernel, 'attention_online_softmax');
      assert.equal(att.precision, 'fp32', 'Attention has no FP16 kernel: FP32 with conversions around it');
      const got = (await engine.createExecutionContext().execute(feeds)).get(model.graph.outputs[0])!;
      // FP16 activations through two LayerNorms: ~1e-3 relative
      const { relL2 } = errorStats(ref, got);
      assert.ok(relL2 < 1e-2, `rel L2 ${relL2}`);
    } finally {
      engine.dispose();
    }
  });
});
