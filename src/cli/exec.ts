/**
 * `vkrt exec`: trtexec's workflow and flags (same names, same meanings).
 *
 * Engine:   --onnx=FILE (build) | --loadEngine=FILE (load), --saveEngine=FILE,
 *           --shapes=a:1x3x224x224,b:1x10, --minShapes/--optShapes/--maxShapes (an optimization
 *           profile; --shapes then picks the run shape inside it; docs/dynamic-shapes.md),
 *           --fp16, --int8 (not yet supported), --noFusion,
 *           --paramMode=spec|push, --device=N, --builderOptimizationLevel=0..5 (default 3: time
 *           up to three candidates per layer on the device; 0: heuristic), --timingCacheFile=F,
 *           --plugins=./a.js[,./b.js] (plugin modules, as trtexec's --dynamicPlugins), --refit (a
 *           refittable engine),
 *           --coopMat=auto|nv|khr|off|emulate (matrix-unit GEMM candidates, docs/coopmat.md)
 * Files:    --untrusted (load a file you did not build: robust buffer access, SPIR-V compiled
 *           again), --engineKey=KEYFILE (sign with --saveEngine; with --loadEngine refuse files
 *           not signed with that key); docs/engine-file.md
 * Inputs:   --loadInputs=FILE.npz | name:file.npy,name:file.pb,name:file.bin,name:file.npz[:key]
 *           (random, seeded, when absent); --exportOutput=FILE.npz|FILE.json
 * Timing:   --warmUp=MS (default 200), --duration=S (default 3), --iterations=N (default 10): the
 *           timed loop runs at least N iterations and at least S seconds; --avgRuns=N (default 10);
 *           --infStreams=N (default 1: N execution contexts, streams, run the loop concurrently;
 *           throughput is their aggregate), --inFlight=K (default 1: runs each stream keeps
 *           enqueued at once, so transfers overlap the GPU work; docs/async.md)
 * Profile:  --dumpProfile, --exportProfile=F.json, --exportTimes=F.json, --exportLayerInfo=F.json,
 *           --exportTrace=F.json (Chrome/Perfetto trace), --separateProfileRun
 * Misc:     --verbose (build log, stack traces)
 */
import * as fs from 'fs';
import * as path from 'path';
import { InputError } from '../errors';
import { Device } from '../gpu/device';
import { Tensor } from '../ir/tensor';
import { writeNpz } from '../io/npy';
import { Engine } from '../runtime/engine';
import { inspectPlan } from '../runtime/inspector';
import { fingerprintOf } from '../runtime/engine-file';
import { LayerProfile } from '../runtime/profiler';
import { checkInputShape, matchProfile } from '../runtime/profiles';
import { buildTrace } from '../runtime/trace';
import { flagString, parseCommand, type CommandSpec, type ParsedArgs } from './args';
import {
  BUILD_HELP, BUILD_SWITCHES, BUILD_VALUE_FLAGS, buildConfig, checkNoBuildFlags, deviceForEngineFile, deviceIndex, loadOnnx,
  checkHostBytes, parseShapes, readUserFile,
} from './engine-flags';
import { averageLine, performanceSummary, profileJson, profileTable, timesJson } from './perf-report';
import { buildEngineAsync } from '../api/build';
import { hasDataDependentNodes, isStagedEngineFile } from '../api/staged';
import { runStagedExec } from './staged-exec';
import type { TuningProgress } from '../builder/tuning/tune';
import { ExecutionContext, RunTiming } from '../runtime/context';
import { progressLine } from './progress';
import type { EngineIO } from '../kernel/plan';
import { CALIB_HELP, CALIB_VALUE_FLAGS, calibratorFromFlags } from './calib';

export { parseShapes } from './engine-flags';

const VALUE_FLAGS = [
  ...BUILD_VALUE_FLAGS, 'loadEngine', 'saveEngine', 'engineKey', 'loadInputs', 'exportOutput', 'iterations', 'warmUp', 'duration', 'avgRuns', 'infStreams', 'inFlight',
  'exportProfile', 'exportTimes', 'exportLayerInfo', 'exportTrace', ...CALIB_VALUE_FLAGS,
];
const SWITCHES = [...BUILD_SWITCHES, 'dumpProfile', 'separateProfileRun', 'untrusted'];

