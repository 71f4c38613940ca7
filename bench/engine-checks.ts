/**
 * What the engine-file checks cost (docs/engine-file.md): per model, the load time of an engine
 * file and the part of it spent re-deriving every layer (plan-verify.ts) and validating the SPIR-V
 * (SPIRV-Tools), the load time with `untrusted` (SPIR-V compiled again, robust buffer access), and
 * the GPU time of a run (timestamps around the program) with and without robust buffer access (the
 * same engine on two devices, runs interleaved).
 *
 *   npx tsx bench/engine-checks.ts [--runs=N] [--loads=N] [model.onnx[:name:1x2x3] ...]
 *
 * Default models: every .data/models/**.onnx that builds, plus the MobileNetV2- and
 * GoogLeNet-shaped networks of src/models/nets.ts (32x32).
 */
import * as fs from 'fs';
import * as path from 'path';
import { buildEngine } from '../src/api/build';
import { flagString, parseArgs } from '../src/cli/args';
import { randomInputs } from '../src/cli/exec';
import { clearCompiledShaders } from '../src/gpu/compile';
import { Device } from '../src/gpu';
import { Model } from '../src/ir/graph';
import { googlenetLike, mobilenetV2Like } from '../src/models/nets';
import { loadModel } from '../src/onnx/parse';
import { decodeEngine, Engine } from '../src/runtime/engine';
import { readEngineFile } from '../src/runtime/engine-file';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function time<T>(f: () => T): [T, number] {
  const t = performance.now();
  const r = f();
  return [r, performance.now() - t];
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), ['runs', 'loads']);
  const runs = Number(flagString(args, 'runs') ?? 50);
  const loads = Number(flagString(args, 'loads') ?? 5);
  const cases: { name: string; model: () => Model; shapes?: Record<string, number[]> }[] = [];
  if (args.positional.length) {
    for (const spec of args.positional) {
      const [file, input, dims] = spec.split(':');
      cases.push({ name: path.basename(path.dirname(file)) + '/' + path.basename(file), model: () => loadModel(file), shapes: input ? { [input]: dims.split('x').map(Number) } : undefined });
    }
  } else {
    const root = path.join(__dirname, '..', '.data', 'models');
    const walk = (d: string): string[] => (fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : e.name.endsWith('.onnx') ? [path.join(d, e.name)] : [])) : []);
    for (const f of walk(root).sort()) cases.push({ name: path.relative(root, f), model: () => loadModel(f) });
    cases.push({ name: 'mobilenetV2Like(32)', model: () => mobilenetV2Like({ size: 32 }) });
    cases.push({ name: 'googlenetLike(32)', model: () => googlenetLike({ size: 32 }) });
  }
  const device = Device.create();
  const robust = Device.create({ robustBufferAccess: true });
  console.log(`device: ${device.info.name}; robust buffer access: ${robust.info.robustBufferAccess}; loads: median of ${loads}; runs: median of ${runs} each, interleaved`);
  console.log('| model | layers | file | load | of which layer checks | of which SPIR-V validation | untrusted load (first, SPIR-V compiled) | GPU time per run | with robust access | robust/plain |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const c of cases) {
    let built: Engine;
    try {
      const fixed: Record<string, number[]> = { ...(c.shapes ?? {}) };
      const m = c.model();
      for (const i of m.graph.inputs) {
        const t = m.graph.types.get(i);
        if (!m.graph.initializers.has(i) && t?.shape?.some((d) => typeof d !== 'number') && !fixed[i]) fixed[i] = t.shape.map((d) => (typeof d === 'number' ? d : 1));
      }
      built = buildEngine(m, { device, inputShapes: fixed });
    } catch (e) {
      console.log(`| ${c.name} | – | – | – | – | – | – | – | – | does not build: ${(e as Error).message.split('\n')[0].slice(0, 80)} |`);
      continue;
    }
    const bytes = built.serialize();
    const file = readEngineFile(bytes);
    const loadMs: number[] = [], verifyMs: number[] = [], spirvMs: number[] = [];
    for (let k = 0; k < loads; k++) {
      const [e, ms] = time(() => Engine.deserialize(bytes, { device }));
      e.dispose();
      loadMs.push(ms);
      // the two checks alone: decode + plan checks + layer checks, minus decode + plan checks
      const [, all] = time(() => decodeEngine(file, device));
      const [, noVerify] = time(() => decodeEngine(file, undefined));
      verifyMs.push(Math.max(0, all - noVerify));
      spirvMs.push(time(() => file.spirv.forEach((w) => Device.validateSpirv(w)))[1]);
    }
    clearCompiledShaders();
    const [u, untrustedMs] = time(() => Engine.deserialize(bytes, { device: robust, untrusted: true }));
    const inputs = randomInputs(built.inputs, 1);
    const plainCtx = built.createExecutionContext(), robustCtx = u.createExecutionContext();
    plainCtx.gpuTiming = robustCtx.gpuTiming = true;
    for (let k = 0; k < 5; k++) { await plainCtx.execute(inputs); await robustCtx.execute(inputs); }
    const plain: number[] = [], rob: number[] = [];
    const gpuMs = (c: typeof plainCtx) => c.lastTiming!.gpuMs ?? c.lastTiming!.latencyMs;
    for (let k = 0; k < runs; k++) {
      await plainCtx.execute(inputs); plain.push(gpuMs(plainCtx));
      await robustCtx.execute(inputs); rob.push(gpuMs(robustCtx));
    }
    const f1 = (x: number) => x.toFixed(1);
    console.log(`| ${c.name} | ${built.plan.layers.length} | ${bytes.length.toLocaleString('en')} B | ${f1(median(loadMs))} ms | ${f1(median(verifyMs))} ms | ${f1(median(spirvMs))} ms (${file.spirv.length} modules) | ${f1(untrustedMs)} ms | ${median(plain).toFixed(3)} ms | ${median(rob).toFixed(3)} ms | ${(median(rob) / median(plain)).toFixed(2)}x |`);
    u.dispose();
    built.dispose();
  }
  robust.dispose();
  device.dispose();
}

main().catch((e) => { console.error(e); process.exit(1); });
