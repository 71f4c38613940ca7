/**
 * Kernel auto-tuning (src/builder/tuning): the choice follows the measured times (injected fake
 * timings), levels decide what is timed, identical layers are timed once, the timing cache
 * round-trips and is scoped to its device and shapes, and a real tuned build on the device works.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildEngineAsync } from '../../src/api/build';
import { buildSerialized, buildSerializedAsync } from '../../src/builder/build';
import type { SelectionRequest } from '../../src/builder/selection';
import type { CandidateTimer } from '../../src/builder/tuning/measure';
import { TimingCache, timingScope } from '../../src/builder/tuning/timing-cache';
import { GraphBuilder } from '../../src/ir/builder';
import { Tensor } from '../../src/ir/tensor';
import type { KernelImpl } from '../../src/kernel/contract';
import { interpret } from '../../src/ops/interpreter';
import { compareTensors } from '../../src/conformance/compare';
import { useGpu } from '../helpers/gpu';

/** Two MatMul layers of the same shapes (one signature) and one of another shape. */
function mlp(m = 8) {
  const b = new GraphBuilder('mlp');
  const x = b.input('x', 'float32', [m, 32]);
  const w = (name: string, k: number, n: number) => b.initializer(name, new Tensor('float32', [k, n], Float32Array.from({ length: k * n }, (_, i) => ((i * 7) % 13) / 13 - 0.5)));
  const [h1] = b.node('MatMul', [x, w('w1', 32, 32)], {}, { name: 'mm1' });
  const [a1] = b.node('Tanh', [h1], {}, { name: 'act1' });
  const [h2] = b.node('MatMul', [a1, w('w2', 32, 32)], {}, { name: 'mm2' });
  const [a2] = b.node('Tanh', [h2], {}, { name: 'act2' });
  const [y] = b.node('MatMul', [a2, w('w3', 32, 16)], {}, { name: 'mm3' });
  b.output(y, 'float32', [m, 16]);
  return b.build();
}

/** Fake timings by candidate name (a function of the name, so every layer agrees), counting calls. */
class FakeTimer implements CandidateTimer {
  calls: string[] = [];
  constructor(private readonly ms: (impl: KernelImpl, r: SelectionRequest) => number) {}
  async time(r: SelectionRequest, impl: KernelImpl): Promise<number> {
    this.calls.push(`${r.node.name}:${impl.name}`);
    return this.ms(impl, r);
  }
}

