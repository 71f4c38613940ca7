import { strict as assert } from 'assert';
import { Command, grid1d, loadSpirv } from '../../src/gpu';
import { useGpu } from '../helpers/gpu';
import { scaleBiasPipeline, scaleBiasPush, scaleBiasRef } from '../helpers/kernels';

describe('native dispatch', () => {
  const gpu = useGpu();

  // Small integers and halves: exact in float32 whether or not the driver fuses x*A+B into an FMA.
  const input = (n: number) => Float32Array.from({ length: n }, (_, i) => (i % 97) - 48);

  async function runScaleBias(n: number, a: number, b: number, localSize = 64): Promise<Float32Array> {
    const d = gpu.device;
    const x = d.createBuffer(n * 4, 'upload');
    const y = d.createBuffer(n * 4, 'readback');
    const p = scaleBiasPipeline(d, a, localSize);
    x.write(input(n));
    y.write(new Float32Array(n).fill(NaN)); // poison: every element must be written
    const prog = d.createProgram([
      { op: 'dispatch', pipeline: p, bindings: [x, y], push: scaleBiasPush(n, b), groups: grid1d(n, localSize) },
    ]);
    await prog.submit();
    const out = y.readFloat32(0, n);
    for (const o of [prog, p, x, y]) o.dispose();
    return out;
  }

  it('computes y = x*A + B with A a specialization constant and B a push constant', async () => {
    for (const n of [1, 3, 13, 127, 1000]) {
      const y = await runScaleBias(n, 2.5, -1);
      assert.deepEqual(y, scaleBiasRef(input(n), 2.5, -1), `n = ${n}`);
    }
  });

  it('both the specialization constant and the push constant change the result', async () => {
    const n = 100;
    const base = await runScaleBias(n, 2, 3);
    const otherA = await runScaleBias(n, 5, 3);
    const otherB = await runScaleBias(n, 2, 7);
    assert.deepEqual(base, scaleBiasRef(input(n), 2, 3));
    assert.deepEqual(otherA, scaleBiasRef(input(n), 5, 3));
    assert.deepEqual(otherB, scaleBiasRef(input(n), 2, 7));
    assert.notDeepEqual(base, otherA);
    assert.notDeepEqual(base, otherB);
  });

  it('the workgroup size is a specialization constant too (local_size_x_id)', async () => {
    for (const ls of [1, 32, 256]) assert.deepEqual(await runScaleBias(1000, 1.5, 0.5, ls), scaleBiasRef(input(1000), 1.5, 0.5));
  });

  it('writes timestamps that are present and monotonic', async () => {
    const d = gpu.device;
    if (!d.info.timestampValidBits) return; // the device says it cannot; the timing tests cover the arithmetic
    const n = 1 << 16;
    const x = d.createBuffer(n * 4, 'device');
    const y = d.createBuffer(n * 4, 'device');
    const p = scaleBiasPipeline(d, 3);
    const cmds: Command[] = [{ op: 'timestamp', index: 0 }];
    for (let i = 0; i < 4; i++) {
      cmds.push({ op: 'dispatch', pipeline: p, bindings: i % 2 ? [y, x] : [x, y], push: scaleBiasPush(n, 1), groups: grid1d(n, 64) });
      cmds.push({ op: 'barrier' });
      cmds.push({ op: 'timestamp', index: i + 1 });
    }
    const prog = d.createProgram(cmds);
    assert.equal(prog.timestampCount, 5);
    assert.deepEqual(prog.timestamps(), []); // nothing before the first submit
    for (let run = 0; run < 3; run++) {
      await prog.submit();
      const t = prog.timestamps();
      assert.equal(t.length, 5);
      for (let i = 1; i < t.length; i++) assert.ok(t[i] >= t[i - 1], `timestamp ${i} (${t[i]}) < timestamp ${i - 1} (${t[i - 1]})`);
      assert.ok(t[4] > t[0], 'four dispatches took no time at all');
      const ms = prog.timestampDeltasMs();
      assert.equal(ms.length, 4);
      for (const v of ms) assert.ok(v >= 0 && v < 60000, `delta ${v} ms`);
    }
    for (const o of [prog, p, x, y]) o.dispose();
  });

  it('a program submitted 100 times gives the same result every time', async () => {
    const d = gpu.device;
    const n = 4099;
    const x = d.createBuffer(n * 4, 'upload');
    const y = d.createBuffer(n * 4, 'readback');
    const p = scaleBiasPipeline(d, -0.5);
    const data = input(n);
    x.write(data);
    const prog = d.createProgram([
      { op: 'fill', dst: y, value: 0x7fc00000 }, // NaN: proves the dispatch rewrote everything
      { op: 'barrier' },
      { op: 'dispatch', pipeline: p, bindings: [x, y], push: scaleBiasPush(n, 4), groups: grid1d(n, 64) },
    ]);
    const want = scaleBiasRef(data, -0.5, 4);
    for (let i = 0; i < 100; i++) {
      await prog.submit();
      assert.deepEqual(y.readFloat32(0, n), want, `submission ${i}`);
    }
    for (const o of [prog, p, x, y]) o.dispose();
  });

  it('records hundreds of dispatches over sub-ranges of one arena buffer', async () => {
    // The engine's pattern: one big arena, every tensor a (offset, range) in it, barriers between layers.
    const d = gpu.device;
    const n = 1000;
    const align = Math.max(d.info.minStorageBufferOffsetAlignment, 256);
    const slot = Math.ceil((n * 4) / align) * align;
    const layers = 300;
    const arena = d.createBuffer(slot * 2, 'device');
    const out = d.createBuffer(n * 4, 'readback');
    const p = scaleBiasPipeline(d, 1);
    const a = { buffer: arena, offset: 0, range: n * 4 };
    const b = { buffer: arena, offset: slot, range: n * 4 };
    const x = input(n);
    arena.write(x, 0);
    const cmds: Command[] = [{ op: 'timestamp', index: 0 }];
    for (let i = 0; i < layers; i++) {
      cmds.push({ op: 'dispatch', pipeline: p, bindings: i % 2 ? [b, a] : [a, b], push: scaleBiasPush(n, 1), groups: grid1d(n, 64) });
      cmds.push({ op: 'barrier' });
    }
    cmds.push({ op: 'copy', src: arena, srcOffset: layers % 2 ? slot : 0, dst: out, size: n * 4 });
    cmds.push({ op: 'timestamp', index: 1 });
    const prog = d.createProgram(cmds);
    assert.equal(prog.commandCount, 2 * layers + 3);
    await prog.submit();
    assert.deepEqual(out.readFloat32(0, n), x.map((v) => v + layers));
    // Running it again starts from the last layer's output (the arena keeps its contents).
    for (const o of [prog, p, arena, out]) o.dispose();
  });

  it('copies and fills inside a program', async () => {
    const d = gpu.device;
    const src = d.createBuffer(64, 'upload');
    const dst = d.createBuffer(64, 'readback');
    src.write(Uint8Array.from({ length: 64 }, (_, i) => i));
    const prog = d.createProgram([
      { op: 'fill', dst, value: 0xaabbccdd },
      { op: 'barrier' },
      { op: 'copy', src, srcOffset: 3, dst, dstOffset: 17, size: 13 },
    ]);
    await prog.submit();
    const got = dst.read();
    const fill = new Uint8Array(new Uint32Array(16).fill(0xaabbccdd).buffer);
    const want = fill.slice();
    want.set(Uint8Array.from({ length: 13 }, (_, i) => i + 3), 17);
    assert.deepEqual(got, want);
    for (const o of [prog, src, dst]) o.dispose();
  });

  it('submits on every queue of the compute family', async () => {
    const d = gpu.device;
    assert.equal(d.info.queueCount, d.info.computeQueues);
    const n = 64;
    const x = d.createBuffer(n * 4, 'upload');
    x.write(input(n));
    const p = scaleBiasPipeline(d, 2);
    const work = [];
    for (let q = 0; q < d.info.queueCount; q++) {
      const y = d.createBuffer(n * 4, 'readback');
      const prog = d.createProgram([{ op: 'dispatch', pipeline: p, bindings: [x, y], push: scaleBiasPush(n, q), groups: 1 }]);
      work.push(prog.submit(q).then(() => {
        assert.deepEqual(y.readFloat32(0, n), scaleBiasRef(input(n), 2, q));
        prog.dispose();
        y.dispose();
      }));
    }
    await Promise.all(work);
    x.dispose();
    p.dispose();
  });

  it('an empty program and a barrier-only program submit fine', async () => {
    const prog = gpu.device.createProgram([]);
    await prog.submit();
    const prog2 = gpu.device.createProgram([{ op: 'barrier' }]);
    await prog2.submit();
    prog.dispose();
    prog2.dispose();
  });

  it('loadSpirv returns the SPIR-V glslc built (embedded in the package)', () => {
    const words = loadSpirv('native/copy_vec4');
    assert.equal(words[0], 0x07230203);
  });
});
