/**
 * Builds keep the event loop responsive: a 5 ms interval timer runs during a build of a
 * MobileNetV2-shaped network (224x224) and the worst delay between its ticks is measured, for the
 * blocking buildEngine (the "before") and for buildEngineAsync / InferenceSession.create.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildEngine, buildEngineAsync } from '../../src/api/build';
import { Builder, InferenceSession } from '../../src/api/session';
import type { BuildProgress } from '../../src/builder/builder';
import { Device } from '../../src/gpu/device';
import { mobilenetV2Like } from '../../src/models/nets';
import { serializeModel } from '../../src/onnx/serialize';
import { loadModel } from '../../src/onnx/parse';
import { ParseError } from '../../src/errors';
import { ensureDriver } from '../helpers/gpu';

/** Runs `work` while a 5 ms interval ticks; resolves to the worst gap between ticks beyond 5 ms. */
async function worstDelay<T>(work: () => Promise<T> | T): Promise<{ result: T; worstMs: number; ticks: number }> {
  let last = performance.now();
  let worst = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 5);
    last = now;
    ticks++;
  }, 5);
  try {
    await new Promise((r) => setTimeout(r, 20));
    last = performance.now();
    const result = await work();
    const now = performance.now();
    worst = Math.max(worst, now - last - 5); // a stall that ends with the work counts too
    return { result, worstMs: worst, ticks };
  } finally {
    clearInterval(timer);
  }
}

describe('builds keep the event loop responsive', function () {
  this.timeout(600000);
  let dir: string;
  let onnx: string;
  let device: Device;
  // The work left on the main thread is small steps (message decode, one weight chunk, recording
  // the program); measured 25-55 ms worst on a quiet-ish 2-core machine. The default bar leaves room
  // for a loaded CI machine (other processes take the cores); VKRT_EVENT_LOOP_LIMIT_MS tightens it.
  const LIMIT_MS = Number(process.env.VKRT_EVENT_LOOP_LIMIT_MS ?? 250);

  before(() => {
    ensureDriver();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vkrt-loop-'));
    onnx = path.join(dir, 'mnv2.onnx');
    fs.writeFileSync(onnx, serializeModel(mobilenetV2Like({ size: 224 })));
    device = Device.create({ validation: !!process.env.VKRT_VALIDATION });
  });
  after(() => {
    device?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  let blockingMs = 0;
  it('before: the blocking buildEngine stalls the loop for the whole build', async () => {
    const model = loadModel(onnx);
    const r = await worstDelay(() => buildEngine(model, { device }));
    blockingMs = r.worstMs;
    console.log(`      buildEngine (blocking): worst timer delay ${r.worstMs.toFixed(0)} ms`);
    r.result.dispose();
  });

  it('buildEngineAsync (optimizationLevel 0: the build in a worker): worst timer delay stays small, progress covers every phase in order', async () => {
    const seen: BuildProgress[] = [];
    const r = await worstDelay(() => buildEngineAsync(onnx, { device, optimizationLevel: 0, progress: (p) => seen.push(p) }));
    console.log(`      buildEngineAsync: worst timer delay ${r.worstMs.toFixed(0)} ms over ${r.ticks} ticks (blocking: ${blockingMs.toFixed(0)} ms)`);
    try {
      assert.ok(r.worstMs < LIMIT_MS, `worst delay ${r.worstMs.toFixed(0)} ms`);
      assert.ok(r.worstMs < blockingMs / 4, `worst delay ${r.worstMs.toFixed(0)} ms vs ${blockingMs.toFixed(0)} ms blocking`);
      assert.ok(r.ticks > 20, `only ${r.ticks} ticks`);
      const phases = [...new Set(seen.map((p) => p.phase))];
      assert.deepEqual(phases, ['parse', 'input shapes', 'control flow', 'optimize', 'shapes', 'big tensors', 'kernel selection and precision', 'tensor pieces', 'inputs and outputs', 'memory plan', 'weight layout', 'binding limits', 'shaders', 'pipelines', 'done']);
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i].fraction >= seen[i - 1].fraction, `fraction went back at ${i}`);
      assert.equal(seen[seen.length - 1].fraction, 1);
      const shader = seen.find((p) => p.phase === 'shaders')!;
      assert.equal(shader.layers, r.result.plan.layers.length);
    } finally {
      r.result.dispose();
    }
  });

  it('InferenceSession.create builds off the main thread too', async () => {
    const r = await worstDelay(() => InferenceSession.create(onnx, { device }));
    console.log(`      InferenceSession.create: worst timer delay ${r.worstMs.toFixed(0)} ms`);
    assert.ok(r.worstMs < LIMIT_MS, `worst delay ${r.worstMs.toFixed(0)} ms`);
    await r.result.release();
  });

  it('without a worker (worker: false, or a custom kernel selection) the build runs in slices on the main thread', async () => {
    const seen = new Set<string>();
    const e1 = await buildEngineAsync(onnx, { device, optimizationLevel: 0, worker: false, progress: (p) => seen.add(p.phase) });
    assert.ok(seen.has('shaders') && seen.has('pipelines'));
    e1.dispose();
    const e2 = await buildEngineAsync(onnx, { device, optimizationLevel: 0, selection: { name: 'first', choose: (r) => r.candidates[0] } });
    assert.ok(e2.plan.layers.length > 0);
    e2.dispose();
  });

  it('Builder.buildEngineAsync; errors keep their class across the worker', async () => {
    const b = new Builder(device);
    const bad = path.join(dir, 'bad.onnx');
    fs.writeFileSync(bad, Buffer.from('not a model'));
    await assert.rejects(b.buildEngineAsync(bad, { optimizationLevel: 0 }), (e: Error) => e.name === 'ParseError' && (e as { code?: string }).code === 'PARSE' && e instanceof Error);
    await assert.rejects(b.buildEngineAsync(bad, { optimizationLevel: 0 }), ParseError);
    b.dispose();
  });
});
