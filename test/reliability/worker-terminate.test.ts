/**
 * Issue 13, item 1: terminating a worker thread while execute() is in flight must not take the
 * process down (it used to abort with "terminate called after throwing an instance of
 * 'Napi::Error'" from AsyncWorker::OnAsyncWorkComplete during the worker's teardown, or segfault
 * once the worker's copy of the addon was unloaded under a running thread).
 */
import { strict as assert } from 'assert';
import { ensureDriver } from '../helpers/gpu';
import { describeChild, ROOT, runChild } from './child';
import { hangPrelude } from './hang';

// The worker: a small engine, two contexts executing in a loop; it reports once runs are in flight.
const WORKER = `
  const { parentPort } = require('worker_threads');
  const { buildEngine } = require(${JSON.stringify(`${ROOT}/src/api/build.ts`)});
  const { tinyModel } = require(${JSON.stringify(`${ROOT}/test/reliability/tiny-model.ts`)});
  const { randomInputs } = require(${JSON.stringify(`${ROOT}/src/cli/exec.ts`)});
  const engine = buildEngine(tinyModel());
  const inputs = randomInputs(engine.inputs, 1);
  let runs = 0;
  const loop = async (ctx) => {
    for (;;) {
      const p = ctx.execute(inputs);
      if (++runs === 6) parentPort.postMessage('in-flight');
      await p;
    }
  };
  loop(engine.createExecutionContext());
  loop(engine.createExecutionContext());
`;

// A worker whose GPU job never finishes (default 60 s timeout), terminated while it waits.
const HUNG_WORKER = `
  const { parentPort } = require('worker_threads');
  ${hangPrelude(ROOT)}
  const d = openDevice();
  hungProgram(d).submit().catch(() => {});
  setTimeout(() => parentPort.postMessage('in-flight'), 200);
`;

// The parent: starts each worker, terminates it while runs are in flight (three engine workers,
// then the hung one), and exits by itself.
const PARENT = `
  const { Worker } = require('worker_threads');
  const WORKERS = [${JSON.stringify(WORKER)}, ${JSON.stringify(WORKER)}, ${JSON.stringify(WORKER)}, ${JSON.stringify(HUNG_WORKER)}];
  (async () => {
    const times = [];
    for (const source of WORKERS) {
      const w = new Worker(source, { eval: true, execArgv: ['--require', 'tsx/cjs'] });
      await new Promise((resolve, reject) => {
        w.on('message', (m) => m === 'in-flight' && resolve());
        w.on('error', reject);
        w.on('exit', (code) => reject(new Error('worker exited early with ' + code)));
      });
      const t0 = Date.now();
      await w.terminate();
      times.push(Date.now() - t0);
    }
    console.log('TERMINATED-CLEANLY ' + JSON.stringify(times) + ' ' + Date.now());
  })().catch((e) => { console.error(e); process.exit(3); });
`;

describe('reliability: worker terminated during execute()', function () {
  this.timeout(120000);
  before(ensureDriver); // children inherit the driver selection through the environment

  it('the process survives and exits 0; terminate() resolves promptly, also with a hung job in flight', () => {
    const r = runChild(PARENT, { watchdogMs: 60000 });
    const end = Date.now();
    assert.equal(r.status, 0, describeChild(r));
    const m = /TERMINATED-CLEANLY (\[.*\]) (\d+)/.exec(r.stdout);
    assert.ok(m, describeChild(r));
    const times = JSON.parse(m[1]) as number[];
    const exitLag = end - Number(m[2]);
    if (process.env.VKRT_RELIABILITY_VERBOSE === '1')
      console.log(`      worker.terminate() times (ms): ${times.join(', ')} (the last with a hung job); exit ${exitLag} ms after; child wall ${r.ms.toFixed(0)} ms`);
    assert.equal(times.length, 4);
    for (const t of times) assert.ok(t < 5000, `worker.terminate() took ${t} ms`);
    assert.ok(exitLag < 5000, `the process took ${exitLag} ms to exit after the last terminate()`);
  });
});
