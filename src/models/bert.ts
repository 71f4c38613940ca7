/**
 * A BERT encoder built in code the way the PyTorch exporter writes Hugging Face's BertModel at
 * opset 14 (seeded random weights): dynamic `batch` and `sequence` axes on input_ids,
 * attention_mask and token_type_ids; position ids sliced from a [1, maxPos] buffer by the sequence
 * length read from Shape; the extended attention mask (1 - mask) * -10000 broadcast over heads and
 * queries; per layer Q/K/V projections reshaped to heads through Shape/Gather/Concat targets,
 * scaled dot-product attention with the mask, output projection, residual + LayerNormalization
 * (decomposed as the exporter does below opset 17), the Erf GELU feed-forward; a tanh pooler over
 * the first token. The defaults are BERT-base (hidden 768, 12 heads, 12 layers, feed-forward 3072,
 * vocabulary 30522): 110M parameters, 440 MB of float32 weights.
 */
import { GraphBuilder } from '../ir/builder';
import type { Model } from '../ir/graph';
import { Tensor } from '../ir/tensor';
import { rng } from './rng';

export interface BertOptions {
  hidden?: number;
  heads?: number;
  layers?: number;
  intermediate?: number;
  vocab?: number;
  maxPositions?: number;
  seed?: number;
}

