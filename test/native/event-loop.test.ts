import { strict as assert } from 'assert';
import { grid1d, loadSpirv, Pipeline } from '../../src/gpu';
import { useGpu } from '../helpers/gpu';
import { busyLoopRef } from '../helpers/kernels';

describe('native submission and the event loop', () => {
  const gpu = useGpu();
  let pipeline: Pipeline;

  before(() => {
    pipeline = gpu.device.createPipeline({
      spirv: loadSpirv('native/busy_loop'),
      name: 'busy_loop',
      bindingCount: 1,
      pushConstantSize: 8,
    });
  });
  after(() => pipeline?.dispose());

  async function busy(n: number, iterations: number): Promise<{ ms: number; out: Uint32Array }> {
    const d = gpu.device;
    const out = d.createBuffer(n * 4, 'readback');
    const prog = d.createProgram([
      { op: 'dispatch', pipeline, bindings: [out], push: new Uint32Array([n, iterations]), groups: grid1d(n, 64) },
    ]);
    const t0 = performance.now();
    await prog.submit();
    const ms = performance.now() - t0;
    const res = new Uint32Array(out.read().buffer);
    prog.dispose();
    out.dispose();
    return { ms, out: res };
  }

  it('a long GPU job does not block the event loop (a timer fires while it runs)', async function () {
    this.timeout(120000);
    // Calibrate so the job takes about half a second on this device: more hash rounds per
    // element first (up to lavapipe's loop cap), then more elements.
    let n = 1 << 12;
    let iterations = 1 << 10;
    let ms = (await busy(n, iterations)).ms;
    while (ms < 400 && n < 1 << 26) {
      const grow = Math.min(64, Math.max(2, Math.ceil(500 / Math.max(ms, 1))));
      if (iterations * grow <= 60000) iterations *= grow;
      else n *= grow;
      ms = (await busy(n, iterations)).ms;
    }
    assert.ok(ms >= 200, `could not make a job long enough (${ms} ms for ${n} elements x ${iterations} iterations)`);

    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const t0 = performance.now();
    const job = busy(n, iterations);
    const ticksAtSubmit = ticks;
    const { ms: took, out } = await job;
    clearInterval(timer);
    const elapsed = performance.now() - t0;
    assert.equal(ticksAtSubmit, 0);
    // A blocked loop would see at most one tick (after the job). Expect many; allow a loaded machine slack.
    assert.ok(ticks >= 5, `only ${ticks} timer ticks during a ${elapsed.toFixed(0)} ms GPU job (${took.toFixed(0)} ms)`);
    // And the job really ran.
    for (const i of [0, 1, 777, n - 1]) assert.equal(out[i], busyLoopRef(i, 16 * iterations), `out[${i}]`);
  });
});
