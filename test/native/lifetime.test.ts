import { strict as assert } from 'assert';
import { DisposedError } from '../../src/errors';
import { GpuStateError, grid1d } from '../../src/gpu';
import { loadNative } from '../../src/native';
import { assertNoValidationMessages, openDevice, useGpu } from '../helpers/gpu';
import { scaleBiasPipeline, scaleBiasPush } from '../helpers/kernels';

describe('native lifetime', () => {
  const gpu = useGpu();

  it('dispose() twice is a no-op for buffers, pipelines and programs', () => {
    const d = gpu.device;
    const b = d.createBuffer(16);
    const p = scaleBiasPipeline(d, 1);
    const prog = d.createProgram([{ op: 'barrier' }]);
    for (const o of [b, p, prog]) {
      assert.equal(o.disposed, false);
      o.dispose();
      o.dispose();
      assert.equal(o.disposed, true);
    }
  });

  it('use after dispose throws a DisposedError naming the object', async () => {
    const d = gpu.device;
    const b = d.createBuffer(16);
    b.dispose();
    assert.throws(() => b.write(new Uint8Array(4)), (e: unknown) => e instanceof DisposedError && /GpuBuffer was used after dispose\(\)/.test(e.message));
    assert.throws(() => b.read(), DisposedError);
    const p = scaleBiasPipeline(d, 1);
    p.dispose();
    const x = d.createBuffer(16);
    assert.throws(
      () => d.createProgram([{ op: 'dispatch', pipeline: p, bindings: [x, x], push: scaleBiasPush(4, 0), groups: 1 }]),
      (e: unknown) => e instanceof DisposedError && /Pipeline/.test(e.message),
    );
    assert.throws(() => d.createProgram([{ op: 'copy', src: b, dst: x, size: 4 }]), DisposedError);
    const prog = d.createProgram([]);
    prog.dispose();
    await assert.rejects(prog.submit(), (e: unknown) => e instanceof DisposedError && /Program/.test(e.message));
    assert.throws(() => prog.timestamps(), DisposedError);
    x.dispose();
  });

  it('a program keeps the buffers and pipelines it recorded alive', async () => {
    const d = gpu.device;
    const n = 256;
    const x = d.createBuffer(n * 4, 'upload');
    const y = d.createBuffer(n * 4, 'readback');
    x.write(new Float32Array(n).fill(2));
    const p = scaleBiasPipeline(d, 3);
    const prog = d.createProgram([{ op: 'dispatch', pipeline: p, bindings: [x, y], push: scaleBiasPush(n, 1), groups: grid1d(n, 64) }]);
    const keep = d.createBuffer(n * 4, 'readback');
    const copy = d.createProgram([{ op: 'copy', src: y, dst: keep }]);
    p.dispose();
    x.dispose();
    await prog.submit(); // still valid: the native program holds them
    await copy.submit();
    assert.deepEqual(keep.readFloat32(), new Float32Array(n).fill(7));
    for (const o of [prog, copy, y, keep]) o.dispose();
  });

  it('disposing a program while it runs is safe: the submission completes', async () => {
    const d = gpu.device;
    const n = 1 << 16;
    const x = d.createBuffer(n * 4, 'device');
    const p = scaleBiasPipeline(d, 1);
    const prog = d.createProgram([{ op: 'dispatch', pipeline: p, bindings: [x, x], push: scaleBiasPush(n, 1), groups: grid1d(n, 64) }]);
    const done = prog.submit();
    prog.dispose();
    await done;
    p.dispose();
    x.dispose();
  });

  it('submitting again before the previous submission settled queues behind it', async () => {
    const d = gpu.device;
    const n = 1024;
    const x = d.createBuffer(n * 4, 'upload');
    x.write(new Float32Array(n));
    const p = scaleBiasPipeline(d, 1);
    const prog = d.createProgram([
      { op: 'dispatch', pipeline: p, bindings: [x, x], push: scaleBiasPush(n, 1), groups: grid1d(n, 64) },
    ]);
    await Promise.all(Array.from({ length: 10 }, () => prog.submit()));
    assert.deepEqual(x.readFloat32(0, 4), new Float32Array(4).fill(10));
    for (const o of [prog, p, x]) o.dispose();
  });

  it('the addon itself rejects a concurrent submit of the same program clearly', async () => {
    const d = gpu.device;
    const prog = d.createProgram([{ op: 'barrier' }]);
    const native = prog.native;
    const first = native.submit(0);
    assert.throws(() => native.submit(0), (e: Error & { vkrtKind?: string }) => e.vkrtKind === 'state' && /already in flight/.test(e.message));
    assert.throws(() => prog.timestamps(), GpuStateError);
    await first;
    prog.dispose();
  });

  it('disposing the device disposes everything created from it', () => {
    const d = openDevice();
    const b = d.createBuffer(64);
    const p = scaleBiasPipeline(d, 1);
    const prog = d.createProgram([]);
    assertNoValidationMessages(d, 'set-up');
    d.dispose();
    d.dispose();
    assert.equal(d.disposed, true);
    for (const o of [b, p, prog]) assert.equal(o.disposed, true);
    assert.throws(() => d.createBuffer(4), (e: unknown) => e instanceof DisposedError && /Device/.test(e.message));
    assert.throws(() => d.pipelineCacheData(), DisposedError);
  });

  it('the native classes cannot be constructed from JavaScript directly', () => {
    const addon = loadNative() as unknown as Record<string, new (...a: unknown[]) => unknown>;
    assert.throws(() => new addon.GpuBuffer(), /created by a Device/);
    assert.throws(() => new addon.Program({}), /created by a Device/);
  });
});
