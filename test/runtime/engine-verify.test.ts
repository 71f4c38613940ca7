/**
 * Engine files checked against what produced them (issue 13, docs/engine-file.md): a sealed file
 * (valid checksum) whose dispatches are not what the layer's kernel gives is refused at load, naming
 * the layer (huge group counts, kernel sizes >= 65536 or negative, bindings, kernel weights, scratch,
 * buffer sizes); damaged SPIR-V is refused by SPIRV-Tools' validator; `untrusted` loads run on a
 * device with robust buffer access from SPIR-V compiled again; signed engines refuse every file not
 * signed with the key.
 */
import { strict as assert } from 'assert';
import { buildEngine } from '../../src/api/build';
import { EngineFileError, EngineFileReason, InputError } from '../../src/errors';
import { Device } from '../../src/gpu';
import { Tensor } from '../../src/ir/tensor';
import { googlenetLike, mobilenetV2Like } from '../../src/models/nets';
import { randomInputs } from '../../src/cli/exec';
import { Engine } from '../../src/runtime/engine';
import { readEngineFile, writeEngineFile } from '../../src/runtime/engine-file';
import { useGpu, validationWanted } from '../helpers/gpu';
import { singleNodeModel } from '../helpers/gpu-op';
import * as path from 'path';
import { swigluMlp } from '../../examples/plugins/make-model';
import { loadPluginModule } from '../../src/plugins/load';
import { register } from '../../src/plugins/registry';

const PLUGIN_FILE = path.resolve(__dirname, '..', '..', 'examples', 'plugins', 'swiglu-plugin.js');

/** A Resize engine: its kernel has a kernel weight (the taps table of input indices and weights). */
function resizeEngine(device: Device): Engine {
  const x = Tensor.from('float32', [1, 2, 3, 4], Array.from({ length: 24 }, (_, i) => i / 7));
  const { model } = singleNodeModel({ op: 'Resize', attrs: { mode: { type: 'string', value: 'linear' } }, inputs: [x, null, Tensor.from('float32', [4], [1, 1, 1.5, 2])], constant: [2] });
  return buildEngine(model, { device });
}

type Manifest = { plan: { layers: Record<string, unknown>[]; arenaBytes: number; weightBytes: number; scratchBytes: number } & Record<string, unknown>; shaders: number[][] };

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

/** The file with its manifest (as JSON) and SPIR-V changed, resealed. */
function edit(bytes: Uint8Array, change: (m: Manifest, spirv: Uint32Array[]) => void): Uint8Array {
  const parts = readEngineFile(bytes);
  const manifest = JSON.parse(JSON.stringify(parts.manifest)) as Manifest;
  const spirv = parts.spirv.map((w) => w.slice());
  change(manifest, spirv);
  return writeEngineFile({ ...parts, manifest: manifest as never, spirv });
}

type JsonDispatch = { shader: string; params: number[]; groups: number[]; workgroup: number[]; bindings: Record<string, unknown>[] };
const dispatchesOf = (m: Manifest, li: number) => (m.plan.layers[li] as { dispatches: JsonDispatch[] }).dispatches;

