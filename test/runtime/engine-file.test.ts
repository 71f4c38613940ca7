/**
 * Engine files: saved and loaded engines give bit-identical outputs; loading compiles no GLSL;
 * damaged, truncated, foreign, other-version and other-device files are refused with the right
 * reason; the loader survives fuzzing (every result an engine or an EngineFileError).
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EngineFileError, EngineFileReason } from '../../src/errors';
import { Device } from '../../src/gpu';
import { Tensor } from '../../src/ir/tensor';
import { mobilenetV2Like } from '../../src/models/nets';
import { loadModel } from '../../src/onnx/parse';
import { randomInputs } from '../../src/cli/exec';
import { decodeEngine, Engine } from '../../src/runtime/engine';
import { ENGINE_FORMAT_VERSION, readEngineFile, resealEngineFile, writeEngineFile } from '../../src/runtime/engine-file';
import { Runtime } from '../../src/runtime/runtime';
import { InferenceSession } from '../../src/api/session';
import { MODELS } from '../helpers/model-cases';
import { pattern, useGpu } from '../helpers/gpu';
import { buildEngine } from '../../src/api/build';

function bitsOf(outputs: Map<string, Tensor>): Map<string, Buffer> {
  return new Map([...outputs].map(([k, t]) => [k, Buffer.from((t.data as Float32Array).buffer, (t.data as Float32Array).byteOffset, (t.data as Float32Array).byteLength)]));
}

function expectReason(fn: () => unknown, reason: EngineFileReason, re?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof EngineFileError, `expected EngineFileError(${reason}), got ${(e as Error)?.stack ?? e}`);
    assert.equal(e.reason, reason, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

/** Rewrites an engine file with some parts changed (and a valid checksum). */
function rewrite(bytes: Uint8Array, change: (parts: ReturnType<typeof readEngineFile>) => void): Uint8Array {
  const parts = readEngineFile(bytes);
  change(parts);
  return writeEngineFile(parts);
}

