import { strict as assert } from 'assert';
import { checkPlan, planMemory, PlanItem } from '../../src/builder/memory-plan';

function rng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
}

describe('memory plan', () => {
  it('reuses the bytes of a chain of layers', () => {
    // a -> b -> c -> d: each tensor lives from its producer to its consumer
    const items: PlanItem[] = ['a', 'b', 'c', 'd'].map((id, k) => ({ id, size: 1000, start: k, end: k + 1 }));
    const plan = planMemory(items, 256);
    checkPlan(items, plan);
    assert.equal(plan.naiveBytes, 4000);
    assert.ok(plan.arenaBytes <= 2 * 1024, `arena ${plan.arenaBytes}`);
  });

  it('places aliases inside their root and extends its lifetime', () => {
    const items: PlanItem[] = [
      { id: 'x', size: 512, start: 0, end: 1 },
      { id: 'view', size: 512, start: 1, end: 5, aliasOf: 'x' },
      { id: 'cat', size: 1024, start: 2, end: 6 },
      { id: 'slice1', size: 512, start: 2, end: 6, aliasOf: 'cat', aliasOffset: 512 },
      { id: 'y', size: 512, start: 2, end: 3 },
    ];
    const plan = planMemory(items, 256);
    checkPlan(items, plan);
    assert.equal(plan.offsets.get('view'), plan.offsets.get('x'));
    assert.equal(plan.offsets.get('slice1'), plan.offsets.get('cat')! + 512);
    // 'y' is live while 'view' (hence 'x') is: they must not overlap
    const y = plan.offsets.get('y')!, x = plan.offsets.get('x')!;
    assert.ok(y >= x + 512 || x >= y + 512);
  });

  it('never overlaps live tensors on random graphs and beats the naive sum', () => {
    const r = rng(42);
    for (let trial = 0; trial < 50; trial++) {
      const items: PlanItem[] = [];
      for (let k = 0; k < 40; k++) {
        const start = Math.floor(r() * 30);
        items.push({ id: `t${k}`, size: 1 + Math.floor(r() * 5000), start, end: start + Math.floor(r() * 6) });
      }
      const plan = planMemory(items, 64);
      checkPlan(items, plan);
      for (const [id, off] of plan.offsets) assert.equal(off % 64, 0, `${id} misaligned`);
      assert.ok(plan.arenaBytes <= plan.naiveBytes + 64 * items.length);
    }
  });
});