export function bertEncoder(opts: BertOptions = {}): Model {
  const hidden = opts.hidden ?? 768, heads = opts.heads ?? 12, layers = opts.layers ?? 12;
  const inter = opts.intermediate ?? 4 * hidden, vocab = opts.vocab ?? 30522, maxPos = opts.maxPositions ?? 512;
  if (hidden % heads) throw new RangeError(`bertEncoder: hidden ${hidden} is not a multiple of heads ${heads}`);
  const headDim = hidden / heads;
  const r = rng(opts.seed ?? 7);
  const b = new GraphBuilder('bert', { '': 14 });
  const i64 = (v: number[]) => b.constant(Tensor.from('int64', [v.length], v));
  const scalar = (dtype: 'int64' | 'float32', v: number) => b.constant(Tensor.scalar(dtype, v));
  // N(0, 0.02)-like spread, as BERT's initializer: uniform with the same standard deviation
  const param = (name: string, dims: number[], std = 0.02) => {
    const n = dims.reduce((a, c) => a * c, 1);
    const a = std * Math.sqrt(3);
    const data = new Float32Array(n);
    for (let k = 0; k < n; k++) data[k] = (r() * 2 - 1) * a;
    return b.initializer(name, new Tensor('float32', dims, data));
  };
  const filled = (name: string, dims: number[], v: number) => b.initializer(name, new Tensor('float32', dims, new Float32Array(dims.reduce((a, c) => a * c, 1)).fill(v)));

  const ids = b.input('input_ids', 'int64', ['batch', 'sequence']);
  const mask = b.input('attention_mask', 'int64', ['batch', 'sequence']);
  const types = b.input('token_type_ids', 'int64', ['batch', 'sequence']);

  const layerNorm = (x: string, name: string): string => {
    // the exporter's decomposition: (x - mean) / sqrt(var + eps) * gamma + beta
    const mean = b.node('ReduceMean', [x], { axes: [-1], keepdims: 1 })[0];
    const d = b.node('Sub', [x, mean])[0];
    const v = b.node('ReduceMean', [b.node('Pow', [d, scalar('float32', 2)])[0]], { axes: [-1], keepdims: 1 })[0];
    const s = b.node('Sqrt', [b.node('Add', [v, scalar('float32', 1e-12)])[0]])[0];
    const n = b.node('Div', [d, s])[0];
    return b.node('Add', [b.node('Mul', [n, filled(`${name}.weight`, [hidden], 1)])[0], param(`${name}.bias`, [hidden], 0.01)])[0];
  };
  const linear = (x: string, name: string, inF: number, outF: number): string =>
    b.node('Add', [param(`${name}.bias`, [outF], 0.01), b.node('MatMul', [x, param(`${name}.weight`, [inF, outF])])[0]])[0];

  // embeddings
  const seqLen = b.node('Gather', [b.node('Shape', [ids])[0], scalar('int64', 1)], { axis: 0 })[0];
  const posBuffer = b.initializer('embeddings.position_ids', Tensor.from('int64', [1, maxPos], Array.from({ length: maxPos }, (_, k) => k)));
  const posIds = b.node('Slice', [posBuffer, i64([0]), b.node('Unsqueeze', [seqLen, i64([0])])[0], i64([1]), i64([1])])[0];
  const words = b.node('Gather', [param('embeddings.word_embeddings.weight', [vocab, hidden]), ids], { axis: 0 })[0];
  const tokType = b.node('Gather', [param('embeddings.token_type_embeddings.weight', [2, hidden]), types], { axis: 0 })[0];
  const pos = b.node('Gather', [param('embeddings.position_embeddings.weight', [maxPos, hidden]), posIds], { axis: 0 })[0];
  let x = layerNorm(b.node('Add', [b.node('Add', [words, tokType])[0], pos])[0], 'embeddings.LayerNorm');

  // extended attention mask: [batch, 1, 1, sequence], 0 where attended, -10000 where masked
  const m4 = b.node('Cast', [b.node('Unsqueeze', [mask, i64([1, 2])])[0]], { to: 1 })[0];
  const ext = b.node('Mul', [b.node('Sub', [scalar('float32', 1), m4])[0], scalar('float32', -10000)])[0];

  const dimOf = (t: string, k: number) => b.node('Unsqueeze', [b.node('Gather', [b.node('Shape', [t])[0], scalar('int64', k)], { axis: 0 })[0], i64([0])])[0];
  const toHeads = (t: string): string => {
    const target = b.node('Concat', [dimOf(t, 0), dimOf(t, 1), i64([heads]), i64([headDim])], { axis: 0 })[0];
    return b.node('Reshape', [t, target])[0];
  };
  const scale = scalar('float32', Math.sqrt(headDim));
  for (let l = 0; l < layers; l++) {
    const p = `encoder.layer.${l}`;
    const q = b.node('Transpose', [toHeads(linear(x, `${p}.attention.self.query`, hidden, hidden))], { perm: [0, 2, 1, 3] })[0];
    const k = b.node('Transpose', [toHeads(linear(x, `${p}.attention.self.key`, hidden, hidden))], { perm: [0, 2, 3, 1] })[0];
    const v = b.node('Transpose', [toHeads(linear(x, `${p}.attention.self.value`, hidden, hidden))], { perm: [0, 2, 1, 3] })[0];
    const scores = b.node('Add', [b.node('Div', [b.node('MatMul', [q, k])[0], scale])[0], ext])[0];
    const ctxHeads = b.node('MatMul', [b.node('Softmax', [scores], { axis: -1 })[0], v])[0];
    const ctx = b.node('Transpose', [ctxHeads], { perm: [0, 2, 1, 3] })[0];
    const merged = b.node('Reshape', [ctx, b.node('Concat', [dimOf(ctx, 0), dimOf(ctx, 1), i64([hidden])], { axis: 0 })[0]])[0];
    x = layerNorm(b.node('Add', [linear(merged, `${p}.attention.output.dense`, hidden, hidden), x])[0], `${p}.attention.output.LayerNorm`);
    const h = linear(x, `${p}.intermediate.dense`, hidden, inter);
    // GELU as the exporter writes it: x * 0.5 * (1 + erf(x / sqrt(2)))
    const erf = b.node('Erf', [b.node('Div', [h, scalar('float32', Math.SQRT2)])[0]])[0];
    const gelu = b.node('Mul', [b.node('Mul', [h, b.node('Add', [erf, scalar('float32', 1)])[0]])[0], scalar('float32', 0.5)])[0];
    x = layerNorm(b.node('Add', [linear(gelu, `${p}.output.dense`, inter, hidden), x])[0], `${p}.output.LayerNorm`);
  }
  b.output(b.node('Identity', [x], {}, { outputs: ['last_hidden_state'] })[0]);
  const first = b.node('Gather', [x, scalar('int64', 0)], { axis: 1 })[0];
  b.output(b.node('Tanh', [linear(first, 'pooler.dense', hidden, hidden)], {}, { outputs: ['pooler_output'] })[0]);
  return b.build();
}
