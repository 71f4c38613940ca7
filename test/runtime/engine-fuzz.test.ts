/**
 * Engine-file fuzz under a watchdog (issue 13): well-sealed files (checksum recomputed) with
 * targeted edits to the manifest (group counts, workgroup sizes, params, bindings, tensor slots,
 * buffer and scratch sizes, kernel weights, SPIR-V module indices, what produced each layer) and to
 * SPIR-V words (valid-looking edits of OpConstant literals among them) are loaded and executed one
 * by one in a child process (engine-fuzz-child.ts, helpers/engine-fuzz.ts) that the parent
 * watches: a file that takes longer than the timer is a hang (the child is killed and a new one
 * continues with the next file), a child that dies is a crash. Manifest edits load in the default
 * mode (a tenth as `untrusted`), SPIR-V edits as `untrusted` (the default mode validates SPIR-V
 * but trusts what a valid module computes: the second test measures what that allows, see
 * docs/engine-file.md). Every file must be refused with an EngineFileError or run, with no
 * validation message. Then a sample of the files that ran runs again under GPU-assisted validation
 * (the Khronos layer reports any shader access outside its binding).
 *
 * npm test: 300 files, 3 under GPU-assisted validation (about 15 s on lavapipe). Bigger runs:
 * VKRT_FUZZ_FILES=N, VKRT_FUZZ_GPUAV=N|all, VKRT_FUZZ_SEED, VKRT_FUZZ_TIMEOUT_MS (per file).
 * The counts are printed: files, refused, ran, hangs, crashes, out-of-bounds.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildEngine } from '../../src/api/build';
import { googlenetLike, mobilenetV2Like } from '../../src/models/nets';
import { loadModel } from '../../src/onnx/parse';
import { Fuzzed, isOob, makeFiles, Outcome, runWatched } from '../helpers/engine-fuzz';
import { MODELS } from '../helpers/model-cases';
import { useGpu, validationWanted } from '../helpers/gpu';

/** One line of counts for a set of outcomes. */
function summary(files: Fuzzed[], outcomes: Outcome[]): { line: string; by: (o: Outcome['outcome']) => Outcome[]; oob: Outcome[]; noisy: Outcome[] } {
  const by = (o: Outcome['outcome']) => outcomes.filter((x) => x.outcome === o);
  const oob = outcomes.filter((o) => (o.messages ?? []).some(isOob));
  const noisy = outcomes.filter((o) => (o.messages ?? []).some((m) => !isOob(m)));
  const reasons = new Map<string, number>();
  for (const o of by('refused')) reasons.set(o.reason!, (reasons.get(o.reason!) ?? 0) + 1);
  const spirv = (o: Outcome) => files[o.i].what.includes(' spirv ');
  const ran = by('ran');
  const line = `${outcomes.length} files (${outcomes.filter(spirv).length} with SPIR-V edits, ${outcomes.filter((o) => files[o.i].untrusted).length} loaded as untrusted), ` +
    `${by('refused').length} refused (${[...reasons].map(([r, n]) => `${r} ${n}`).join(', ')}), ${ran.length} ran (${ran.filter(spirv).length} with SPIR-V edits, ${ran.filter((o) => files[o.i].untrusted).length} untrusted), ` +
    `hangs = ${by('hang').length}, crashes = ${by('crash').length}, out-of-bounds = ${oob.length}, other errors = ${by('error').length}, validation messages = ${noisy.length}`;
  return { line, by, oob, noisy };
}

