/** GraphBuilder: attribute inference, names, opsets, subgraphs, errors. */
import { strict as assert } from 'assert';
import { GraphError } from '../../src/errors';
import { attr, DEFAULT_OPSET, GraphBuilder, toAttr } from '../../src/ir/builder';
import { Tensor } from '../../src/ir/tensor';
import { parseModel } from '../../src/onnx/parse';
import { serializeModel } from '../../src/onnx/serialize';

describe('ir: GraphBuilder', () => {
  it('infers attribute types from plain values, helpers force them', () => {
    assert.deepEqual(toAttr('a', 3), { type: 'int', value: 3 });
    assert.deepEqual(toAttr('a', 0.5), { type: 'float', value: 0.5 });
    assert.deepEqual(toAttr('a', true), { type: 'int', value: 1 });
    assert.deepEqual(toAttr('a', 5n), { type: 'int', value: 5 });
    assert.deepEqual(toAttr('a', 'x'), { type: 'string', value: 'x' });
    assert.deepEqual(toAttr('a', [1, 2]), { type: 'ints', value: [1, 2] });
    assert.deepEqual(toAttr('a', [1, 2.5]), { type: 'floats', value: [1, 2.5] });
    assert.deepEqual(toAttr('a', []), { type: 'ints', value: [] });
    assert.deepEqual(toAttr('a', ['p', 'q']), { type: 'strings', value: ['p', 'q'] });
    assert.equal(toAttr('a', Tensor.scalar('float32', 1)).type, 'tensor');
    assert.deepEqual(attr.float(1), { type: 'float', value: 1 });
    assert.deepEqual(attr.floats([1, 2]), { type: 'floats', value: [1, 2] });
    assert.throws(() => toAttr('a', [1, 'x'] as never), GraphError);
  });

  it('builds a model with default opset, generated names and explicit outputs', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', [2, 2]);
    const [y] = b.node('Relu', [x]);
    const outs = b.node('TopK', [y, b.constant(Tensor.from('int64', [1], [1]), 'k')], { axis: -1 }, { outputs: 2 });
    assert.equal(outs.length, 2);
    assert.notEqual(outs[0], outs[1]);
    b.output(outs[0]).output(outs[1]);
    const m = b.build();
    assert.equal(m.opset(''), DEFAULT_OPSET);
    assert.equal(m.irVersion, 10);
    assert.deepEqual(m.graph.nodes.map((n) => n.name), ['Relu_0', 'TopK_1']);
    assert.ok(m.graph.initializers.has('k'));
  });

  it('optional inputs, custom domains and opsets', () => {
    const b = new GraphBuilder('g', { 'ai.onnx': 13 });
    const x = b.input('x', 'float32', [4]);
    const [y] = b.node('Clip', [x, undefined, null]);
    const [z] = b.node('Gelu', [y], {}, { domain: 'com.microsoft' });
    b.output(z);
    const m = b.build();
    assert.deepEqual(m.graph.nodes[0].inputs, ['x', '', '']);
    assert.equal(m.opset(''), 13);
    assert.equal(m.opset('com.microsoft'), 1);
    const back = parseModel(serializeModel(m));
    assert.equal(back.graph.print(), m.graph.print());
  });

  it('refuses redefinitions, unknown inputs and duplicate node names', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', [1]);
    assert.throws(() => b.input('x', 'float32', [1]), /already defined/);
    assert.throws(() => b.node('Relu', ['nope']), /'nope' is not defined yet/);
    b.node('Relu', [x], {}, { name: 'r', outputs: ['y'] });
    assert.throws(() => b.node('Relu', [x], {}, { outputs: ['y'] }), /already defined/);
    assert.throws(() => b.node('Relu', [x], {}, { name: 'r' }), /already used/);
    b.output('ghost');
    assert.throws(() => b.build(), /graph output 'ghost' is never produced/);
  });

  it('subgraphs read outer values and share the opsets', () => {
    const b = new GraphBuilder('outer');
    const n = b.input('n', 'int64', []);
    const x = b.input('x', 'float32', [2]);
    const body = b.subgraph('body', (s) => {
      s.input('i', 'int64', []);
      const cond = s.input('cond_in', 'bool', []);
      const acc = s.input('acc', 'float32', [2]);
      const [c] = s.node('Identity', [cond]);
      const [next] = s.node('Add', [acc, x]);
      s.output(c).output(next);
    });
    const [out] = b.node('Loop', [n, '', x], { body });
    b.output(out);
    const m = b.build();
    assert.equal(body.parent, m.graph);
    const back = parseModel(serializeModel(m));
    assert.equal(back.graph.print(), m.graph.print());
  });
});
