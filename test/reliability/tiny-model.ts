/**
 * A model small enough to build in a fraction of a second (so tests can build it in child
 * processes and workers): 1x1 Conv + Relu (one fused layer), then a global average pool.
 */
import { GraphBuilder } from '../../src/ir/builder';
import type { Model } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';

export function tinyModel(): Model {
  const b = new GraphBuilder('tiny', { '': 13 });
  const x = b.input('x', 'float32', [1, 8, 32, 32]);
  const w = b.initializer('w', Tensor.from('float32', [8, 8, 1, 1], Array.from({ length: 64 }, (_, i) => ((i * 37) % 17) / 17 - 0.5)));
  const c = b.node('Conv', [x, w], { kernel_shape: [1, 1] }, { name: 'conv' })[0];
  const r = b.node('Relu', [c], {}, { name: 'relu' })[0];
  const y = b.node('GlobalAveragePool', [r], {}, { name: 'pool', outputs: ['y'] })[0];
  b.output(y);
  return b.build();
}
