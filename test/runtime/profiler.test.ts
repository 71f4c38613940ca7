/**
 * The profiler: one reportLayerTime per engine layer, in execution order, named as the layers,
 * positive, summing to the run's GPU time; no queries without a profiler; a device that cannot
 * time says so once and turns profiling off.
 */
import { strict as assert } from 'assert';
import { InputError } from '../../src/errors';
import { mobilenetV2Like } from '../../src/models/nets';
import { randomInputs } from '../../src/cli/exec';
import { Engine } from '../../src/runtime/engine';
import { LayerProfile } from '../../src/runtime/profiler';
import { openDevice, useGpu } from '../helpers/gpu';
import type { Program } from '../../src/gpu/program';
import { buildEngine } from '../../src/api/build';
import { ExecutionContext } from '../../src/runtime/context';

/** The context's recorded programs of the engine's plan by timestamp mode (private; read for the no-queries check). */
function programs(ctx: ExecutionContext): Map<string, Program> {
  const all = (ctx as unknown as { programs: Map<unknown, Map<string, Program>> }).programs.get(ctx.engine.specializations.base)!;
  // keys are mode|slot|device-tensor inputs|device-tensor outputs; runs one at a time use slot 0 only
  for (const k of all.keys()) assert.ok(k.endsWith('|0||'), `a program of another staging slot: ${k}`);
  return new Map([...all].map(([k, p]) => [k.split('|')[0], p]));
}

describe('per-layer profiler', function () {
  this.timeout(300000);
  const gpu = useGpu();
  let engine: Engine;
  before(() => { engine = buildEngine(mobilenetV2Like({ size: 16 }), { device: gpu.device }); });
  after(() => engine?.dispose());

  it('reports every layer once per run, in execution order, positive, summing to the GPU compute time', async () => {
    const ctx = engine.createExecutionContext();
    const calls: [string, number][] = [];
    ctx.profiler = { reportLayerTime: (name, ms) => calls.push([name, ms]) };
    const inputs = randomInputs(engine.inputs);
    for (let run = 0; run < 3; run++) {
      calls.length = 0;
      await ctx.execute(inputs);
      const t = ctx.lastTiming!;
      assert.deepEqual(calls.map((c) => c[0]), engine.plan.layers.map((l) => l.name));
      for (const [name, ms] of calls) assert.ok(ms > 0 && Number.isFinite(ms), `${name}: ${ms} ms`);
      const sum = calls.reduce((a, c) => a + c[1], 0);
      assert.ok(t.gpuMs !== undefined && t.gpuMs > 0);
      assert.ok(Math.abs(sum - t.gpuMs) <= 1e-6 * t.gpuMs + 1e-6, `layers sum to ${sum} ms, GPU compute ${t.gpuMs} ms`);
      // the GPU cannot have worked longer than the host waited for it (timestamp clock vs host clock)
      assert.ok(sum <= t.waitMs * 1.05 + 0.05, `layers ${sum} ms > host wait ${t.waitMs} ms`);
      assert.ok(t.h2dMs >= 0 && t.enqueueMs >= 0 && t.d2hMs >= 0 && t.latencyMs >= t.waitMs);
    }
    ctx.dispose();
  });

  it('a context without a profiler records and submits no queries; the profiled program is made on first use', async () => {
    const ctx = engine.createExecutionContext();
    assert.deepEqual([...programs(ctx).keys()], ['none']);
    assert.equal(programs(ctx).get('none')!.timestampCount, 0);
    await ctx.execute(randomInputs(engine.inputs));
    assert.equal(ctx.lastTiming!.gpuMs, undefined);
    assert.equal(ctx.lastTiming!.layerMs, undefined);
    assert.deepEqual([...programs(ctx).keys()], ['none']);
    ctx.gpuTiming = true;
    await ctx.execute(randomInputs(engine.inputs));
    assert.equal(programs(ctx).get('bracket')!.timestampCount, 2);
    assert.ok(ctx.lastTiming!.gpuMs! > 0 && ctx.lastTiming!.layerMs === undefined);
    const profile = new LayerProfile(engine.plan.layers.map((l) => l.name));
    ctx.profiler = profile;
    await ctx.execute(randomInputs(engine.inputs));
    assert.equal(programs(ctx).get('layers')!.timestampCount, engine.plan.layers.length + 1);
    ctx.profiler = undefined;
    await ctx.execute(randomInputs(engine.inputs));
    assert.equal(profile.runs, 1); // the profiler no longer hears about runs
    assert.throws(() => { ctx.profiler = {} as never; }, InputError);
    ctx.dispose();
  });

  it('on a device that cannot time compute work, warns once and turns profiling off', async () => {
    const device = openDevice();
    (device.info as { timestampValidBits: number }).timestampValidBits = 0; // as such a device reports it
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (m: string) => warnings.push(m);
    try {
      const e = buildEngine(mobilenetV2Like({ size: 16 }), { device });
      const a = e.createExecutionContext(), b = e.createExecutionContext();
      const calls: string[] = [];
      a.profiler = { reportLayerTime: (n) => calls.push(n) };
      b.profiler = { reportLayerTime: (n) => calls.push(n) };
      b.gpuTiming = true;
      assert.equal(a.profiler, undefined);
      assert.equal(b.gpuTiming, false);
      await a.execute(randomInputs(e.inputs));
      assert.deepEqual(calls, []);
      assert.equal(a.lastTiming!.gpuMs, undefined);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], /cannot time compute work.*profiling and GPU timing are off/);
      e.dispose();
    } finally {
      console.warn = warn;
      device.dispose();
    }
  });
});
