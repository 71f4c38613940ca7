/** IR invariants: verify(), topoSort(), print(). */
import { strict as assert } from 'assert';
import { GraphError } from '../../src/errors';
import { attr, GraphBuilder } from '../../src/ir/builder';
import { buildPlan } from '../../src/builder/builder';
import { Graph, Model, Node } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { rng } from '../onnx/helpers';

function small(): Graph {
  const b = new GraphBuilder('small');
  const x = b.input('x', 'float32', ['N', 3]);
  const w = b.initializer('w', Tensor.from('float32', [3, 2], [1, 2, 3, 4, 5, 6]));
  const [y] = b.node('MatMul', [x, w], {}, { name: 'mm' });
  const [z] = b.node('LeakyRelu', [y], { alpha: attr.float(0.5) }, { name: 'act' });
  const [s] = b.node('Split', [z], { axis: 1 }, { name: 'split', outputs: ['s0', 's1'] });
  b.node('Add', [s, 's1'], {}, { name: 'add', outputs: ['out'] });
  b.output('out', 'float32', ['N', 1]);
  return b.buildGraph();
}

describe('ir: Graph', () => {
  it('print() is stable', () => {
    assert.equal(small().print(), [
      'graph small (x: float32[N,3]) -> (out: float32[N,1])',
      '  init w: float32[3,2]',
      '  mm:0 = MatMul(x, w)  # mm',
      '  act:0 = LeakyRelu[alpha=0.5](mm:0)  # act',
      '  s0, s1 = Split[axis=1](act:0)  # split',
      '  out = Add(s0, s1)  # add',
    ].join('\n'));
  });

  it('verify() accepts a good graph', () => {
    small().verify();
  });

  it('verify() catches a value produced twice', () => {
    const g = small();
    g.nodes.push(new Node({ name: 'again', opType: 'Relu', inputs: ['x'], outputs: ['s0'] }));
    assert.throws(() => g.verify(), (e: unknown) => e instanceof GraphError && /'s0' is produced more than once/.test(e.message));
    const h = small();
    h.nodes[0].outputs = ['x'];
    assert.throws(() => h.verify(), /'x' is produced more than once/);
  });

  it('topoSort() and the builder refuse a value with two producers', () => {
    const g = new Graph('dup');
    g.inputs.push('x');
    g.types.set('x', { dtype: 'float32', shape: [2] });
    g.nodes.push(new Node({ name: 'a', opType: 'Relu', inputs: ['x'], outputs: ['y'] }));
    g.nodes.push(new Node({ name: 'b', opType: 'Neg', inputs: ['x'], outputs: ['y'] }));
    g.nodes.push(new Node({ name: 'c', opType: 'Abs', inputs: ['y'], outputs: ['z'] }));
    g.outputs.push('z');
    assert.throws(() => g.verify(), (e: unknown) => e instanceof GraphError && /'y' is produced more than once/.test(e.message));
    assert.throws(() => g.topoSort(), (e: unknown) => e instanceof GraphError && /'y' is produced more than once/.test(e.message));
    const m = new Model(g);
    m.opsets.set('', 13);
    const caps = { subgroupSize: 32, maxGroupsX: 65535, maxGroupsY: 65535, maxWorkgroupInvocations: 1024, fp16: false, alignment: 64 };
    for (const fusion of [true, false]) {
      assert.throws(() => buildPlan(m, caps, { fusion }), (e: unknown) => e instanceof GraphError && /'y' is produced more than once/.test(e.message));
    }
  });

  it('verify() catches a use before definition and an unknown input', () => {
    const g = small();
    [g.nodes[0], g.nodes[1]] = [g.nodes[1], g.nodes[0]];
    assert.throws(() => g.verify(), (e: unknown) => e instanceof GraphError && /'mm:0' is used before it is produced/.test(e.message) && (e as GraphError).node?.name === 'act');
    const h = small();
    h.nodes[3].inputs = ['s0', 'nowhere'];
    assert.throws(() => h.verify(), /'nowhere'/);
  });

  it('verify() catches an unknown graph output', () => {
    const g = small();
    g.outputs.push('ghost');
    assert.throws(() => g.verify(), (e: unknown) => e instanceof GraphError && /graph output 'ghost' is never produced/.test(e.message));
  });

  it('verify() checks subgraphs, which may read outer values', () => {
    const b = new GraphBuilder('outer');
    const c = b.input('c', 'bool', []);
    const x = b.input('x', 'float32', [2]);
    const body = b.subgraph('then', (s) => { s.output(s.node('Neg', [x])[0]); });
    const els = b.subgraph('else', (s) => { s.output(s.node('Abs', [x])[0]); });
    b.output(b.node('If', [c], { then_branch: body, else_branch: els })[0]);
    const g = b.buildGraph();
    body.nodes[0].inputs = ['undefined_anywhere'];
    assert.throws(() => g.verify(), /'undefined_anywhere'/);
  });

  it('topoSort() fixes a shuffled graph (seeded shuffles)', () => {
    const seed = Number(process.env.FUZZ_SEED ?? 1234);
    const r = rng(seed);
    const want = small();
    for (let k = 0; k < 20; k++) {
      const g = small();
      for (let i = g.nodes.length - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [g.nodes[i], g.nodes[j]] = [g.nodes[j], g.nodes[i]];
      }
      g.topoSort();
      g.verify();
      assert.equal(g.print(), want.print(), `seed ${seed}, shuffle ${k}`);
    }
  });

  it('topoSort() keeps an already valid order', () => {
    const g = small();
    const before = g.nodes.slice();
    g.topoSort();
    assert.deepEqual(g.nodes, before);
  });

  it('topoSort() reports a cycle', () => {
    const g = new Graph('cyc');
    g.inputs.push('x');
    g.nodes.push(new Node({ name: 'a', opType: 'Add', inputs: ['x', 'b_out'], outputs: ['a_out'] }));
    g.nodes.push(new Node({ name: 'b', opType: 'Relu', inputs: ['a_out'], outputs: ['b_out'] }));
    g.outputs.push('b_out');
    assert.throws(() => g.topoSort(), (e: unknown) => e instanceof GraphError && /cycle/.test(e.message));
  });
});