export const SPEC: CommandSpec = {
  name: 'exec',
  summary: "trtexec's workflow with trtexec's flags: build an engine from an ONNX model (--onnx) or load an engine file (--loadEngine), optionally save it, benchmark it and print the performance summary, and profile it per layer.",
  usage: 'exec (--onnx=FILE | --loadEngine=FILE) [flags]',
  valueFlags: VALUE_FLAGS,
  switches: SWITCHES,
  help: {
    ...BUILD_HELP,
    ...CALIB_HELP,
    loadEngine: { value: 'FILE', description: 'load an engine file (from --saveEngine or engine.serialize()) instead of building' },
    saveEngine: { value: 'FILE', description: 'write the engine to an engine file' },
    engineKey: { value: 'KEYFILE', description: 'sign the file written with --saveEngine; with --loadEngine refuse files not signed with this key' },
    untrusted: { description: 'load a file you did not build: robust buffer access, SPIR-V compiled again, its pipeline cache not used' },
    loadInputs: { value: 'SPEC', description: 'inputs: FILE.npz (arrays by input name), or name:file.npy|.pb|.bin|.npz[:key],...', default: 'seeded random values' },
    exportOutput: { value: 'FILE', description: 'write the outputs of the last run as .npz, or trtexec-style .json' },
    iterations: { value: 'N', description: 'run at least N timed iterations', default: '10' },
    warmUp: { value: 'MS', description: 'run for MS milliseconds before timing', default: '200' },
    duration: { value: 'S', description: 'run the timed loop for at least S seconds', default: '3' },
    avgRuns: { value: 'N', description: 'print an average every N runs (0: none)', default: '10' },
    infStreams: { value: 'N', description: 'run N execution contexts (streams) concurrently; the throughput is their aggregate', default: '1' },
    inFlight: { value: 'K', description: 'keep K runs enqueued per stream (1..16), so the upload and read-back of one overlap the GPU work of another', default: '1' },
    dumpProfile: { description: 'print the per-layer GPU time table and the top 5 layers' },
    separateProfileRun: { description: 'profile in a separate loop, after the benchmark ran without timestamps' },
    exportProfile: { value: 'FILE', description: 'write the per-layer profile as JSON' },
    exportTimes: { value: 'FILE', description: 'write every run\'s timings as JSON' },
    exportLayerInfo: { value: 'FILE', description: 'write the engine inspector\'s layer information as JSON' },
    exportTrace: { value: 'FILE', description: 'write a Chrome/Perfetto trace (layers on a GPU track, run phases on a host track)' },
    verbose: { description: 'print the build log and the stack of an error' },
  },
  notes: ['A build shows its progress on stderr when stderr is a terminal.'],
  examples: [
    'vkrt exec --onnx=model.onnx --shapes=input:1x3x224x224 --saveEngine=model.engine',
    'vkrt exec --loadEngine=model.engine --dumpProfile --exportTrace=trace.json',
    'vkrt exec --onnx=bert.onnx --minShapes=input_ids:1x128 --optShapes=input_ids:8x128 --maxShapes=input_ids:32x128 --shapes=input_ids:4x128 --saveEngine=bert.engine',
    'vkrt exec --onnx=model.onnx --fp16 --loadInputs=inputs.npz --exportOutput=out.npz --iterations=100',
    'vkrt exec --onnx=model.onnx --int8 --fp16 --calib=calib/ --calibCache=model.cache --saveEngine=model.int8.engine',
  ],
};

import { loadInputs, randomInputs } from './inputs';

export { loadInputs, randomInputs };

/** The engine's inputs with the dims a run gives them (--shapes, for an engine with profiles). */
function runInputs(inputs: readonly EngineIO[], shapes: Record<string, number[]>): EngineIO[] {
  return inputs.map((io) => (shapes[io.name] ? { ...io, dims: [...shapes[io.name]] } : io));
}

/** --exportOutput as a function of the outputs (undefined without the flag). */
function exportFlag(args: ParsedArgs): ((outputs: Map<string, Tensor>) => void) | undefined {
  const exp = flagString(args, 'exportOutput');
  return exp ? (outputs) => { exportOutputs(exp, outputs); console.log(`[I] Outputs written to ${exp}`); } : undefined;
}