describe('engine files checked against what produced them', function () {
  this.timeout(300000);
  const gpu = useGpu();
  let engine: Engine;
  let bytes: Uint8Array;
  let inputs: Map<string, Tensor>;
  let convLayer: number;

  before(() => {
    engine = buildEngine(mobilenetV2Like({ size: 16 }), { device: gpu.device });
    bytes = engine.serialize();
    inputs = randomInputs(engine.inputs, 3);
    convLayer = engine.plan.layers.findIndex((l) => l.opTypes[0] === 'Conv');
  });
  after(() => engine?.dispose());

  const load = (b: Uint8Array) => () => Engine.deserialize(b, { device: gpu.device, file: 'x.engine' });

  it('every layer records what produced it; a file loads only with every layer re-derived (spec, push, FP16)', async () => {
    for (const l of engine.plan.layers) assert.ok(l.source && (l.source.node || l.source.convert), l.name);
    const variants: Engine[] = [buildEngine(googlenetLike({ size: 16 }), { device: gpu.device, paramMode: 'push' })];
    if (gpu.device.info.fp16) variants.push(buildEngine(mobilenetV2Like({ size: 16 }), { device: gpu.device, fp16: true }));
    try {
      for (const e of variants) {
        const loaded = Engine.deserialize(e.serialize(), { device: gpu.device });
        try {
          const ins = randomInputs(e.inputs, 5);
          assert.deepEqual(bitsOf(await loaded.createExecutionContext().execute(ins)), bitsOf(await e.createExecutionContext().execute(ins)));
        } finally {
          loaded.dispose();
        }
      }
    } finally {
      for (const e of variants) e.dispose();
    }
  });

  it('kernel weights are not stored: the loader derives them from the kernel (a size edit is refused)', async () => {
    const built = resizeEngine(gpu.device);
    try {
      const file = built.serialize();
      const m = readEngineFile(file).manifest as unknown as Manifest;
      const kw = (m.plan.layers as { kernelWeights: Record<string, unknown>[] }[]).flatMap((l) => l.kernelWeights);
      assert.ok(kw.length > 0);
      for (const w of kw) assert.deepEqual(Object.keys(w).sort(), ['bytes', 'offset']);
      const loaded = Engine.deserialize(file, { device: gpu.device });
      try {
        loaded.plan.layers.forEach((l, i) => l.kernelWeights.forEach((w, k) => assert.deepEqual(w.data, built.plan.layers[i].kernelWeights[k].data)));
        const ins = randomInputs(built.inputs, 2);
        assert.deepEqual(bitsOf(await loaded.createExecutionContext().execute(ins)), bitsOf(await built.createExecutionContext().execute(ins)));
      } finally {
        loaded.dispose();
      }
      expectReason(load(edit(file, (mm) => { (mm.plan.layers[0] as { kernelWeights: { bytes: number }[] }).kernelWeights[0].bytes -= 8; })), 'corrupt', /kernel weight 0 has/);
      // the scales the taps come from: the output shape no longer follows
      expectReason(load(edit(file, (mm) => {
        const ins = (mm.plan.layers[0] as { source: { inputs: { constant?: unknown }[] } }).source.inputs;
        ins[2] = { ...ins[2], dims: [3] } as never;
      })), 'corrupt', /layer 0/);
    } finally {
      built.dispose();
    }
  });

  it('refuses a sealed file asking for 65535x65535 workgroups, naming the layer', () => {
    expectReason(load(edit(bytes, (m) => { dispatchesOf(m, 0)[0].groups = [65535, 65535, 1]; })), 'corrupt', /layer 0 \('[^']+'\).*groups \[65535,65535,1\], the kernel's are/);
    expectReason(load(edit(bytes, (m) => { dispatchesOf(m, 3)[0].groups[0] += 1; })), 'corrupt', /layer 3 .*groups/);
  });

  it('refuses kernel-size parameters >= 65536 or negative, in the params or in the attributes they come from', () => {
    const params = dispatchesOf(readEngineFile(bytes).manifest as unknown as Manifest, convLayer)[0].params;
    for (let k = 0; k < params.length; k++) {
      for (const v of [65536, -1, params[k] + 1]) {
        expectReason(load(edit(bytes, (m) => { dispatchesOf(m, convLayer)[0].params[k] = v; })), 'corrupt', new RegExp(`layer ${convLayer} .*params`));
      }
    }
    // the attribute the kernel size comes from: shape inference and the weights disagree
    for (const v of [[65536, 65536], [-1, -1], [1, 1]]) {
      expectReason(load(edit(bytes, (m) => {
        const attrs = ((m.plan.layers[convLayer] as { source: { node: { attrs: { entries: [string, { value: unknown }][] } } } }).source.node.attrs.entries);
        const ks = attrs.find(([k]) => k === 'kernel_shape');
        if (ks) ks[1].value = v;
        else attrs.push(['kernel_shape', { type: 'ints', value: v } as never]);
      })), 'corrupt', new RegExp(`layer ${convLayer} `));
    }
  });

  it('refuses other edits that the kernel would not produce: workgroup, bindings, shader, defines, kernel weights, scratch, buffer sizes, tensor descriptors', () => {
    const cases: [string, (m: Manifest) => void, RegExp][] = [
      ['workgroup', (m) => { dispatchesOf(m, 0)[0].workgroup = [128, 1, 1]; }, /workgroup/],
      ['binding swapped', (m) => { const b = dispatchesOf(m, 1)[0].bindings; [b[0], b[b.length - 1]] = [b[b.length - 1], b[0]]; }, /bindings/],
      ['shader', (m) => { dispatchesOf(m, 0)[0].shader = 'nn/conv_gemm'; }, /shader/],
      ['defines', (m) => { (dispatchesOf(m, 0)[0] as { defines?: Record<string, number> }).defines = { HAS_BIAS: 0 }; }, /defines/],
      ['arena size', (m) => { m.plan.arenaBytes *= 4; }, /arenaBytes/],
      ['weight buffer size', (m) => { m.plan.weightBytes += 1024; }, /weightBytes/],
      ['input dims', (m) => { ((m.plan.layers[0] as { source: { inputs: { dims: number[] }[] } }).source.inputs[0].dims[2] = 64); }, /does not fit|infers/],
      ['output dims', (m) => { ((m.plan.layers[0] as { source: { outputs: { dims: number[] }[] } }).source.outputs[0].dims[1] = 64); }, /infers|does not fit/],
      ['no source', (m) => { delete (m.plan.layers[2] as { source?: unknown }).source; }, /does not record what produced it/],
      ['operator', (m) => { (m.plan.layers[2] as { source: { node: { opType: string } } }).source.node.opType = 'Relu'; }, /layer 2 /],
      ['module of another kernel', (m) => { const other = m.shaders.flat().find((x) => x !== m.shaders[0][0])!; m.shaders[0][0] = other; }, /layer 0 .*runs SPIR-V module \d+, which the file also gives to a different kernel|other dispatches of the same kernel/],
      ['weights overlapping', (m) => {
        const entries = (m.plan.tensors as unknown as { entries: [string, { kind: string; offset: number }][] }).entries.filter(([, t]) => t.kind === 'weight');
        entries[1][1].offset = entries[0][1].offset;
      }, /overlaps .* in the weight buffer/],
    ];
    for (const [what, change, re] of cases) {
      try {
        expectReason(load(edit(bytes, change)), 'corrupt', re);
      } catch (e) {
        throw new Error(`${what}: ${(e as Error).message}`);
      }
    }
  });

  it('validates SPIR-V with SPIRV-Tools: a damaged module with a valid checksum is EngineFileError(corrupt)', () => {
    expectReason(load(edit(bytes, (_, s) => { s[0][6] = 0xdeadbeef; })), 'corrupt', /SPIR-V module 0 is not valid SPIR-V/);
    // a valid module that runs another workgroup size than its dispatch says
    const rogue = Device.compileGlsl('#version 450\nlayout(local_size_x = 7) in;\nlayout(std430, binding = 0) buffer A { float a[]; };\nlayout(std430, binding = 1) buffer B { float b[]; };\nvoid main() { b[gl_GlobalInvocationID.x] = a[gl_GlobalInvocationID.x]; }\n');
    const pool = engine.plan.layers.findIndex((l) => l.dispatches.length === 1 && l.dispatches[0].bindings.length === 2);
    assert.ok(pool >= 0);
    expectReason(load(edit(bytes, (m, s) => { s.push(rogue); m.shaders[pool][0] = s.length - 1; })), 'corrupt', /runs workgroups of 7x1x1/);
  });

  it('untrusted files: robust buffer access and SPIR-V compiled again (the file\'s is not run); bit-identical results', async () => {
    const plain = bitsOf(await engine.createExecutionContext().execute(inputs));
    // with no device: the loader opens one with robust buffer access
    const own = Engine.deserialize(bytes, { untrusted: true });
    try {
      assert.notEqual(own.device.info.robustBufferAccess, 'none');
      assert.deepEqual(bitsOf(await own.createExecutionContext().execute(inputs)), plain);
    } finally {
      own.dispose();
    }
    // a given device must have robust access
    assert.throws(() => Engine.deserialize(bytes, { device: gpu.device, untrusted: true }), (e: unknown) => e instanceof InputError && /robust buffer access/.test(e.message));
    const robust = Device.create({ validation: validationWanted(), robustBufferAccess: true });
    try {
      // a valid but different module in the file: untrusted loads compile their own
      const swapped = edit(bytes, (m, s) => { const other = s.findIndex((_, k) => k !== m.shaders[0][0]); s[m.shaders[0][0]] = s[other].slice(); });
      const loaded = Engine.deserialize(swapped, { device: robust, untrusted: true });
      try {
        assert.deepEqual(bitsOf(await loaded.createExecutionContext().execute(inputs)), plain);
      } finally {
        loaded.dispose();
      }
      assert.deepEqual(robust.drainValidationMessages(), []);
    } finally {
      robust.dispose();
    }
  });

  it('signed engines: a key refuses unsigned files, other keys and edits made after signing', () => {
    const key = 'deployment secret';
    const signed = engine.serialize({ signingKey: key });
    assert.equal(readEngineFile(signed).signed, true);
    assert.deepEqual(Buffer.from(engine.serialize({ signingKey: key })), Buffer.from(signed), 'deterministic');
    Engine.deserialize(signed, { device: gpu.device, key }).dispose();
    Engine.deserialize(signed, { device: gpu.device }).dispose(); // without a key the signature is not needed
    Engine.deserialize(signed, { device: gpu.device, key: Buffer.from(key) }).dispose();
    expectReason(() => Engine.deserialize(bytes, { device: gpu.device, key }), 'signature', /not signed/);
    expectReason(() => Engine.deserialize(signed, { device: gpu.device, key: 'another key' }), 'signature', /does not match/);
    // an edit with the checksum recomputed still breaks the signature
    const edited = edit(signed, (m) => { m.plan.layers[0].name = 'renamed'; });
    const parts = readEngineFile(signed);
    const resigned = writeEngineFile({ ...parts, manifest: readEngineFile(edited).manifest }, { signingKey: 'attacker key' });
    expectReason(() => Engine.deserialize(resigned, { device: gpu.device, key }), 'signature', /does not match/);
    // the signature bytes themselves
    const flipped = signed.slice();
    flipped[flipped.length - 1] ^= 1;
    new DataView(flipped.buffer).setUint32(24, 0, true);
    expectReason(() => readEngineFile(flipped, undefined, { key }), 'corrupt', /checksum/);
  });

  it('plugin layers: derived again with the plugin registered; without it loaded as the file carries them, refused when untrusted or when they claim a built-in operator', async () => {
    const built = buildEngine(swigluMlp({ seq: 4, dim: 8 }), { device: gpu.device, plugins: [PLUGIN_FILE] });
    const li = built.plan.layers.findIndex((l) => l.plugin);
    assert.ok(li >= 0);
    try {
      const file = built.serialize();
      // not registered in this process: loads, since the file carries the plugin's kernel; such a
      // layer is held to the buffer ranges and device limits only (docs/engine-file.md)
      Engine.deserialize(file, { device: gpu.device }).dispose();
      Engine.deserialize(edit(file, (m) => { dispatchesOf(m, li)[0].groups[0] += 1; }), { device: gpu.device }).dispose();
      const robust = Device.create({ validation: validationWanted(), robustBufferAccess: true });
      try {
        expectReason(() => Engine.deserialize(file, { device: robust, untrusted: true }), 'corrupt', /plugin 'swiglu' \(version 1\.0\.0\).*not registered here/);
      } finally {
        robust.dispose();
      }
      // a built-in layer that claims a plugin to skip the checks
      expectReason(load(edit(bytes, (m) => {
        (m.plan.layers[0] as { plugin?: unknown }).plugin = { name: 'evil', version: '1' };
        (m.plan as { plugins?: unknown }).plugins = [{ name: 'evil', version: '1', domain: '', opType: 'Conv', layers: [(m.plan.layers[0] as { name: string }).name] }];
        dispatchesOf(m, 0)[0].groups = [65535, 65535, 1];
      })), 'corrupt', /layer 0 .*in place of Conv, which vkrt implements/);
      // registered: the plugin's kernel runs again, and an edit is refused
      const handles = loadPluginModule(PLUGIN_FILE).map((p) => register(p));
      try {
        const loaded = Engine.deserialize(file, { device: gpu.device });
        const ins = randomInputs(built.inputs, 4);
        assert.deepEqual(bitsOf(await loaded.createExecutionContext().execute(ins)), bitsOf(await built.createExecutionContext().execute(ins)));
        loaded.dispose();
        expectReason(load(edit(file, (m) => { dispatchesOf(m, li)[0].groups[0] += 1; })), 'corrupt', new RegExp(`layer ${li} .*groups`));
      } finally {
        for (const h of handles) h.unregister();
      }
    } finally {
      built.dispose();
    }
  });
});