describe('engine-file fuzz (watched child processes)', function () {
  this.timeout(30 * 60 * 1000);
  const gpu = useGpu();
  let dir: string;
  let bases: { name: string; bytes: Uint8Array }[] = [];

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vkrt-fuzz-'));
    const build = (name: string, make: () => ReturnType<typeof buildEngine>) => {
      const e = make();
      try { bases.push({ name, bytes: e.serialize() }); } finally { e.dispose(); }
    };
    // small engines (the child makes every pipeline again for each file): spec and push params,
    // FP16 with conversion layers, concat views, a real model
    const mnist = path.join(MODELS, 'mnist-8', 'model.onnx');
    if (fs.existsSync(mnist)) build('mnist-8', () => buildEngine(loadModel(mnist), { device: gpu.device }));
    build('mobilenet', () => buildEngine(mobilenetV2Like({ size: 16 }), { device: gpu.device }));
    build(gpu.device.info.fp16 ? 'googlenet-fp16-push' : 'googlenet-push', () => buildEngine(googlenetLike({ size: 16 }), { device: gpu.device, paramMode: 'push', fp16: gpu.device.info.fp16 }));
  });
  after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); bases = []; });

  it('every mutated, resealed file is refused with EngineFileError or runs within bounds: no hang, no crash, no out-of-bounds access', async () => {
    const count = Number(process.env.VKRT_FUZZ_FILES) || 300;
    const timeoutMs = Number(process.env.VKRT_FUZZ_TIMEOUT_MS) || 60000;
    const files = makeFiles(bases, count, dir, Number(process.env.VKRT_FUZZ_SEED) || 20240613);
    const t0 = performance.now();
    // 1. every file, with the validation layer as the test run has it
    const outcomes = await runWatched(files, { ...process.env }, timeoutMs, dir);
    const s1 = summary(files, outcomes);
    console.log(`      engine-file fuzz: ${s1.line}; ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    // 2. a sample of the files that ran, under GPU-assisted validation (the Khronos layer
    //    instruments every shader and reports each access outside its binding; slow on lavapipe:
    //    seconds per engine), the smallest engines first; VKRT_FUZZ_GPUAV=N or 'all'
    let s2: ReturnType<typeof summary> | undefined;
    if (validationWanted()) {
      const t1 = performance.now();
      const want = process.env.VKRT_FUZZ_GPUAV === 'all' ? Infinity : Number(process.env.VKRT_FUZZ_GPUAV ?? 3);
      const ran = s1.by('ran').map((o) => files[o.i]);
      // default-mode loads first (with robust access the layer does not check buffer bounds), small engines first
      const rank = (f: Fuzzed) => (f.untrusted ? 2 : 0) + (f.what.startsWith('mnist') ? 0 : 1);
      const sample = [...ran].sort((a, b) => rank(a) - rank(b)).slice(0, want);
      // and a canary that must be reported: proof that the layer checks here
      const push = bases.find((b) => b.name.includes('push'))!;
      const canary: Fuzzed = { file: path.join(dir, 'canary.engine'), what: `${push.name} canary (Gemm K x100 after the checks)`, untrusted: false, canary: true };
      fs.writeFileSync(canary.file, push.bytes);
      const env = { ...process.env, VK_LAYER_ENABLES: 'VK_VALIDATION_FEATURE_ENABLE_GPU_ASSISTED_EXT' };
      const gpuAv = await runWatched([...sample, canary], env, Math.max(timeoutMs, 180000), dir);
      const canaryOut = gpuAv.find((o) => o.i === sample.length);
      assert.ok(canaryOut && (canaryOut.messages ?? []).some(isOob), `GPU-assisted validation did not report the canary's out-of-bounds reads (${JSON.stringify(canaryOut)}): it is not active, so the sample proves nothing`);
      s2 = summary(sample, gpuAv.filter((o) => o !== canaryOut));
      console.log(`      engine-file fuzz, GPU-assisted validation: ${s2.line}; ${((performance.now() - t1) / 1000).toFixed(1)} s`);
    }
    const show = (list: Outcome[], fs_: Fuzzed[] = files) => list.slice(0, 5).map((o) => `#${o.i} ${fs_[o.i]?.what}: ${o.message ?? ''} ${(o.messages ?? []).join(' | ').slice(0, 600)}`).join('\n');
    assert.equal(outcomes.length, files.length, 'one outcome per file');
    for (const [s, list] of [[s1, files], ...(s2 ? [[s2, undefined]] : [])] as [ReturnType<typeof summary>, Fuzzed[] | undefined][]) {
      assert.equal(s.by('hang').length, 0, `hangs:\n${show(s.by('hang'), list)}`);
      assert.equal(s.by('crash').length, 0, `crashes:\n${show(s.by('crash'), list)}`);
      assert.equal(s.by('error').length, 0, `errors other than EngineFileError:\n${show(s.by('error'), list)}`);
      assert.equal(s.oob.length, 0, `out-of-bounds accesses:\n${show(s.oob, list)}`);
      assert.equal(s.noisy.length, 0, `validation messages:\n${show(s.noisy, list)}`);
    }
    assert.ok(s1.by('refused').length > files.length / 2, 'most edits are refused');
    assert.ok(s1.by('ran').length > 0, 'some edits leave the engine intact (labels, no-op values) and it runs');
  });

  it('measurement (VKRT_FUZZ_SPIRV_DEFAULT=N): SPIR-V edits loaded in the default mode, where only validation stands between them and the driver', async function () {
    const count = Number(process.env.VKRT_FUZZ_SPIRV_DEFAULT);
    if (!count) this.skip();
    const files = makeFiles(bases, count, dir, (Number(process.env.VKRT_FUZZ_SEED) || 20240613) + 1, { spirvOnly: true, spirvUntrusted: false });
    const outcomes = await runWatched(files, { ...process.env }, Number(process.env.VKRT_FUZZ_TIMEOUT_MS) || 60000, dir);
    const s = summary(files, outcomes);
    console.log(`      engine-file fuzz, SPIR-V edits in the default mode: ${s.line}`);
    for (const o of [...s.by('crash'), ...s.by('hang')]) console.log(`        ${o.outcome}: ${files[o.i].what}`);
    assert.equal(s.by('error').length, 0, 'every refusal is an EngineFileError');
  });
});
