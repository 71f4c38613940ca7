/**
 * Models with dynamic input dimensions for the dynamic-shapes tests (docs/dynamic-shapes.md).
 */
import { GraphBuilder } from '../../src/ir/builder';
import type { Model } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';

/**
 * BERT's embedding front as the exporters write it: word embeddings gathered by `input_ids`
 * [batch, seq], the sequence length read from the embeddings' own Shape, position ids from
 * Range(0, seq, 1), position embeddings added, then a LayerNormalization-free reduction to
 * [batch, seq]. At batch 256 the embeddings hold 256*seq*hidden values, more than the constant
 * folder materializes, which is what left Range's output symbolic before Shape folded from dims.
 */
export function bertEmbeddings(hidden = 768, vocab = 64, maxPos = 512): Model {
  const b = new GraphBuilder('bert_embeddings', { '': 18 });
  const ids = b.input('input_ids', 'int64', ['batch', 'seq']);
  const wemb = b.initializer('word_embeddings', new Tensor('float32', [vocab, hidden], Float32Array.from({ length: vocab * hidden }, (_, i) => Math.sin(i) * 0.1)));
  const pemb = b.initializer('position_embeddings', new Tensor('float32', [maxPos, hidden], Float32Array.from({ length: maxPos * hidden }, (_, i) => Math.cos(i) * 0.1)));
  const x = b.node('Gather', [wemb, ids], { axis: 0 })[0];
  const shape = b.node('Shape', [x])[0];
  const seq = b.node('Gather', [shape, b.constant(Tensor.scalar('int64', 1))], { axis: 0 })[0];
  const pos = b.node('Range', [b.constant(Tensor.scalar('int64', 0)), seq, b.constant(Tensor.scalar('int64', 1))])[0];
  const pe = b.node('Gather', [pemb, pos], { axis: 0 })[0];
  const y = b.node('Add', [x, pe])[0];
  b.output(b.node('ReduceMean', [y, b.constant(Tensor.from('int64', [1], [2]))], { keepdims: 0 })[0]);
  return b.build();
}

/**
 * A small MLP with a dynamic batch axis: x [N, 16] -> Gemm(16x32) -> Relu -> MatMul(32x8) -> Add
 * -> Softmax, and a Reshape whose target is computed from Shape(x) (batch kept, rest flattened).
 */
export function dynamicBatchMlp(): Model {
  const b = new GraphBuilder('mlp', { '': 17 });
  const x = b.input('x', 'float32', ['N', 4, 4]);
  const rnd = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.5);
  const shape = b.node('Shape', [x])[0];
  const batch = b.node('Slice', [shape, b.constant(Tensor.from('int64', [1], [0])), b.constant(Tensor.from('int64', [1], [1]))])[0];
  const target = b.node('Concat', [batch, b.constant(Tensor.from('int64', [1], [16]))], { axis: 0 })[0];
  const flat = b.node('Reshape', [x, target])[0];
  const w1 = b.initializer('w1', new Tensor('float32', [16, 32], rnd(512, 1)));
  const b1 = b.initializer('b1', new Tensor('float32', [32], rnd(32, 2)));
  const h = b.node('Relu', [b.node('Gemm', [flat, w1, b1])[0]])[0];
  const w2 = b.initializer('w2', new Tensor('float32', [32, 8], rnd(256, 3)));
  const b2 = b.initializer('b2', new Tensor('float32', [8], rnd(8, 4)));
  const z = b.node('Add', [b.node('MatMul', [h, w2])[0], b2])[0];
  b.output(b.node('Softmax', [z], { axis: -1 })[0]);
  return b.build();
}
