/**
 * Issue 13, item 2: bounded GPU work. A job that does not finish fails its promise with
 * GpuTimeoutError after the device's GPU timeout, the device is then lost (DeviceLostError for
 * every later use) and abandoned, a new Device works, disposing never blocks, the process exits
 * (naturally once the job timed out, or at once with process.exit()), and the wait occupies no
 * libuv thread-pool thread. Every hung job runs in a child process under a watchdog.
 * VKRT_RELIABILITY_VERBOSE=1 prints each child's measurements.
 */
import { strict as assert } from 'assert';
import { InputError } from '../../src/errors';
import { Device, DEFAULT_GPU_TIMEOUT_MS, resolveGpuTimeoutMs } from '../../src/gpu';
import { ensureDriver, testDeviceIndex, validationWanted } from '../helpers/gpu';
import { describeChild, ROOT, runChild } from './child';
import { hangPrelude } from './hang';

function openDevice(options: { gpuTimeoutMs?: number } = {}): Device {
  return Device.create({ index: testDeviceIndex(), validation: validationWanted(), ...options });
}

/** The JSON a child prints after `marker`. */
function report(stdout: string, marker: string): Record<string, unknown> {
  const m = new RegExp(`${marker} (\\{.*\\})`).exec(stdout);
  assert.ok(m, `no ${marker} line in:\n${stdout}`);
  const out = JSON.parse(m[1]) as Record<string, unknown>;
  if (process.env.VKRT_RELIABILITY_VERBOSE === '1') console.log(`      ${marker} ${JSON.stringify(out)}`);
  return out;
}