export function exportOutputs(file: string, outputs: Map<string, Tensor>): void {
  if (file.endsWith('.json')) {
    const j = [...outputs].map(([name, t]) => ({ name, dimensions: t.dims.join('x'), values: Array.from(t.toNumbers()) }));
    fs.writeFileSync(file, JSON.stringify(j, null, 1));
  } else {
    fs.writeFileSync(file, writeNpz(outputs));
  }
}

function numberFlag(args: ParsedArgs, name: string, fallback: number, integer: boolean): number {
  const v = flagString(args, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) throw new InputError(`--${name} must be a non-negative ${integer ? 'integer' : 'number'}, got '${v}'`);
  return n;
}

function writeJson(file: string, value: unknown, flag: string, compact = false): void {
  try {
    fs.writeFileSync(file, compact ? JSON.stringify(value) : JSON.stringify(value, null, 1));
  } catch (e) {
    throw new InputError(`${flag}: cannot write ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  console.log(`[I] ${flag}: wrote ${file}`);
}

/** A run's timing and the stream (context index) it ran on. */
export type StreamRunTiming = RunTiming & { stream: number };

/**
 * Runs the contexts (streams) concurrently, each keeping `inFlight` runs enqueued: at least
 * `iterations` runs in all and for at least `durationMs`; returns the timings in completion order
 * and the host wall time of the whole loop. `onRun` sees each timing.
 */
async function timedLoop(ctxs: readonly ExecutionContext[], inputs: Map<string, Tensor>, iterations: number, durationMs: number, inFlight = 1, onRun?: (t: RunTiming) => void) {
  const runs: StreamRunTiming[] = [];
  let outputs: Map<string, Tensor> | undefined;
  let started = 0;
  const start = performance.now();
  const more = () => started < iterations || performance.now() - start < durationMs;
  await Promise.all(ctxs.map(async (ctx, stream) => {
    ctx.maxInFlight = Math.max(ctx.maxInFlight, inFlight);
    const queue: { outputs: Promise<Map<string, Tensor>>; timing: Promise<RunTiming> }[] = [];
    for (;;) {
      while (queue.length < inFlight && more()) {
        started++;
        queue.push(ctx.enqueue(inputs));
      }
      const r = queue.shift();
      if (!r) break;
      outputs = await r.outputs;
      const t = { ...(await r.timing), stream };
      runs.push(t);
      onRun?.(t);
    }
  }));
  return { runs, wallMs: performance.now() - start, outputs };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand(SPEC, argv);
  if (!args) return 0;
  const onnx = flagString(args, 'onnx');
  const engineFile = flagString(args, 'loadEngine');
  if (!onnx && !engineFile) throw new InputError('usage: vkrt exec (--onnx=FILE | --loadEngine=FILE) [flags]; see `vkrt exec --help`');
  if (onnx && engineFile) throw new InputError('give --onnx (build an engine) or --loadEngine (load one), not both');
  const verbose = args.flags.has('verbose');
  const iterations = numberFlag(args, 'iterations', 10, true);
  const warmUpMs = numberFlag(args, 'warmUp', 200, false);
  const durationMs = 1000 * numberFlag(args, 'duration', 3, false);
  const avgRuns = numberFlag(args, 'avgRuns', 10, true);
  const wantProfile = ['dumpProfile', 'exportProfile', 'exportTrace'].some((f) => args.flags.has(f));
  const shapes = parseShapes(flagString(args, 'shapes'));
  const index = deviceIndex(args);
  const untrusted = args.flags.has('untrusted');
  if (untrusted && !engineFile) throw new InputError('--untrusted applies to --loadEngine (an engine built here from --onnx is trusted)');
  const keyFile = flagString(args, 'engineKey');
  if (keyFile && !engineFile && !flagString(args, 'saveEngine')) throw new InputError('--engineKey signs with --saveEngine or checks with --loadEngine; give one of them');
  const key = keyFile ? readUserFile(keyFile, '--engineKey') : undefined;
  if (key && key.length < 16) throw new InputError(`--engineKey: ${keyFile} holds ${key.length} bytes; use a secret of at least 16 bytes (e.g. \`head -c 32 /dev/urandom > ${keyFile}\`)`);

  let device: Device | undefined;
  let engine: Engine | undefined;
  try {
    let loaded: Map<string, Tensor> | undefined;
    const load = flagString(args, 'loadInputs');
    if (engineFile) {
      checkNoBuildFlags(args);
      const bytes = readUserFile(engineFile, '--loadEngine');
      if (isStagedEngineFile(bytes)) {
        device = Device.create({ index });
        return await runStagedExec({ bytes, file: engineFile, device, config: {}, shapes, loadInputs: load, iterations, verbose, exportOutputs: exportFlag(args) });
      }
      device = deviceForEngineFile(bytes, engineFile, index, { untrusted, key });
      engine = Engine.deserialize(bytes, { device, file: engineFile, untrusted, key });
      device ??= engine.device;
      const how = [key ? 'signature checked' : '', untrusted ? `untrusted: SPIR-V compiled again, robust buffer access (${device.info.robustBufferAccess})` : '', device.info.pipelineCacheRestored ? 'pipeline cache restored' : ''].filter((x) => x);
      console.log(`[I] Engine loaded from ${engineFile} (${bytes.length} bytes) in ${engine.buildMs.toFixed(1)} ms on ${device.info.name}${how.length ? ` (${how.join(', ')})` : ''}`);
      for (const [name, dims] of Object.entries(shapes)) {
        const io = engine.inputs.find((i) => i.name === name);
        if (!io) throw new InputError(`--shapes names '${name}', which is not an input of the engine (inputs: ${engine.inputs.map((i) => i.name).join(', ')})`);
        if (!engine.plan.profiles && io.dims.join('x') !== dims.join('x')) throw new InputError(`--shapes: the engine was built for ${name}:${io.dims.join('x')}, not ${dims.join('x')}; build an engine for that shape (or with a profile: --minShapes/--optShapes/--maxShapes)`);
        checkInputShape(engine.plan, io, dims); // inside a profile
      }
      if (load) loaded = loadInputs(load, runInputs(engine.inputs, shapes));
    } else {
      const config = buildConfig(args);
      const profiled = new Set(Object.keys(config.profiles?.[0] ?? {}));
      const { model, parseMs } = loadOnnx(onnx!);
      // Inputs given as files fix the shapes of symbolic dims that --shapes leaves open.
      const g = model.graph;
      // sizes first: an input the host cannot hold is refused before anything is built or allocated
      for (const [name, dims] of Object.entries(shapes)) {
        const dtype = g.types.get(name)?.dtype;
        if (dtype) checkHostBytes(name, dtype, dims, 'input', load ? 'hold' : 'fill with random values');
      }
      device = Device.create({ index });
      if (config.hostFallback || hasDataDependentNodes(model, config.registry)) {
        if (config.int8) throw new InputError('--int8 and a staged engine (data-dependent shapes or --hostFallback) do not combine yet');
        return await runStagedExec({ model, file: onnx!, device, config, shapes, loadInputs: load, iterations, save: flagString(args, 'saveEngine'), verbose, exportOutputs: exportFlag(args) });
      }
      if (load) {
        const declared = g.inputs.filter((i) => !g.initializers.has(i)).map((name) => {
          const t = g.types.get(name);
          return { name, dtype: t?.dtype ?? 'float32', dims: shapes[name] ?? (t?.shape ?? []).map((d) => (typeof d === 'number' ? d : -1)), gpu: 'f32' as const };
        });
        loaded = loadInputs(load, declared);
        for (const [k, t] of loaded) if (!shapes[k]) shapes[k] = [...t.dims];
      }
      if (config.int8) config.calibrator = calibratorFromFlags(args, model, shapes, (l) => console.log(`[W] ${l}`));
      else if (CALIB_VALUE_FLAGS.some((f) => args.flags.has(f))) throw new InputError('--calib, --calibAlgo, --calibCache, --calibBatches and --percentile go with --int8');
      const progress = process.stderr.isTTY
        ? (t: TuningProgress) => process.stderr.write(`\r[tuning] layer ${t.layer}/${t.layers} ${t.name.slice(0, 40).padEnd(40)} ETA ${(t.etaMs / 1000).toFixed(1)} s${t.layer === t.layers ? '\n' : ''}`)
        : undefined;
      // with a profile, --shapes (or --loadInputs) gives the shape to run of the inputs it covers
      const fixedShapes = Object.fromEntries(Object.entries(shapes).filter(([n]) => !profiled.has(n)));
      engine = await buildEngineAsync(model, { ...config, device, inputShapes: fixedShapes, warn: (m) => console.log(`[W] ${m}`), log: (l) => { if (verbose || l.startsWith('tuning:')) console.log(`[${verbose ? 'V' : 'I'}] [build] ${l}`); }, onProgress: progress, progress: progressLine('build') });
      const p = engine.plan;
      console.log(`[I] Model: ${path.basename(onnx!)} (${p.stats.onnxNodes} ONNX nodes) on ${device.info.name}`);
      console.log(`[I] Engine built: ${p.stats.layers} layers (${p.stats.folded} nodes folded, ${p.stats.views} views${config.fp16 ? `, ${p.layers.filter((l) => l.precision === 'fp16').length} fp16` : ''}${config.int8 ? `, ${p.layers.filter((l) => l.precision === 'int8').length} int8` : ''}${config.fusion === false ? ', fusion off' : ''}), parse ${parseMs.toFixed(1)} ms, build ${engine.buildMs.toFixed(1)} ms`);
    }
    const p = engine.plan;
    engine.profiles.forEach((pr, k) => console.log(`[I] Optimization profile ${k}: ${Object.entries(pr).map(([n, r]) => `${n} min ${r.min.join('x')}, opt ${r.opt.join('x')}, max ${r.max.join('x')}`).join('; ')}`));
    for (const pl of p.plugins ?? []) console.log(`[I] Plugin ${pl.name} ${pl.version} (${pl.domain || 'ai.onnx'}::${pl.opType}): ${pl.layers.length} layer(s)`);
    if (p.refit) console.log(`[I] Refittable: ${p.refit.weights.length} weights by ONNX initializer name`);
    console.log(`[I] Memory: activations ${(p.arenaBytes / 1024).toFixed(1)} KiB (naive sum ${(p.naiveActivationBytes / 1024).toFixed(1)} KiB, ${((100 * p.arenaBytes) / Math.max(1, p.naiveActivationBytes)).toFixed(1)}%), weights ${(p.weightBytes / 1024).toFixed(1)} KiB`);
    const save = flagString(args, 'saveEngine');
    if (save) {
      const t0 = performance.now();
      const bytes = engine.serialize({ signingKey: key });
      try {
        fs.writeFileSync(save, bytes);
      } catch (e) {
        throw new InputError(`--saveEngine: cannot write ${save} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      console.log(`[I] Engine saved to ${save} (${bytes.length} bytes${key ? ', signed' : ''}, ${(performance.now() - t0).toFixed(1)} ms)`);
    }
    const layerInfo = flagString(args, 'exportLayerInfo');
    if (layerInfo) {
      writeJson(layerInfo, inspectPlan(p, { kind: engineFile ? 'engine' : 'onnx', file: engineFile ?? onnx }, fingerprintOf(engine.device.info)), '--exportLayerInfo');
    }

    // the context (its device memory) before the host inputs: a device that cannot hold the
    // engine says so before gigabytes of random values are made
    const streams = numberFlag(args, 'infStreams', 1, true);
    const inFlight = numberFlag(args, 'inFlight', 1, true);
    if (streams < 1 || streams > 64) throw new InputError(`--infStreams must be from 1 to 64, got ${streams}`);
    if (inFlight < 1 || inFlight > 16) throw new InputError(`--inFlight must be from 1 to 16, got ${inFlight}`);
    const ctx = engine.createExecutionContext();
    const runIO = runInputs(engine.inputs, loaded ? Object.fromEntries([...loaded].map(([n, t]) => [n, [...t.dims]])) : shapes);
    if (p.profiles) {
      const made = engine.specializations.made, t0 = performance.now();
      for (const io of runIO) ctx.setInputShape(io.name, io.dims); // checked against the profiles; the plan for them made now
      const ms = performance.now() - t0;
      const { index, shapes: at } = matchProfile(p, p.inputs, (n) => runIO.find((io) => io.name === n)!.dims);
      const c = engine.specializations.made > made ? engine.specializations.get(index, at).cost : undefined;
      const how = c ? `: plan made in ${c.planMs.toFixed(1)} ms (${c.shadersCompiled} shaders compiled, ${c.pipelinesCreated} pipelines created, weights ${c.weightsShared ? 'shared' : 'copied'}), ready in ${ms.toFixed(1)} ms` : ' (the engine\'s own shapes)';
      console.log(`[I] Running ${runIO.map((io) => `${io.name}:${io.dims.join('x')}`).join(', ')} in profile ${index}${how}`);
    }
    for (const o of engine.outputs) checkHostBytes(o.name, o.dtype, p.profiles ? ctx.getTensorShape(o.name) : o.dims, 'output', 'read back');
    const inputs = loaded ?? randomInputs(runIO);
    // Warm-up (trtexec: run for --warmUp ms before timing); at least one run checks the inputs.
    let outputs = await ctx.execute(inputs);
    // the other streams: contexts of their own (each on the queue the fewest contexts use)
    const ctxs = [ctx];
    for (let k = 1; k < streams; k++) {
      const c = engine.createExecutionContext();
      if (p.profiles) for (const io of runIO) c.setInputShape(io.name, io.dims);
      ctxs.push(c);
    }
    for (const c of ctxs.slice(1)) await c.execute(inputs);
    for (const t0 = performance.now(); performance.now() - t0 < warmUpMs;) outputs = (await Promise.all(ctxs.map((c) => c.execute(inputs))))[0];
    if (streams > 1 || inFlight > 1) console.log(`[I] Streams: ${streams} (contexts on queue${streams > 1 ? 's' : ''} ${ctxs.map((c) => c.queue).join(', ')} of ${engine.device.info.queueCount}), ${inFlight} run(s) in flight each`);

    const layerNames = p.layers.map((l) => l.name);
    const profile = wantProfile ? new LayerProfile(layerNames) : undefined;
    const separate = args.flags.has('separateProfileRun');
    // GPU compute time comes from two timestamps around the program; a profiler implies them.
    for (const c of ctxs) c.gpuTiming = true;
    if (profile && !separate) ctx.profiler = profile;
    console.log(`[I] Timing: at least ${iterations} iterations and ${durationMs / 1000} s, after a ${warmUpMs} ms warm-up${profile && !separate ? ', profiled' : ''}`);
    let group: RunTiming[] = [];
    const bench = await timedLoop(ctxs, inputs, iterations, durationMs, inFlight, (t) => {
      if (!avgRuns) return;
      group.push(t);
      if (group.length === avgRuns) { console.log(`[I] ${averageLine(group)}`); group = []; }
    });
    outputs = bench.outputs ?? outputs;
    let profiledRuns = profile && !separate ? bench.runs : [];
    if (profile && separate) {
      // trtexec's --separateProfileRun: the benchmark ran without per-layer queries; profile now.
      ctx.profiler = profile;
      profiledRuns = (await timedLoop([ctx], inputs, iterations, durationMs)).runs;
      ctx.profiler = undefined;
    }
    if (bench.runs.length) for (const line of performanceSummary(bench.runs, bench.wallMs)) console.log(`[I] ${line}`);
    if (streams > 1) for (let k = 0; k < streams; k++) console.log(`[I] Stream ${k}: ${bench.runs.filter((r) => r.stream === k).length} runs`);
    if (profile && !ctx.gpuTiming) console.log('[W] Per-layer profiling is off: this device cannot time compute work');
    if (profile && args.flags.has('dumpProfile') && profile.runs) for (const line of profileTable(profile, 5, p.layers.map((l) => l.kernel))) console.log(`[I] ${line}`);
    const exportProfile = flagString(args, 'exportProfile');
    if (exportProfile && profile) writeJson(exportProfile, profileJson(profile), '--exportProfile');
    const exportTimes = flagString(args, 'exportTimes');
    if (exportTimes) writeJson(exportTimes, timesJson(bench.runs), '--exportTimes');
    const exportTrace = flagString(args, 'exportTrace');
    if (exportTrace) {
      const layers = p.layers.map((l) => ({ name: l.name, kernel: l.kernel, precision: l.precision }));
      writeJson(exportTrace, buildTrace(profiledRuns.length ? profiledRuns : bench.runs, layers, { engine: path.basename(engineFile ?? onnx!), device: engine.device.info.name }), '--exportTrace', true);
    }

    for (const [name, t] of outputs) {
      const d = t.toNumbers();
      const head = Array.from(d.slice(0, 6)).map((v) => +v.toPrecision(6)).join(', ');
      console.log(`[I] Output ${name}: ${t.dtype}[${t.dims.join('x')}] ${head}${d.length > 6 ? ', ...' : ''}`);
    }
    const exp = flagString(args, 'exportOutput');
    if (exp) {
      exportOutputs(exp, outputs);
      console.log(`[I] Outputs written to ${exp}`);
    }
    return 0;
  } finally {
    engine?.dispose();
    device?.dispose();
  }
}
