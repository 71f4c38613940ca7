/**
 * Run-time input checks and damaged engine files (issue 13, item 7): a Tensor whose data was
 * detached or replaced after it was made is refused (it never runs on the previous run's memory);
 * a SharedArrayBuffer-backed input runs (copied at upload); unknown dtype names are refused; a
 * well-sealed engine file whose plan the inspector cannot read, or whose SPIR-V the driver
 * refuses, is an EngineFileError('corrupt'), never a TypeError or a VulkanError.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildEngine } from '../../src/api/build';
import { inspectFile } from '../../src/cli/inspect';
import { EngineFileError, InputError } from '../../src/errors';
import { GraphBuilder } from '../../src/ir/builder';
import { Tensor } from '../../src/ir/tensor';
import { mobilenetV2Like } from '../../src/models/nets';
import { Engine } from '../../src/runtime/engine';
import { readEngineFile, writeEngineFile } from '../../src/runtime/engine-file';
import { runCli } from '../cli/run-cli';
import { useGpu } from '../helpers/gpu';

const f32 = (values: number[]) => new Tensor('float32', [values.length], Float32Array.from(values));

function expectInputError(p: Promise<unknown>, re: RegExp): Promise<void> {
  return assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected an InputError, got ${(e as Error)?.stack ?? e}`);
    assert.match(e.message, re);
    return true;
  });
}

describe('run-time input checks', function () {
  this.timeout(120000);
  const gpu = useGpu();
  let engine: Engine;

  before(() => {
    const b = new GraphBuilder('neg', { '': 13 });
    b.output(b.node('Neg', [b.input('x', 'float32', [4])])[0]);
    engine = buildEngine(b.build(), { device: gpu.device });
  });
  after(() => engine?.dispose());

  const out = (m: Map<string, Tensor>) => Array.from(m.values().next().value!.data as Float32Array);

  it('a tensor whose data was detached after it was made is refused, not run on the last run\'s memory', async () => {
    const ctx = engine.createExecutionContext();
    assert.deepEqual(out(await ctx.execute({ x: f32([1, 2, 3, 4]) })), [-1, -2, -3, -4]);
    const t = f32([5, 6, 7, 8]);
    structuredClone(t.data, { transfer: [(t.data as Float32Array).buffer as ArrayBuffer] });
    await expectInputError(ctx.execute({ x: t }), /input 'x': its data was detached/);
    // the context still works
    assert.deepEqual(out(await ctx.execute({ x: f32([9, 9, 9, 9]) })), [-9, -9, -9, -9]);
  });

  it('data replaced after construction: wrong length, another array type, a plain array', async () => {
    const ctx = engine.createExecutionContext();
    const short = f32([1, 2, 3, 4]);
    (short as unknown as { data: unknown }).data = new Float32Array([7]);
    await expectInputError(ctx.execute({ x: short }), /input 'x' \(float32\[4\]\) needs 4 elements; its data holds 1/);
    const long = f32([1, 2, 3, 4]);
    (long as unknown as { data: unknown }).data = new Float32Array(8);
    await expectInputError(ctx.execute({ x: long }), /needs 4 elements; its data holds 8/);
    const ints = f32([1, 2, 3, 4]);
    (ints as unknown as { data: unknown }).data = new Int32Array(4);
    await expectInputError(ctx.execute({ x: ints }), /input 'x' is float32, whose data is a Float32Array; got a Int32Array/);
    const plain = f32([1, 2, 3, 4]);
    (plain as unknown as { data: unknown }).data = [1, 2, 3, 4];
    await expectInputError(ctx.execute({ x: plain }), /its data is a plain array, not the Float32Array/);
    const wrongType = new Tensor('int64', [4], new BigInt64Array(4));
    await expectInputError(ctx.execute({ x: wrongType }), /must be float32, got int64/);
  });

  it('a SharedArrayBuffer-backed input runs (copied when the run starts)', async () => {
    const ctx = engine.createExecutionContext();
    const shared = new Float32Array(new SharedArrayBuffer(16));
    shared.set([1, -2, 3, -4]);
    assert.deepEqual(out(await ctx.execute({ x: new Tensor('float32', [4], shared) })), [-1, 2, -3, 4]);
  });

  it('the Tensor constructor refuses unknown dtype names', () => {
    for (const bad of ['float99', 'Float32', '', 'tensor(float)']) {
      assert.throws(() => new Tensor(bad as never, [1], new Float32Array(1)), (e: unknown) => e instanceof InputError && /unknown dtype .*one of float32, /.test(e.message), bad);
      assert.throws(() => Tensor.from(bad as never, [1], [0]), InputError, bad);
    }
    assert.equal(new Tensor('float16', [1], new Float32Array(1)).dtype, 'float16');
  });
});

describe('damaged engine files are EngineFileErrors', function () {
  this.timeout(300000);
  const gpu = useGpu();
  let bytes: Uint8Array;
  let dir: string;

  before(() => {
    const engine = buildEngine(mobilenetV2Like({ size: 16 }), { device: gpu.device });
    bytes = engine.serialize();
    engine.dispose();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vkrt-damaged-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A well-sealed copy with the manifest edited. */
  function withManifest(edit: (plan: Record<string, unknown> & { layers: Record<string, unknown>[] }) => void): string {
    const parts = readEngineFile(bytes);
    const manifest = JSON.parse(JSON.stringify(parts.manifest));
    edit(manifest.plan);
    const file = path.join(dir, `m${Math.random().toString(36).slice(2)}.engine`);
    fs.writeFileSync(file, writeEngineFile({ ...parts, manifest }));
    return file;
  }

  it('vkrt inspect of a plan the loader accepts but the inspector cannot read: EngineFileError, not TypeError', async () => {
    const edits: ((p: Record<string, unknown> & { layers: Record<string, unknown>[] }) => void)[] = [
      (p) => { p.layers[0].opTypes = 3; },
      (p) => { p.layers[1].outputs = {}; },
      (p) => { p.layers[2].name = 7; },
      (p) => { p.layers[0].kernel = null; },
    ];
    for (const edit of edits) {
      const file = withManifest(edit);
      assert.throws(() => inspectFile(file), (e: unknown) => {
        assert.ok(e instanceof EngineFileError, `expected EngineFileError, got ${(e as Error)?.stack ?? e}`);
        assert.equal(e.reason, 'corrupt');
        return true;
      });
      const r = await runCli('inspect', file);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^vkrt inspect: error \[ENGINE_FILE\]: .*engine file corrupt: /);
    }
  });

  it('SPIR-V the driver refuses (valid checksum) is EngineFileError(\'corrupt\'), not VulkanError', () => {
    const parts = readEngineFile(bytes);
    const w = parts.spirv[0];
    w[w.length >> 1] = 0xdeadbeef; // one word in the middle of the module: an unknown opcode or a bad operand
    const damaged = writeEngineFile(parts);
    assert.throws(() => Engine.deserialize(damaged, { device: gpu.device }).dispose(), (e: unknown) => {
      assert.ok(e instanceof EngineFileError, `expected EngineFileError, got ${(e as Error)?.stack ?? e}`);
      assert.equal(e.reason, 'corrupt');
      assert.match(e.message, /SPIR-V module 0/);
      return true;
    });
    // the invalid module reached the driver (and the validation layer said so): SPIR-V validation
    // at load refuses it earlier; either way the caller gets EngineFileError('corrupt')
    gpu.device.drainValidationMessages();
  });
});