describe('reliability: GPU timeout', function () {
  this.timeout(60000);
  before(ensureDriver); // children inherit the driver selection through the environment

  it('is the gpuTimeoutMs option, else VKRT_GPU_TIMEOUT_MS, else 60 s; bad values are InputErrors', () => {
    const saved = process.env.VKRT_GPU_TIMEOUT_MS;
    try {
      delete process.env.VKRT_GPU_TIMEOUT_MS;
      assert.equal(DEFAULT_GPU_TIMEOUT_MS, 60000);
      assert.equal(resolveGpuTimeoutMs(), 60000);
      assert.equal(resolveGpuTimeoutMs(1234), 1234);
      assert.equal(resolveGpuTimeoutMs(0.5), 1);
      process.env.VKRT_GPU_TIMEOUT_MS = '2500';
      assert.equal(resolveGpuTimeoutMs(), 2500);
      assert.equal(resolveGpuTimeoutMs(700), 700);
      const d = openDevice();
      assert.equal(d.info.gpuTimeoutMs, 2500);
      d.dispose();
      for (const bad of [0, -1, NaN, Infinity, 2 ** 41]) assert.throws(() => resolveGpuTimeoutMs(bad), InputError, String(bad));
      process.env.VKRT_GPU_TIMEOUT_MS = 'soon';
      assert.throws(() => resolveGpuTimeoutMs(), (e: unknown) => e instanceof InputError && /VKRT_GPU_TIMEOUT_MS \('soon'\)/.test(e.message));
    } finally {
      if (saved === undefined) delete process.env.VKRT_GPU_TIMEOUT_MS;
      else process.env.VKRT_GPU_TIMEOUT_MS = saved;
    }
  });

  it('work within the timeout runs normally and leaves the device healthy', async () => {
    const d = openDevice({ gpuTimeoutMs: 2000 });
    assert.equal(d.info.gpuTimeoutMs, 2000);
    const b = d.createBuffer(4096, 'readback');
    const p = d.createProgram([{ op: 'fill', dst: b, value: 7 }]);
    for (let i = 0; i < 20; i++) await p.submit();
    assert.ok(new Uint32Array(b.read().buffer).every((v) => v === 7));
    assert.deepEqual(d.health(), { lost: false, hung: false, reason: '' });
    assert.deepEqual(d.drainValidationMessages(), []);
    d.dispose();
  });

  it('a hung job fails with GpuTimeoutError after the timeout; the device is lost, a new one works; libuv stays free', () => {
    const script = `${hangPrelude(ROOT)}
    const fs = require('fs');
    (async () => {
      const out = {};
      const d = openDevice({ gpuTimeoutMs: 500 });
      out.infoTimeout = d.info.gpuTimeoutMs;
      const prog = hungProgram(d);
      let ticks = 0;
      const timer = setInterval(() => ticks++, 20);
      const t0 = performance.now();
      const job = prog.submit().then(() => 'resolved', (e) => e);
      // UV_THREADPOOL_SIZE=1: a wait parked on libuv's pool would starve this read.
      const tf = performance.now();
      await fs.promises.readFile(${JSON.stringify(`${ROOT}/package.json`)});
      out.fsMs = since(tf);
      const e = await job;
      out.failMs = since(t0);
      clearInterval(timer);
      out.ticks = ticks;
      out.first = describe(e);
      out.firstIsTimeout = e instanceof errors.GpuTimeoutError && e instanceof errors.DeviceLostError && e instanceof errors.VulkanError;
      out.firstFields = { reason: e.reason, call: e.call, result: e.result, timeoutMs: e.timeoutMs };
      out.health = d.health();
      const t1 = performance.now();
      const again = await prog.submit().then(() => 'resolved', (x) => x);
      out.againMs = since(t1);
      out.again = describe(again);
      out.againIsLost = again instanceof errors.DeviceLostError && !(again instanceof errors.GpuTimeoutError) && again.reason === 'timeout';
      try { d.createBuffer(16); out.create = 'created'; } catch (x) { out.create = describe(x); out.createIsLost = x instanceof errors.DeviceLostError; }
      out.messagesHung = d.drainValidationMessages();
      const t2 = performance.now();
      d.dispose();
      out.disposeMs = since(t2);
      // A new device on the same driver runs work correctly.
      const d2 = openDevice();
      const b = d2.createBuffer(64, 'readback');
      const fill = d2.createProgram([{ op: 'fill', dst: b, value: 0x01020304 }]);
      await fill.submit();
      out.newDeviceOk = b.readFloat32 && new Uint32Array(b.read().buffer).every((v) => v === 0x01020304);
      out.messagesNew = d2.drainValidationMessages();
      d2.dispose();
      // A staging copy (an unmapped buffer's write) queued behind a hung job is bounded too.
      const d3 = openDevice({ gpuTimeoutMs: 300, forceStaging: true });
      const staged = d3.createBuffer(64, 'device');
      hungProgram(d3).submit().catch(() => {});
      await new Promise((r) => setTimeout(r, 100)); // the runner thread has submitted the hung job
      const t3 = performance.now();
      try { staged.write(new Uint8Array(64)); out.copy = 'written'; } catch (x) { out.copy = describe(x); out.copyIsLost = x instanceof errors.DeviceLostError; }
      out.copyMs = since(t3);
      console.log('REPORT ' + JSON.stringify(out));
    })().catch((e) => { console.error(e); process.exit(3); });
    `;
    const r = runChild(script, { watchdogMs: 20000, env: { UV_THREADPOOL_SIZE: '1' } });
    assert.equal(r.status, 0, describeChild(r));
    const out = report(r.stdout, 'REPORT');
    assert.equal(out.infoTimeout, 500);
    assert.ok(out.firstIsTimeout, `first: ${out.first}`);
    assert.match(String(out.first), /GpuTimeoutError: vkWaitForFences timed out: a GPU job \(a program of 1 command\(s\) on queue 0\) did not finish within the device's GPU timeout of 500 ms.*dispose it and create a new Device.*gpuTimeoutMs.*VKRT_GPU_TIMEOUT_MS/);
    assert.deepEqual(out.firstFields, { reason: 'timeout', call: 'vkWaitForFences', result: 'VK_TIMEOUT', timeoutMs: 500 });
    const failMs = out.failMs as number;
    assert.ok(failMs >= 450 && failMs < 5000, `the hung job failed after ${failMs} ms (timeout 500 ms)`);
    assert.ok((out.fsMs as number) < 300, `fs.readFile took ${out.fsMs} ms while the job hung (libuv pool of 1)`);
    assert.ok((out.ticks as number) >= 10, `${out.ticks} timer ticks in ${failMs} ms: the event loop was blocked`);
    assert.deepEqual((out.health as { lost: boolean; hung: boolean }).lost, true);
    assert.deepEqual((out.health as { lost: boolean; hung: boolean }).hung, true);
    assert.match((out.health as { reason: string }).reason, /did not finish within the 500 ms GPU timeout/);
    assert.ok(out.againIsLost, `second submit: ${out.again}`);
    assert.match(String(out.again), /refused: the device is unusable since a GPU job did not finish within the 500 ms GPU timeout/);
    assert.ok((out.againMs as number) < 200, `second submit took ${out.againMs} ms to fail`);
    assert.ok(out.createIsLost, `createBuffer: ${out.create}`);
    assert.ok((out.disposeMs as number) < 200, `dispose() of the hung device took ${out.disposeMs} ms`);
    assert.equal(out.newDeviceOk, true);
    assert.deepEqual(out.messagesHung, []);
    assert.deepEqual(out.messagesNew, []);
    assert.ok(out.copyIsLost, `staging write behind a hung job: ${out.copy}`);
    assert.ok((out.copyMs as number) < 3000, `staging write behind a hung job took ${out.copyMs} ms (timeout 300 ms)`);
  });

  it('process.exit() while a job hangs (default 60 s timeout) exits at once', () => {
    const script = `${hangPrelude(ROOT)}
    const d = openDevice();
    hungProgram(d).submit().catch(() => {});
    setTimeout(() => { console.log('EXITING ' + JSON.stringify({ at: Date.now(), timeoutMs: d.info.gpuTimeoutMs })); process.exit(0); }, 300);
    `;
    const r = runChild(script, { watchdogMs: 20000 });
    const end = Date.now();
    assert.equal(r.status, 0, describeChild(r));
    const out = report(r.stdout, 'EXITING');
    assert.equal(out.timeoutMs, 60000);
    const lag = end - (out.at as number);
    if (process.env.VKRT_RELIABILITY_VERBOSE === '1') console.log(`      process.exit() to process gone: ${lag} ms; child wall ${r.ms.toFixed(0)} ms`);
    assert.ok(lag < 5000, `process.exit() took ${lag} ms to end the process`);
  });

  it('with a hung job pending, the process ends by itself once the timeout fails it', () => {
    const script = `${hangPrelude(ROOT)}
    const d = openDevice({ gpuTimeoutMs: 1000 });
    const t0 = performance.now();
    hungProgram(d).submit().then(
      () => console.log('RESOLVED?'),
      (e) => console.log('REJECTED ' + JSON.stringify({ ms: since(t0), at: Date.now(), error: describe(e) })),
    );
    `;
    const r = runChild(script, { watchdogMs: 20000 });
    const end = Date.now();
    assert.equal(r.status, 0, describeChild(r));
    const out = report(r.stdout, 'REJECTED');
    assert.match(String(out.error), /^GpuTimeoutError/);
    assert.ok((out.ms as number) >= 950 && (out.ms as number) < 6000, `failed after ${out.ms} ms (timeout 1000 ms)`);
    const lag = end - (out.at as number);
    if (process.env.VKRT_RELIABILITY_VERBOSE === '1') console.log(`      rejection to process gone: ${lag} ms; child wall ${r.ms.toFixed(0)} ms`);
    assert.ok(lag < 5000, `the process took ${lag} ms to exit after the job failed`);
  });

  it('an engine run whose dispatch hangs fails with GpuTimeoutError and breaks its context; the engine loads and runs on a new Device', () => {
    const script = `${hangPrelude(ROOT)}
    const { buildEngine } = require(${JSON.stringify(`${ROOT}/src/api/build.ts`)});
    const { tinyModel } = require(${JSON.stringify(`${ROOT}/test/reliability/tiny-model.ts`)});
    const { randomInputs } = require(${JSON.stringify(`${ROOT}/src/cli/exec.ts`)});
    const { Runtime } = require(${JSON.stringify(`${ROOT}/src/runtime/runtime.ts`)});
    (async () => {
      const out = {};
      const model = tinyModel();
      const d = openDevice({ gpuTimeoutMs: 500 });
      const engine = buildEngine(model, { device: d });
      const bytes = engine.serialize();
      const inputs = randomInputs(engine.inputs, 2);
      const good = engine.createExecutionContext();
      const want = [...(await good.execute(inputs)).values()][0].data;
      // A dispatch asking for 65535 x 65535 workgroups (what a hostile engine file could ask for).
      const d0 = engine.plan.layers[0].dispatches[0];
      const saved = d0.groups;
      d0.groups = [65535, 65535, 1];
      const bad = engine.createExecutionContext();
      d0.groups = saved;
      const t0 = performance.now();
      const [e1, e2] = await Promise.all([bad.execute(inputs), good.execute(inputs)].map((p) => p.then(() => 'resolved', (x) => x)));
      out.badMs = since(t0);
      out.bad = describe(e1);
      out.badIsTimeout = e1 instanceof errors.GpuTimeoutError;
      out.other = describe(e2);
      out.otherIsLost = e2 instanceof errors.DeviceLostError;
      out.broken = !!bad.broken;
      const t1 = performance.now();
      const e3 = await bad.execute(inputs).then(() => 'resolved', (x) => x);
      out.againMs = since(t1);
      out.again = describe(e3);
      out.againIsLost = e3 instanceof errors.DeviceLostError;
      const t2 = performance.now();
      engine.dispose();
      d.dispose();
      out.disposeMs = since(t2);
      const d2 = openDevice();
      const engine2 = Runtime.deserializeEngine(bytes, { device: d2 });
      const got = [...(await engine2.createExecutionContext().execute(inputs)).values()][0].data;
      out.sameOutputs = got.length === want.length && got.every((v, i) => Object.is(v, want[i]));
      out.messages = d2.drainValidationMessages();
      engine2.dispose();
      d2.dispose();
      console.log('REPORT ' + JSON.stringify(out));
    })().catch((e) => { console.error(e); process.exit(3); });
    `;
    const r = runChild(script, { watchdogMs: 30000 });
    assert.equal(r.status, 0, describeChild(r));
    const out = report(r.stdout, 'REPORT');
    assert.ok(out.badIsTimeout, `hung run: ${out.bad}`);
    assert.ok((out.badMs as number) >= 450 && (out.badMs as number) < 5000, `hung run failed after ${out.badMs} ms`);
    assert.ok(out.otherIsLost, `the other context's run: ${out.other}`);
    assert.equal(out.broken, true);
    assert.ok(out.againIsLost, `rerun of the broken context: ${out.again}`);
    assert.match(String(out.again), /this execution context is broken: an earlier run failed \(vkWaitForFences timed out/);
    assert.ok((out.againMs as number) < 100, `rerun took ${out.againMs} ms to fail`);
    assert.ok((out.disposeMs as number) < 200, `engine and device dispose took ${out.disposeMs} ms`);
    assert.equal(out.sameOutputs, true);
    assert.deepEqual(out.messages, []);
  });
});
