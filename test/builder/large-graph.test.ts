/**
 * Large graphs (issue 13, item 4): the optimizer's passes, topological sort, verification and the
 * memory plan are linear (or n log n) in the graph, so a 100,000-node chain builds in seconds; a
 * long chain of elementwise ops fuses into bounded kernels; a cycle is reported in linear time
 * with a bounded message; the memory plan's interval index places exactly what a scan would.
 */
import { strict as assert } from 'assert';
import { buildPlan } from '../../src/builder/builder';
import { planMemory, PlanItem } from '../../src/builder/memory-plan';
import { GraphError } from '../../src/errors';
import { GraphBuilder } from '../../src/ir/builder';
import { Graph, Model, Node } from '../../src/ir/graph';
import { MAX_FUSED_STEPS } from '../../src/ops/fused';
import { PROGRAM_ATTR } from '../../src/ops/fused/program';
import { optimized } from './passes/check';

const CAPS = { subgroupSize: 32, maxGroupsX: 65535, maxGroupsY: 65535, maxWorkgroupInvocations: 1024, fp16: false, alignment: 64 };

function chain(n: number, op: string): Model {
  const b = new GraphBuilder('chain', { '': 13 });
  let x = b.input('x', 'float32', [1, 16]);
  for (let i = 0; i < n; i++) [x] = b.node(op, [x]);
  b.output(x);
  return b.build();
}

describe('large graphs', function () {
  this.timeout(120000);

  it('a 100,000-node Relu chain builds (fusion on) in well under 30 s: one layer', () => {
    const model = chain(100000, 'Relu');
    const t0 = performance.now();
    const plan = buildPlan(model, CAPS);
    const s = (performance.now() - t0) / 1000;
    assert.ok(s < 30, `buildPlan took ${s.toFixed(1)} s`);
    assert.equal(plan.layers.length, 1);
    assert.equal(plan.layers[0].opTypes.length, 100000);
    // the fused name keeps its ends and elides the middle
    const name = plan.layers[0].name;
    assert.ok(name.length < 200 && name.startsWith('Relu_0+') && name.endsWith('+Relu_99999') && name.includes('+...+'), name);
  });

  it('a 20,000-layer plan (fusion off) plans its memory without a quadratic scan', () => {
    const t0 = performance.now();
    const plan = buildPlan(chain(20000, 'Neg'), CAPS, { fusion: false });
    const s = (performance.now() - t0) / 1000;
    assert.equal(plan.layers.length, 20000);
    assert.ok(s < 20, `buildPlan took ${s.toFixed(1)} s`);
    assert.ok(plan.arenaBytes <= 4 * 64 * 2, `a chain needs two live tensors at a time, arena ${plan.arenaBytes}`);
  });

  it(`a chain of elementwise ops fuses into kernels of at most ${MAX_FUSED_STEPS} steps`, () => {
    const n = 3 * MAX_FUSED_STEPS + 5;
    const out = optimized(chain(n, 'Sigmoid')).model;
    const steps = out.graph.nodes.map((node) => (JSON.parse(node.attrs.get(PROGRAM_ATTR)!.value as string) as { steps: unknown[] }).steps.length);
    assert.deepEqual(steps, [MAX_FUSED_STEPS, MAX_FUSED_STEPS, MAX_FUSED_STEPS, 5]);
  });

  it('a cycle through 100,000 nodes is reported in linear time, with a bounded message', () => {
    const g = new Graph('ring');
    g.inputs.push('x');
    const n = 100000;
    for (let k = 0; k < n; k++) g.nodes.push(new Node({ name: `n${k}`, opType: 'Add', inputs: k === 0 ? ['x', `v${n - 1}`] : [`v${k - 1}`], outputs: [`v${k}`] }));
    g.outputs.push(`v${n - 1}`);
    const t0 = performance.now();
    assert.throws(() => g.topoSort(), (e: unknown) => {
      assert.ok(e instanceof GraphError);
      assert.match(e.message, /cycle of 100000 node\(s\): n0 \(Add\) -> n1 \(Add\) -> .* more .* -> n99999 \(Add\) -> back to the first/);
      assert.ok(e.message.length < 400, e.message);
      return true;
    });
    assert.ok(performance.now() - t0 < 5000);
  });

  it('a cycle behind other nodes names only the nodes on it', () => {
    const g = new Graph('g');
    g.inputs.push('x');
    g.nodes.push(new Node({ name: 'a', opType: 'Relu', inputs: ['x'], outputs: ['a'] }));
    g.nodes.push(new Node({ name: 'b', opType: 'Add', inputs: ['a', 'd'], outputs: ['b'] }));
    g.nodes.push(new Node({ name: 'c', opType: 'Relu', inputs: ['b'], outputs: ['c'] }));
    g.nodes.push(new Node({ name: 'd', opType: 'Relu', inputs: ['c'], outputs: ['d'] }));
    g.nodes.push(new Node({ name: 'e', opType: 'Relu', inputs: ['d'], outputs: ['e'] }));
    g.outputs.push('e');
    assert.throws(() => g.topoSort(), /cycle of 3 node\(s\): b \(Add\) -> c \(Relu\) -> d \(Relu\) -> back to the first; 4 node\(s\) in all wait on it/);
  });

  it('the memory plan places exactly what a scan of every placed tensor would', () => {
    // the former O(n^2) placement, kept here as the oracle
    const scan = (items: PlanItem[], alignment: number) => {
      const order = items.slice().sort((a, b) => b.size - a.size || a.start - b.start || (a.id < b.id ? -1 : 1));
      const placed: { it: PlanItem; offset: number }[] = [];
      const out = new Map<string, number>();
      for (const it of order) {
        const busy = placed.filter((p) => p.it.start <= it.end && it.start <= p.it.end).map((p) => [p.offset, p.offset + p.it.size]).sort((a, b) => a[0] - b[0]);
        let offset = 0;
        for (const [lo, hi] of busy) {
          if (offset + it.size <= lo) break;
          offset = Math.max(offset, Math.ceil(hi / alignment) * alignment);
        }
        placed.push({ it, offset });
        out.set(it.id, offset);
      }
      return out;
    };
    let seed = 7;
    const r = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let trial = 0; trial < 30; trial++) {
      const items: PlanItem[] = [];
      const n = 1 + Math.floor(r() * 200);
      for (let k = 0; k < n; k++) {
        const start = Math.floor(r() * 60) - 1;
        items.push({ id: `t${k}`, size: 4 + Math.floor(r() * 4) * 64 + Math.floor(r() * 3) * 1000, start, end: start + Math.floor(r() * (r() < 0.1 ? 60 : 5)) });
      }
      assert.deepEqual(planMemory(items, 64).offsets, scan(items, 64), `trial ${trial}`);
    }
  });
});
