/**
 * The rewrite driver: rules are applied to a fixpoint and counted; a rewrite that leaves a used
 * value without a producer is refused with the rule's name; graph outputs keep their names; the
 * caller's model is never changed.
 */
import { strict as assert } from 'assert';
import { GraphState, runPass } from '../../../src/builder/passes/driver';
import { Rule } from '../../../src/builder/passes/rule';
import { GraphBuilder } from '../../../src/ir/builder';
import { Model, Node, ValueType } from '../../../src/ir/graph';
import { registry } from '../../../src/ops/index';
import { feedsFor, ops, optimized, sameReference } from './check';

function chain(): Model {
  const b = new GraphBuilder('t', { '': 13 });
  const x = b.input('x', 'float32', [4]);
  let y = x;
  for (let k = 0; k < 5; k++) y = b.node('Neg', [y], {}, { name: `neg${k}` })[0];
  b.output(y);
  return b.build();
}

function state(model: Model) {
  const types = new Map<string, ValueType>([['x', { dtype: 'float32', shape: [4] }]]);
  const opts = { registry, opsets: model.opsets, types, verify: true };
  return { st: new GraphState(model.graph, opts), opts };
}

describe('rewrite driver', () => {
  it('applies a rule to a fixpoint and counts its matches', () => {
    // Neg(Neg(x)) -> x, as a rule
    const negNeg: Rule = {
      name: 'neg-neg', ops: ['Neg'],
      match(node, g) {
        const p = g.producer(node.inputs[0]);
        if (!p || p.opType !== 'Neg' || !g.usedOnlyBy(node.inputs[0], node)) return undefined;
        return { remove: [p, node], replace: [[node.outputs[0], p.inputs[0]]] };
      },
    };
    const model = chain();
    const { st, opts } = state(model);
    const counts = new Map<string, number>();
    assert.equal(runPass(st, { name: 'p', rules: [negNeg] }, counts, opts), 2);
    assert.equal(counts.get('neg-neg'), 2);
    assert.deepEqual(ops(model), ['Neg']);
    assert.equal(model.graph.outputs[0], 'neg4:0', 'the graph output keeps its name');
    model.graph.verify();
  });

  it('refuses a rewrite that removes a value still in use, naming the rule', () => {
    const broken: Rule = { name: 'broken', ops: ['Neg'], match: (node) => (node.name === 'neg2' ? { remove: [node] } : undefined) };
    const model = chain();
    const { st, opts } = state(model);
    assert.throws(() => runPass(st, { name: 'p', rules: [broken] }, new Map(), opts), /rule broken removed 'neg2:0' \(of neg2\) but it is still used/);
  });

  it('a rewrite may add nodes whose types come from shape inference', () => {
    const toRelu: Rule = {
      name: 'to-relu', ops: ['Neg'],
      match: (node) => (node.name === 'neg0' ? { remove: [node], add: [new Node({ name: 'relu', opType: 'Relu', inputs: node.inputs, outputs: node.outputs })] } : undefined),
    };
    const model = chain();
    const { st, opts } = state(model);
    opts.types.clear();
    opts.types.set('x', { dtype: 'float32', shape: [4] });
    runPass(st, { name: 'p', rules: [toRelu] }, new Map(), opts);
    assert.deepEqual(opts.types.get('neg0:0'), { dtype: 'float32', shape: [4] });
  });

  it('optimize() leaves the caller\'s model alone and the copy computes the same', () => {
    const model = chain();
    const before = model.graph.print();
    const out = optimized(model).model;
    assert.equal(model.graph.print(), before);
    assert.deepEqual(ops(out), ['vkrt::FusedElementwise']);
    sameReference(model, out, feedsFor(model));
  });
});