describe('engine files', function () {
  this.timeout(300000);
  const gpu = useGpu();
  let engine: Engine;
  let bytes: Uint8Array;
  let inputs: Map<string, Tensor>;

  before(() => {
    engine = buildEngine(mobilenetV2Like({ size: 16 }), { device: gpu.device });
    bytes = engine.serialize();
    inputs = randomInputs(engine.inputs, 3);
  });
  after(() => engine?.dispose());

  it('a saved and loaded engine gives bit-identical outputs, with the same layers', async () => {
    const loaded = Runtime.deserializeEngine(bytes, { device: gpu.device });
    try {
      assert.equal(loaded.loaded, true);
      assert.deepEqual(loaded.plan.layers.map((l) => [l.name, l.kernel, l.precision]), engine.plan.layers.map((l) => [l.name, l.kernel, l.precision]));
      const a = await engine.createExecutionContext().execute(inputs);
      const b = await loaded.createExecutionContext().execute(inputs);
      assert.deepEqual(bitsOf(b), bitsOf(a));
      // the loaded engine serializes to the same plan, weights and SPIR-V
      const again = readEngineFile(loaded.serialize()), first = readEngineFile(bytes);
      assert.deepEqual(again.manifest, first.manifest);
      assert.deepEqual(again.data.map((d) => Buffer.from(d)), first.data.map((d) => Buffer.from(d)));
      assert.deepEqual(again.spirv, first.spirv);
    } finally {
      loaded.dispose();
    }
  });

  it('InferenceSession.create takes an engine file (bytes or path) as well as a model', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vkrt-eng-')), 'm.engine');
    fs.writeFileSync(file, bytes);
    const expected = bitsOf(await engine.createExecutionContext().execute(inputs));
    for (const src of [bytes, file]) {
      const session = await InferenceSession.create(src, { device: gpu.device });
      assert.equal(session.engine.loaded, true);
      const out = await session.run(Object.fromEntries(inputs));
      assert.deepEqual(bitsOf(new Map(Object.entries(out))), expected);
      await session.release();
    }
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });

  it('serializing is deterministic and the sections are 64-byte aligned', () => {
    assert.deepEqual(Buffer.from(engine.serialize()), Buffer.from(bytes));
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = dv.getUint32(12, true);
    for (let i = 0; i < n; i++) assert.equal(Number(dv.getBigUint64(32 + 24 * i + 8, true)) % 64, 0);
  });

  it('the real models in .data round-trip bit-identically', async function () {
    const file = path.join(MODELS, 'mnist-8', 'model.onnx');
    if (!fs.existsSync(file)) this.skip();
    const built = buildEngine(loadModel(file), { device: gpu.device });
    try {
      // through a Node Buffer at an odd offset, as fs.readFileSync may hand it over
      const raw = built.serialize();
      const odd = Buffer.alloc(raw.length + 1);
      odd.set(raw, 1);
      const loaded = Engine.deserialize(odd.subarray(1), { device: gpu.device });
      const ins = randomInputs(built.inputs, 5);
      assert.deepEqual(bitsOf(await loaded.createExecutionContext().execute(ins)), bitsOf(await built.createExecutionContext().execute(ins)));
      loaded.dispose();
    } finally {
      built.dispose();
    }
  });

  it('an FP16 engine (Uint16Array weights, conversion layers) round-trips bit-identically', async function () {
    if (!gpu.device.info.fp16) this.skip();
    const built = buildEngine(mobilenetV2Like({ size: 16 }), { device: gpu.device, fp16: true });
    try {
      assert.ok(built.plan.layers.some((l) => l.precision === 'fp16'));
      const loaded = Engine.deserialize(built.serialize(), { device: gpu.device });
      assert.deepEqual(loaded.plan.layers.map((l) => l.precision), built.plan.layers.map((l) => l.precision));
      const f16 = [...loaded.plan.weightData.values()].filter((w) => w instanceof Uint16Array);
      assert.equal(f16.length, [...built.plan.weightData.values()].filter((w) => w instanceof Uint16Array).length);
      assert.deepEqual(bitsOf(await loaded.createExecutionContext().execute(inputs)), bitsOf(await built.createExecutionContext().execute(inputs)));
      loaded.dispose();
    } finally {
      built.dispose();
    }
  });

  it('loading compiles no GLSL and does no graph work', () => {
    const originals = [Device.compileGlsl, Device.prototype.compileGlsl];
    let calls = 0;
    Device.compileGlsl = () => { calls++; throw new Error('compileGlsl called while loading an engine'); };
    Device.prototype.compileGlsl = Device.compileGlsl;
    try {
      const loaded = Engine.deserialize(bytes, { device: gpu.device });
      loaded.dispose();
    } finally {
      [Device.compileGlsl, Device.prototype.compileGlsl] = originals;
    }
    assert.equal(calls, 0);
  });

  it('without a device, opens the device the engine was built for, with its pipeline cache', async () => {
    const loaded = Engine.deserialize(bytes);
    try {
      assert.notEqual(loaded.device, gpu.device);
      assert.equal(loaded.device.info.deviceId, gpu.device.info.deviceId);
      assert.deepEqual(bitsOf(await loaded.createExecutionContext().execute(inputs)), bitsOf(await engine.createExecutionContext().execute(inputs)));
    } finally {
      loaded.dispose();
    }
    assert.equal(loaded.device.disposed, true);
  });

  it('refuses damaged files: checksum, truncation, foreign bytes, other format or vkrt versions', () => {
    const load = (b: Uint8Array) => () => Engine.deserialize(b, { device: gpu.device, file: 'x.engine' });
    const flipped = bytes.slice();
    flipped[Math.floor(bytes.length / 2)] ^= 0x10;
    expectReason(load(flipped), 'corrupt', /checksum mismatch/);
    expectReason(load(bytes.subarray(0, bytes.length - 1)), 'truncated');
    expectReason(load(bytes.subarray(0, 20)), 'truncated');
    expectReason(load(new Uint8Array(0)), 'truncated');
    const appended = new Uint8Array(bytes.length + 4);
    appended.set(bytes);
    expectReason(load(appended), 'corrupt', /bytes appended/);
    const onnx = path.join(MODELS, 'mnist-8', 'model.onnx');
    if (fs.existsSync(onnx)) expectReason(load(fs.readFileSync(onnx)), 'foreign', /not a vkrt engine file/);
    expectReason(load(pattern(4096, 9)), 'foreign');
    const v2 = bytes.slice();
    new DataView(v2.buffer).setUint32(8, ENGINE_FORMAT_VERSION + 1, true);
    expectReason(load(v2), 'version', /format version/);
    expectReason(load(rewrite(bytes, (p) => { p.vkrtVersion = '0.0.1-old'; })), 'version', /vkrt 0\.0\.1-old/);
    expectReason(load(rewrite(bytes, (p) => { p.spirv[0] = new Uint32Array(p.spirv[0].length); })), 'corrupt', /SPIR-V magic/);
    expectReason(load(rewrite(bytes, (p) => { (p.manifest as { shaders: number[][] }).shaders[0][0] = 999; })), 'corrupt', /SPIR-V module 999/);
  });

  it('refuses files built for another device or driver, saying which', () => {
    const load = (b: Uint8Array) => () => Engine.deserialize(b, { device: gpu.device });
    expectReason(load(rewrite(bytes, (p) => { p.fingerprint = { ...p.fingerprint, vendorId: 0x10de, deviceId: 0x2330, name: 'NVIDIA H100' }; })), 'device', /built for NVIDIA H100/);
    expectReason(load(rewrite(bytes, (p) => { p.fingerprint = { ...p.fingerprint, driverVersionRaw: p.fingerprint.driverVersionRaw + 1 }; })), 'driver');
    expectReason(load(rewrite(bytes, (p) => { p.fingerprint = { ...p.fingerprint, pipelineCacheUUID: '00'.repeat(16) }; })), 'driver', /pipeline cache/);
    // and without a device: no device of this system matches
    expectReason(() => Engine.deserialize(rewrite(bytes, (p) => { p.fingerprint = { ...p.fingerprint, vendorId: 0x10de, deviceId: 0x2330 }; })), 'device');
  });

  it('fuzz: random byte flips, truncations and splices give an engine or an EngineFileError, never anything else', () => {
    let s = 12345;
    const rnd = (n: number) => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) % n);
    const reasons = new Map<string, number>();
    let engines = 0;
    for (let i = 0; i < 400; i++) {
      let b: Uint8Array;
      const kind = i % 4;
      if (kind === 0) { b = bytes.slice(); for (let k = 1 + rnd(4); k > 0; k--) b[rnd(b.length)] ^= 1 << rnd(8); }
      else if (kind === 1) b = bytes.slice(0, rnd(bytes.length));
      else if (kind === 2) { b = bytes.slice(); b[rnd(64)] = rnd(256); } // the header and section table
      else { const cut = rnd(bytes.length); b = new Uint8Array([...bytes.subarray(0, cut), ...pattern(rnd(64), i), ...bytes.subarray(cut)]); }
      try {
        // the full loader for a tenth of the cases (it makes pipelines), the checks for the rest
        if (i % 10 === 0) { Engine.deserialize(b, { device: gpu.device }).dispose(); engines++; }
        else { decodeEngine(readEngineFile(b), gpu.device); engines++; }
      } catch (e) {
        if (!(e instanceof EngineFileError)) throw new Error(`fuzz case ${i} (kind ${kind}) threw ${(e as Error)?.stack ?? e}`);
        reasons.set(e.reason, (reasons.get(e.reason) ?? 0) + 1);
      }
    }
    // flips in the 4 reserved header bytes are the only changes the checksum does not cover
    assert.ok(engines < 40, `${engines} damaged files loaded`);
    assert.ok((reasons.get('corrupt') ?? 0) > 100 && (reasons.get('truncated') ?? 0) > 50, JSON.stringify([...reasons]));
  });

  it('fuzz: well-sealed manifests with random edits are checked before anything reaches Vulkan', () => {
    let s = 777;
    const rnd = (n: number) => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) % n);
    const first = readEngineFile(bytes);
    const leaves: { obj: Record<string, unknown> | unknown[]; key: string | number }[] = [];
    const walk = (v: unknown) => {
      if (!v || typeof v !== 'object') return;
      for (const [k, x] of Object.entries(v)) {
        if (x && typeof x === 'object') walk(x);
        else leaves.push({ obj: v as Record<string, unknown>, key: Array.isArray(v) ? Number(k) : k });
      }
    };
    const manifestText = JSON.stringify(first.manifest);
    const values = [-1, 0, 1, 3, 7, 64, 255, 4096, 2 ** 31, 2 ** 32 + 5, 1e300, 0.5, 'x', '', null, true, [], {}];
    let accepted = 0, refused = 0;
    for (let i = 0; i < 100; i++) {
      const manifest = JSON.parse(manifestText);
      leaves.length = 0;
      walk(manifest);
      for (let k = 1 + rnd(3); k > 0; k--) {
        const leaf = leaves[rnd(leaves.length)];
        (leaf.obj as Record<string, unknown>)[leaf.key as string] = values[rnd(values.length)];
      }
      const b = writeEngineFile({ ...first, manifest });
      try {
        Engine.deserialize(b, { device: gpu.device }).dispose();
        accepted++;
      } catch (e) {
        if (!(e instanceof EngineFileError)) throw new Error(`manifest fuzz case ${i} threw ${(e as Error)?.stack ?? e}`);
        assert.equal(e.reason, 'corrupt');
        refused++;
      }
    }
    if (process.env.VKRT_FUZZ_STATS) console.log(`manifest fuzz: ${refused} refused, ${accepted} accepted`);
    assert.ok(refused > 35, `${refused} refused, ${accepted} accepted`);
  });

  it('resealing is what makes an edit pass the checksum (the test helpers do what they claim)', () => {
    const b = bytes.slice();
    b[28] ^= 1; // reserved: not covered
    Engine.deserialize(b, { device: gpu.device }).dispose();
    const c = bytes.slice();
    c[c.length - 1] ^= 0xff;
    expectReason(() => readEngineFile(c), 'corrupt');
    resealEngineFile(c);
    readEngineFile(c);
  });
});
