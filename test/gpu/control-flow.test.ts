/**
 * If, Loop and Scan on the GPU: the builder unrolls them (src/builder/passes/unroll.ts) and the
 * engine's results must equal the reference interpreter's, which runs the control flow as written.
 * Covers Scan-9 axes and directions, Scan-8's batch axis, Loop trip counts and conditions that fold
 * per iteration, nested control flow, outer-scope values, If on a build-time and on a run-time
 * condition; and the typed errors where unrolling is impossible.
 */
import { strict as assert } from 'assert';
import { Attr, Graph, Model, Node } from '../../src/ir/graph';
import { DType } from '../../src/ir/dtype';
import { Tensor } from '../../src/ir/tensor';
import { Device } from '../../src/gpu';
import { interpret } from '../../src/ops/interpreter';
import { buildEngine } from '../../src/api/build';
import { compareTensors } from '../../src/conformance/compare';
import { UnsupportedError } from '../../src/errors';
import { unrollLimits } from '../../src/builder/passes/unroll';
import { openDevice } from '../helpers/gpu';
import { randomTensor } from '../helpers/gpu-op';

const int = (value: number): Attr => ({ type: 'int', value });
const ints = (value: number[]): Attr => ({ type: 'ints', value });
const graph = (value: Graph): Attr => ({ type: 'graph', value });

function node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}): Node {
  return new Node({ opType, inputs, outputs, attrs });
}

function sub(name: string, inputs: [string, DType, (number | string)[]][], outputs: string[], nodes: Node[], initializers: [string, Tensor][] = []): Graph {
  const g = new Graph(name);
  g.inputs = inputs.map(([n]) => n);
  for (const [n, dtype, shape] of inputs) g.types.set(n, { kind: 'tensor', dtype, shape });
  g.outputs = outputs;
  g.nodes = nodes;
  for (const [n, t] of initializers) g.initializers.set(n, t);
  return g;
}

function model(g: Graph, opset: number): Model {
  for (const n of g.nodes) for (const a of n.attrs.values()) if (a.type === 'graph') (a.value as Graph).parent = g;
  const m = new Model(g);
  m.opsets.set('', opset);
  return m;
}

function topLevel(name: string, inputs: Tensor[], inNames: string[], outputs: string[], nodes: Node[], initializers: [string, Tensor][] = []): { g: Graph; feeds: Map<string, Tensor> } {
  const g = sub(name, inNames.map((n, i) => [n, inputs[i].dtype, [...inputs[i].dims]]), outputs, nodes, initializers);
  return { g, feeds: new Map(inNames.map((n, i) => [n, inputs[i]])) };
}