describe('auto-tuning', function () {
  this.timeout(120000);
  const gpu = useGpu();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vkrt-tuning-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const candidates = (device = gpu.device) => {
    const names: string[][] = [];
    buildSerialized(mlp(), device, { selection: { name: 'spy', choose: (r) => { names.push(r.candidates.map((c) => c.name)); return r.candidates[0]; } } });
    return names;
  };

  it('picks the fastest timed candidate of each layer; ties keep the heuristic order', async () => {
    const names = candidates();
    assert.ok(names.every((n) => n.length >= 2), `MatMul offers several candidates: ${JSON.stringify(names)}`);
    const last = names[0][names[0].length - 1];
    const slowFirst = new FakeTimer((impl) => (impl.name === last ? 1 : 5));
    const built = await buildSerializedAsync(mlp(), gpu.device, { optimizationLevel: 5 }, { timer: slowFirst });
    for (const l of built.plan.layers.filter((l) => l.opTypes.includes('MatMul'))) {
      assert.equal(l.kernel, last, l.name);
      assert.equal(l.tactic?.ms, 1);
    }
    const tie = new FakeTimer(() => 2);
    const tied = await buildSerializedAsync(mlp(), gpu.device, { optimizationLevel: 5 }, { timer: tie });
    assert.deepEqual(tied.plan.layers.filter((l) => l.opTypes.includes('MatMul')).map((l) => l.kernel), names.map((n) => n[0]));
  });

  it('a candidate that fails to run is skipped; when all fail the heuristic choice stands', async () => {
    const names = candidates();
    const second = names[0][1];
    const failFirst = new FakeTimer((impl) => { if (impl.name !== second) throw new Error('boom'); return 3; });
    const lines: string[] = [];
    const built = await buildSerializedAsync(mlp(), gpu.device, { optimizationLevel: 5, log: (l) => lines.push(l) }, { timer: failFirst });
    assert.equal(built.plan.layers.find((l) => l.name.startsWith('mm1'))!.kernel, second);
    assert.ok(built.tuning.failures > 0 && lines.some((l) => /failed to run \(boom\)/.test(l)));
    const allFail = new FakeTimer(() => { throw new Error('no'); });
    const fallback = await buildSerializedAsync(mlp(), gpu.device, { optimizationLevel: 5 }, { timer: allFail });
    assert.deepEqual(fallback.plan.layers.filter((l) => l.opTypes.includes('MatMul')).map((l) => l.kernel), names.map((n) => n[0]));
  });

  it('levels decide what is timed: 0 nothing, 1 the first two candidates, 5 all; identical layers are timed once', async () => {
    const names = candidates();
    const t0 = new FakeTimer(() => 1);
    const b0 = await buildSerializedAsync(mlp(), gpu.device, { optimizationLevel: 0 }, { timer: t0 });
    assert.equal(t0.calls.length, 0);
    assert.equal(b0.plan.layers.find((l) => l.name.startsWith('mm1'))!.tactic, undefined);
    const t1 = new FakeTimer(() => 1);
    await buildSerializedAsync(mlp(), gpu.device, { optimizationLevel: 1 }, { timer: t1 });
    // mm1 and mm2 share a signature: 2 candidates for them together, 2 for mm3
    assert.equal(t1.calls.length, 4, t1.calls.join(' '));
    const t5 = new FakeTimer(() => 1);
    const b5 = await buildSerializedAsync(mlp(), gpu.device, { optimizationLevel: 5 }, { timer: t5 });
    assert.equal(t5.calls.length, names[0].length + names[2].length, t5.calls.join(' '));
    assert.equal(b5.tuning.cacheHits, names[1].length);
  });

  it('the timing cache round-trips: a second build times nothing and picks the same tactics', async () => {
    const file = path.join(tmp, 'cache.json');
    const timer = new FakeTimer((impl) => impl.name.length % 3 + 1);
    const first = await buildSerializedAsync(mlp(), gpu.device, { optimizationLevel: 5, timingCache: file }, { timer });
    assert.ok(fs.existsSync(file) && timer.calls.length > 0);
    const again = new FakeTimer(() => { throw new Error('must not time'); });
    const second = await buildSerializedAsync(mlp(), gpu.device, { optimizationLevel: 5, timingCache: file }, { timer: again });
    assert.equal(again.calls.length, 0);
    assert.equal(second.tuning.candidatesTimed, 0);
    assert.deepEqual(second.plan.layers.map((l) => l.kernel), first.plan.layers.map((l) => l.kernel));
    // a synchronous build reads the same cache
    assert.deepEqual(buildSerialized(mlp(), gpu.device, { optimizationLevel: 5, timingCache: file }).plan.layers.map((l) => l.kernel), first.plan.layers.map((l) => l.kernel));
    // another shape is another signature: it misses
    const other = new FakeTimer(() => 1);
    await buildSerializedAsync(mlp(16), gpu.device, { optimizationLevel: 5, timingCache: file }, { timer: other });
    assert.ok(other.calls.length > 0);
    // saving merged both builds' timings
    const merged = TimingCache.load(file, gpu.device, () => assert.fail('no warning expected'));
    assert.ok(merged.size >= timer.calls.length + other.calls.length, `${merged.size} entries`);
  });

  it('a corrupt, foreign or other-device cache is ignored with a warning, never an error', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const corrupt = path.join(tmp, 'corrupt.json');
      fs.writeFileSync(corrupt, '{"format":"vkrt-timing-cache", "version": 1, "sco');
      const foreign = path.join(tmp, 'foreign.json');
      fs.writeFileSync(foreign, JSON.stringify({ hello: 'world' }));
      const otherDevice = path.join(tmp, 'other-device.json');
      const c = new TimingCache(timingScope({ info: { ...gpu.device.info, deviceId: gpu.device.info.deviceId + 1 } }));
      c.set('x', 1);
      c.save(otherDevice);
      for (const file of [corrupt, foreign, otherDevice]) {
        const timer = new FakeTimer(() => 1);
        await buildSerializedAsync(mlp(), gpu.device, { optimizationLevel: 5, timingCache: file }, { timer });
        assert.ok(timer.calls.length > 0, `${file}: timed from scratch`);
      }
      await new Promise((r) => setImmediate(r));
      assert.ok(warnings.some((w) => /corrupt\.json ignored: not a timing cache/.test(w)), warnings.join('\n'));
      assert.ok(warnings.some((w) => /foreign\.json ignored: not a vkrt timing cache/.test(w)), warnings.join('\n'));
      assert.ok(warnings.some((w) => /other-device\.json ignored: made for/.test(w)), warnings.join('\n'));
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a tuned build on the device times real candidates and still computes the right result', async () => {
    const lines: string[] = [];
    const progress: number[] = [];
    const engine = await buildEngineAsync(mlp(), { device: gpu.device, log: (l) => lines.push(l), onProgress: (p) => progress.push(p.layer) });
    try {
      const mm = engine.plan.layers.filter((l) => l.opTypes.includes('MatMul'));
      assert.ok(mm.every((l) => l.tactic && l.tactic.candidates >= 2 && (l.tactic.ms ?? 0) > 0), JSON.stringify(mm.map((l) => l.tactic)));
      assert.ok(lines.some((l) => /^tuning: level 3, 3 layers tuned, \d+ candidates timed/.test(l)), lines.join('\n'));
      assert.deepEqual(progress, [1, 2, 3]);
      const x = new Tensor('float32', [8, 32], Float32Array.from({ length: 256 }, (_, i) => Math.cos(i)));
      const out = await engine.createExecutionContext().execute({ x });
      const ref = interpret(mlp(), new Map([['x', x]]));
      for (const [k, v] of ref) assert.equal(compareTensors(v as Tensor, out.get(k)!, { rtol: 1e-4, atol: 1e-5 }), undefined);
    } finally {
      engine.dispose();
    }
  });
});