describe('GPU control flow (If, Loop, Scan unrolled at build)', function () {
  this.timeout(300000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());

  async function check(m: Model, feeds: Map<string, Tensor>): Promise<void> {
    const ref = interpret(m, feeds);
    const engine = buildEngine(m, { device });
    try {
      assert.ok(engine.plan.layers.length > 0, 'the engine computes on the GPU');
      const out = await engine.createExecutionContext().execute(feeds);
      for (const name of m.graph.outputs) {
        const got = out.get(name);
        assert.ok(got, `output ${name}`);
        assert.equal(compareTensors(ref.get(name) as Tensor, got, { rtol: 1e-5, atol: 1e-5 }), undefined, `output ${name}`);
      }
    } finally {
      engine.dispose();
    }
  }

  it('Scan-9: two states, scan axes and directions, an outer-scope value', async () => {
    // state s1 += x_t * w (w from the outer graph), s2 = max(s2, y_t); outputs s1 per step and s1 - y_t reversed along axis 1
    const body = sub('body', [['s1', 'float32', [3]], ['s2', 'float32', [3]], ['xt', 'float32', [3]], ['yt', 'float32', [3]]], ['s1o', 's2o', 'o1', 'o2'], [
      node('Mul', ['xt', 'w'], ['xw']),
      node('Add', ['s1', 'xw'], ['s1o']),
      node('Max', ['s2', 'yt'], ['s2o']),
      node('Identity', ['s1o'], ['o1']),
      node('Sub', ['s1o', 'yt'], ['o2']),
    ]);
    const x = randomTensor('float32', [7, 3], 1), y = randomTensor('float32', [3, 7], 2);
    const { g, feeds } = topLevel('scan9', [x, y, randomTensor('float32', [3], 3), randomTensor('float32', [3], 4)], ['x', 'y', 'init1', 'init2'], ['f1', 'f2', 'z1', 'z2'], [
      node('Scan', ['init1', 'init2', 'x', 'y'], ['f1', 'f2', 'z1', 'z2'], {
        body: graph(body), num_scan_inputs: int(2), scan_input_axes: ints([0, 1]), scan_input_directions: ints([0, 1]),
        scan_output_axes: ints([0, 1]), scan_output_directions: ints([1, 0]),
      }),
    ], [['w', randomTensor('float32', [3], 5)]]);
    await check(model(g, 16), feeds);
  });

  it('Scan-8: a batch axis', async () => {
    const body = sub('body', [['s', 'float32', [2]], ['xt', 'float32', [2]]], ['so', 'o'], [node('Add', ['s', 'xt'], ['so']), node('Mul', ['so', 'xt'], ['o'])]);
    const { g, feeds } = topLevel('scan8', [randomTensor('float32', [3, 2], 6), randomTensor('float32', [3, 5, 2], 7)], ['init', 'x'], ['f', 'z'], [
      node('Scan', ['', 'init', 'x'], ['f', 'z'], { body: graph(body), num_scan_inputs: int(1), directions: ints([1]) }),
    ]);
    await check(model(g, 8), feeds);
  });

  it('Loop: constant trip count, a condition that folds per iteration, scan outputs, nested If', async () => {
    // carried a = a * 0.5 + x; the body's If picks a + i or a - i on whether i is even (known per iteration);
    // cond_out = i < 4, so the loop stops after 5 of its 8 iterations
    const two = Tensor.scalar('int64', 2n), zero = Tensor.scalar('int64', 0n), four = Tensor.scalar('int64', 4n), half = Tensor.from('float32', [1], [0.5]);
    const thenG = sub('then', [], ['t'], [node('Cast', ['i'], ['fi'], { to: int(1) }), node('Add', ['a1', 'fi'], ['t'])]);
    const elseG = sub('else', [], ['e'], [node('Cast', ['i'], ['fi2'], { to: int(1) }), node('Sub', ['a1', 'fi2'], ['e'])]);
    const body = sub('body', [['i', 'int64', []], ['c', 'bool', []], ['a', 'float32', [4]]], ['co', 'ao', 'so'], [
      node('Mul', ['a', 'half'], ['ah']),
      node('Add', ['ah', 'x'], ['a1']),
      node('Mod', ['i', 'two'], ['m']),
      node('Equal', ['m', 'zero'], ['even']),
      node('If', ['even'], ['ao'], { then_branch: graph(thenG), else_branch: graph(elseG) }),
      node('Less', ['i', 'four'], ['co']),
      node('ReduceSum', ['ao'], ['so'], { keepdims: int(1) }),
    ], [['half', half], ['two', two], ['zero', zero], ['four', four]]);
    thenG.parent = body;
    elseG.parent = body;
    const { g, feeds } = topLevel('loop', [randomTensor('float32', [4], 8), randomTensor('float32', [4], 9)], ['x', 'a0'], ['af', 'sums'], [
      node('Loop', ['M', 'cond', 'a0'], ['af', 'sums'], { body: graph(body) }),
    ], [['M', Tensor.scalar('int64', 8n)], ['cond', Tensor.scalar('bool', 1)]]);
    await check(model(g, 13), feeds);
  });

  it('Loop without a trip count, ended by its condition; a Scan inside a Loop', async () => {
    const inner = sub('inner', [['s', 'float32', [2]], ['xt', 'float32', [2]]], ['so', 'o'], [node('Add', ['s', 'xt'], ['so']), node('Identity', ['so'], ['o'])]);
    const three = Tensor.scalar('int64', 3n);
    const body = sub('body', [['i', 'int64', []], ['c', 'bool', []], ['a', 'float32', [2]]], ['co', 'ao', 'zo'], [
      node('Scan', ['a', 'x'], ['ao', 'zo'], { body: graph(inner), num_scan_inputs: int(1) }),
      node('Less', ['i', 'three'], ['co']),
    ], [['three', three]]);
    inner.parent = body;
    const { g, feeds } = topLevel('loop2', [randomTensor('float32', [4, 2], 10), randomTensor('float32', [2], 11)], ['x', 'a0'], ['af', 'zs'], [
      node('Loop', ['', 'cond', 'a0'], ['af', 'zs'], { body: graph(body) }),
    ], [['cond', Tensor.scalar('bool', 1)]]);
    await check(model(g, 16), feeds);
  });

  it('If: a build-time condition inlines a branch; a run-time one selects on the GPU', async () => {
    const branches = () => ({
      then_branch: graph(sub('then', [], ['t'], [node('Mul', ['x', 'x'], ['t'])])),
      else_branch: graph(sub('else', [], ['e'], [node('Neg', ['x'], ['e'])])),
    });
    const x = randomTensor('float32', [2, 5], 12);
    const a = topLevel('if_const', [x], ['x'], ['y'], [node('If', ['c'], ['y'], branches())], [['c', Tensor.from('bool', [1], [0])]]);
    const ma = model(a.g, 13);
    await check(ma, a.feeds);
    for (const cv of [0, 1]) {
      const b = topLevel('if_run', [x, Tensor.from('bool', [1], [cv])], ['x', 'c'], ['y'], [node('If', ['c'], ['y'], branches())]);
      const mb = model(b.g, 13);
      await check(mb, b.feeds);
      const engine = buildEngine(mb, { device });
      try {
        assert.ok(engine.plan.layers.some((l) => l.opTypes.includes('Where')), 'a Where selects the branch');
      } finally {
        engine.dispose();
      }
    }
  });

  it('typed errors: a run-time trip count, branches of different shapes, the node budget', () => {
    const body = sub('body', [['i', 'int64', []], ['c', 'bool', []], ['a', 'float32', [2]]], ['c', 'ao'], [node('Add', ['a', 'a'], ['ao'])]);
    const mk = (M: Tensor | undefined) => {
      const t = topLevel('loop', M ? [randomTensor('float32', [2], 1)] : [randomTensor('float32', [2], 1), Tensor.scalar('int64', 3n)], M ? ['a0'] : ['a0', 'M'], ['af'], [node('Loop', ['M', '', 'a0'], ['af'], { body: graph(body) })], M ? [['M', M]] : []);
      return model(t.g, 13);
    };
    assert.throws(() => buildEngine(mk(undefined), { device }), (e: Error) => e instanceof UnsupportedError && /trip count 'M' is only known at run time/.test(e.message));
    const saved = unrollLimits.maxNodes;
    unrollLimits.maxNodes = 50;
    try {
      assert.throws(() => buildEngine(mk(Tensor.scalar('int64', 1000n)), { device }), (e: Error) => e instanceof UnsupportedError && /past 50 nodes/.test(e.message));
    } finally {
      unrollLimits.maxNodes = saved;
    }
    const x = randomTensor('float32', [2, 5], 12);
    const t = topLevel('if_shapes', [x, Tensor.from('bool', [], [1])], ['x', 'c'], ['y'], [node('If', ['c'], ['y'], {
      then_branch: graph(sub('then', [], ['t'], [node('Identity', ['x'], ['t'])])),
      else_branch: graph(sub('else', [], ['e'], [node('ReduceSum', ['x'], ['e'], { keepdims: int(1) })])),
    })]);
    assert.throws(() => buildEngine(model(t.g, 13), { device }), (e: Error) => e instanceof UnsupportedError && /differs between the branches/.test(e.message));
  });
});
