/**
 * `vkrt exec` and `vkrt inspect` end to end, in-process: build and save an engine, load it and
 * profile it, and check that every exported file parses and holds what it claims.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseNpz } from '../../src/io/npy';
import { mobilenetV2Like } from '../../src/models/nets';
import { serializeModel } from '../../src/onnx/serialize';
import { readEngineFile } from '../../src/runtime/engine-file';
import { decodeEngine } from '../../src/runtime/engine';
import { checkTrace } from '../runtime/check-trace';
import { ensureDriver, testDeviceIndex } from '../helpers/gpu';
import { Device } from '../../src/gpu/device';
import { InputError } from '../../src/errors';
import { GraphBuilder } from '../../src/ir/builder';
import { randomInputs } from '../../src/cli/exec';
import { runCli } from './run-cli';

describe('vkrt exec / inspect', function () {
  this.timeout(300000);
  let dir: string;
  let onnx: string;
  let engineFile: string;
  const quick = ['--iterations=4', '--duration=0', '--warmUp=0'];
  const f = (name: string) => path.join(dir, name);

  before(() => {
    ensureDriver();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vkrt-cli-'));
    onnx = f('net.onnx');
    fs.writeFileSync(onnx, serializeModel(mobilenetV2Like({ size: 16 })));
    engineFile = f('net.engine');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('--onnx --saveEngine builds, benchmarks and saves; the summary has trtexec\'s lines', async () => {
    const r = await runCli('exec', `--onnx=${onnx}`, `--saveEngine=${engineFile}`, `--exportOutput=${f('built.npz')}`, ...quick, '--avgRuns=2');
    assert.equal(r.code, 0, r.stderr);
    for (const re of [/Engine built: \d+ layers/, /Engine saved to .*net\.engine \(\d+ bytes/, /=== Performance summary ===/, /Throughput: [\d.]+ qps/,
      /Latency: min = .* percentile\(90%\) = .* percentile\(95%\) = .* percentile\(99%\) = /, /Enqueue Time: min = /, /H2D Latency: min = /,
      /GPU Compute Time: min = /, /D2H Latency: min = /, /Total Host Walltime: /, /Average on 2 runs - GPU latency: /]) {
      assert.match(r.stdout, re);
    }
    assert.ok(readEngineFile(fs.readFileSync(engineFile)).bytes > 0);
  });

  it('--timingCacheFile: the second build times nothing and picks the same tactics; --builderOptimizationLevel is checked', async () => {
    const cache = f('timing.cache');
    const layerInfo = (file: string) => (JSON.parse(fs.readFileSync(file, 'utf8')) as { layers: { name: string; tactic: { name: string } }[] }).layers.map((l) => `${l.name}:${l.tactic.name}`);
    const first = await runCli('exec', `--onnx=${onnx}`, `--timingCacheFile=${cache}`, `--exportLayerInfo=${f('t1.json')}`, ...quick);
    assert.equal(first.code, 0, first.stderr);
    const m1 = /tuning: level 3, (\d+) layers tuned, (\d+) candidates timed, \d+ from the cache/.exec(first.stdout);
    assert.ok(m1 && Number(m1[2]) > 0, first.stdout);
    assert.ok(fs.existsSync(cache));
    const second = await runCli('exec', `--onnx=${onnx}`, `--timingCacheFile=${cache}`, `--exportLayerInfo=${f('t2.json')}`, ...quick);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, new RegExp(`tuning: level 3, ${m1![1]} layers tuned, 0 candidates timed, \\d+ from the cache`));
    assert.deepEqual(layerInfo(f('t2.json')), layerInfo(f('t1.json')));
    const bad = await runCli('exec', `--onnx=${onnx}`, '--builderOptimizationLevel=9', ...quick);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--builderOptimizationLevel must be an integer from 0 to 5, got '9'/);
  });

  it('--loadEngine --dumpProfile and every export: the files parse and hold what they claim', async () => {
    const r = await runCli('exec', `--loadEngine=${engineFile}`, '--dumpProfile', `--exportProfile=${f('p.json')}`, `--exportTimes=${f('t.json')}`,
      `--exportLayerInfo=${f('l.json')}`, `--exportTrace=${f('trace.json')}`, `--exportOutput=${f('loaded.npz')}`, ...quick);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Engine loaded from .* in [\d.]+ ms/);
    const { plan } = decodeEngine(readEngineFile(fs.readFileSync(engineFile)), undefined);
    const names = plan.layers.map((l) => l.name);
    // the per-layer table: header, one row per layer in execution order, Total
    const table = r.stdout.split('\n').map((l) => l.replace(/^\[I\] /, ''));
    const head = table.findIndex((l) => /=== Profile \(4 iterations \) ===/.test(l));
    assert.ok(head >= 0, r.stdout);
    assert.match(table[head + 1], /Time\(ms\)\s+Avg\.\(ms\)\s+Median\(ms\)\s+Time\(%\)\s+Layer/);
    // each row names the layer and, in brackets, its tactic (the chosen implementation)
    assert.deepEqual(table.slice(head + 2, head + 2 + names.length).map((l) => l.trim().split(/\s+/).slice(4).join(' ')), plan.layers.map((l) => `${l.name} [${l.kernel}]`));
    assert.match(table[head + 2 + names.length], /100\.0\s+Total$/);

    const profile = JSON.parse(fs.readFileSync(f('p.json'), 'utf8'));
    assert.deepEqual(profile[0], { count: 4 });
    assert.deepEqual(profile.slice(1).map((x: { name: string }) => x.name), names);
    for (const row of profile.slice(1)) {
      assert.ok(row.timeMs > 0 && row.averageMs > 0 && row.medianMs > 0 && row.percentage > 0, JSON.stringify(row));
      assert.ok(Math.abs(row.averageMs * 4 - row.timeMs) < 1e-9 * row.timeMs + 1e-12);
    }
    assert.ok(Math.abs(profile.slice(1).reduce((a: number, x: { percentage: number }) => a + x.percentage, 0) - 100) < 1e-6);

    const times = JSON.parse(fs.readFileSync(f('t.json'), 'utf8'));
    assert.equal(times.length, 4);
    for (const t of times) {
      for (const k of ['startH2dMs', 'endH2dMs', 'startComputeMs', 'endComputeMs', 'startD2hMs', 'endD2hMs', 'h2dMs', 'computeMs', 'd2hMs', 'enqueueMs', 'latencyMs']) assert.equal(typeof t[k], 'number', k);
      assert.ok(t.endH2dMs >= t.startH2dMs && t.startD2hMs >= t.endH2dMs && t.endD2hMs >= t.startD2hMs && t.computeMs > 0);
      assert.ok(Math.abs(t.endD2hMs - t.startH2dMs - t.latencyMs) < 1e-6);
    }
    assert.ok(times[1].startH2dMs >= times[0].endD2hMs - 1e-9);

    const info = JSON.parse(fs.readFileSync(f('l.json'), 'utf8'));
    assert.equal(info.layers.length, names.length);
    assert.deepEqual(info.layers.map((l: { name: string }) => l.name), names);
    assert.ok(info.layers.every((l: { kernel: string; precision: string; outputs: { dims: number[] }[] }) => l.kernel && ['fp32', 'fp16'].includes(l.precision) && l.outputs[0].dims.length));
    assert.equal(info.memory.arenaBytes, plan.arenaBytes);

    const trace = JSON.parse(fs.readFileSync(f('trace.json'), 'utf8'));
    checkTrace(trace);
    const layerEvents = trace.traceEvents.filter((e: { cat?: string }) => e.cat === 'layer');
    assert.equal(layerEvents.length, 4 * names.length);
    assert.deepEqual(layerEvents.slice(0, names.length).map((e: { name: string }) => e.name), names);

    // saved and loaded engines give bit-identical outputs (same seeded inputs)
    const a = parseNpz(fs.readFileSync(f('built.npz'))), b = parseNpz(fs.readFileSync(f('loaded.npz')));
    assert.deepEqual([...b.keys()], [...a.keys()]);
    for (const [k, t] of a) assert.deepEqual(Buffer.from((b.get(k)!.data as Float32Array).buffer), Buffer.from((t.data as Float32Array).buffer));
  });

  it('--infStreams=2 --inFlight=2: two contexts with two runs in flight each; same outputs; the trace shows the runs side by side', async () => {
    const r = await runCli('exec', `--loadEngine=${engineFile}`, '--infStreams=2', '--inFlight=2', '--iterations=8', '--duration=0', '--warmUp=0',
      `--exportTrace=${f('streams.json')}`, `--exportOutput=${f('streams.npz')}`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Streams: 2 \(contexts on queues? [\d, ]+ of \d+\), 2 run\(s\) in flight each/);
    const counts = [...r.stdout.matchAll(/Stream (\d): (\d+) runs/g)].map((m) => Number(m[2]));
    assert.equal(counts.length, 2);
    assert.equal(counts[0] + counts[1], 8);
    const trace = JSON.parse(fs.readFileSync(f('streams.json'), 'utf8'));
    checkTrace(trace);
    const hostTracks = new Set(trace.traceEvents.filter((e: { cat?: string }) => e.cat === 'run').map((e: { tid: number }) => e.tid));
    assert.ok(hostTracks.size >= 2, 'runs of both streams on tracks of their own');
    assert.equal(trace.traceEvents.filter((e: { cat?: string }) => e.cat === 'gpu').length, 8);
    const a = parseNpz(fs.readFileSync(f('built.npz'))), b = parseNpz(fs.readFileSync(f('streams.npz')));
    for (const [k, t] of a) assert.deepEqual(Buffer.from((b.get(k)!.data as Float32Array).buffer), Buffer.from((t.data as Float32Array).buffer));
    for (const bad of ['--infStreams=0', '--inFlight=17']) {
      const e = await runCli('exec', `--loadEngine=${engineFile}`, bad, ...quick);
      assert.notEqual(e.code, 0);
      assert.match(e.stderr, /must be from/);
    }
  });

  it('--separateProfileRun profiles after an unprofiled benchmark', async () => {
    const r = await runCli('exec', `--loadEngine=${engineFile}`, '--dumpProfile', '--separateProfileRun', ...quick);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /, profiled/);
    assert.match(r.stdout, /=== Profile \(4 iterations \) ===/);
  });

  it('inspect: an engine file (no device needed) and an ONNX model, text and --json', async () => {
    const j = await runCli('inspect', engineFile, '--json');
    assert.equal(j.code, 0, j.stderr);
    const info = JSON.parse(j.stdout);
    const { plan } = decodeEngine(readEngineFile(fs.readFileSync(engineFile)), undefined);
    assert.equal(info.source.kind, 'engine');
    assert.equal(info.layers.length, plan.layers.length);
    assert.deepEqual(info.layers.map((l: { name: string; kernel: string }) => [l.name, l.kernel]), plan.layers.map((l) => [l.name, l.kernel]));
    assert.ok(info.memory.tensors.length >= plan.tensors.size);
    const t = await runCli('inspect', engineFile);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /Engine file net\.engine: \d+ bytes, format \d+/);
    assert.match(t.stdout, /Memory plan: arena /);
    const o = await runCli('inspect', onnx, '--json', '--noFusion');
    assert.equal(o.code, 0, o.stderr);
    const oi = JSON.parse(o.stdout);
    assert.equal(oi.source.kind, 'onnx');
    assert.ok(oi.layers.length >= plan.layers.length, 'without fusion there are at least as many layers');
  });

  it('--shapes too large for the host or the device: a one-line typed error, never an abort', async () => {
    const b = new GraphBuilder('dyn', { '': 13 });
    const x = b.input('x', 'float32', ['N']);
    b.output(b.node('Relu', [x])[0], 'float32', ['N']);
    const dyn = f('dyn.onnx');
    fs.writeFileSync(dyn, serializeModel(b.build()));
    const cases: [string, RegExp][] = [
      ['x:1099511627776', /error \[INPUT\]: input 'x' is float32\[1099511627776\] \(1099511627776 elements, 4096\.00 GiB\): too large to fill with random values on the host .*--shapes=x:/],
      ['x:4x1073741824', /input 'x' is float32\[4x1073741824\] .*too large/],
      ['x:9007199254740991x9007199254740991', /more elements than a number can count/],
    ];
    const dev = Device.create({ index: testDeviceIndex() });
    const info = dev.info;
    dev.dispose();
    // 600,000,000 floats: 2.4 GB in and out; a device whose buffers cannot hold one tensor says so at
    // build time (the memory plan, docs/big-tensors.md), before any host array is made
    if (info.maxMemoryAllocationSize < 2.4e9) cases.push(['x:600000000', /error \[UNSUPPORTED\]: tensor 'x' \(2400000000 bytes\) is larger than one buffer may be \(\d+ bytes\).*reduce the batch size or the input shapes/]);
    for (const [shape, re] of cases) {
      const before = process.memoryUsage().rss;
      const r = await runCli('exec', `--onnx=${dyn}`, `--shapes=${shape}`, ...quick);
      assert.equal(r.code, 1, `${shape}: ${r.stdout}`);
      assert.equal(r.stderr.split('\n').length, 1, r.stderr);
      assert.match(r.stderr, re);
      assert.ok(process.memoryUsage().rss - before < 1e9, `${shape}: the host allocated ${process.memoryUsage().rss - before} bytes first`);
    }
    // randomInputs refuses before allocating: 1.1e9 floats do not fit one typed array
    assert.throws(() => randomInputs([{ name: 'x', dtype: 'float32', dims: [1100000000], gpu: 'f32' }]), (e: unknown) => e instanceof InputError && /input 'x' is float32\[1100000000\]/.test(e.message));
  });

  it('--engineKey signs with --saveEngine and checks with --loadEngine; --untrusted loads with robust access', async () => {
    const key = f('key.bin');
    fs.writeFileSync(key, 'a deployment secret of 32 bytes!');
    const other = f('other.bin');
    fs.writeFileSync(other, 'another secret, also 32 bytes...');
    const signedFile = f('signed.engine');
    const s = await runCli('exec', `--onnx=${onnx}`, `--saveEngine=${signedFile}`, `--engineKey=${key}`, '--iterations=1', '--duration=0', '--warmUp=0');
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /Engine saved to .*signed\.engine \(\d+ bytes, signed/);
    const l = await runCli('exec', `--loadEngine=${signedFile}`, `--engineKey=${key}`, '--untrusted', '--iterations=1', '--duration=0', '--warmUp=0');
    assert.equal(l.code, 0, l.stderr);
    assert.match(l.stdout, /Engine loaded from .* \(signature checked, untrusted: SPIR-V compiled again, robust buffer access \((core|robustness2)\)/);
    for (const [argv, re] of [
      [[`--loadEngine=${signedFile}`, `--engineKey=${other}`], /engine file not signed with this key: its signature does not match/],
      [[`--loadEngine=${engineFile}`, `--engineKey=${key}`], /engine file not signed with this key: the file is not signed/],
      [[`--onnx=${onnx}`, '--untrusted'], /--untrusted applies to --loadEngine/],
      [[`--loadEngine=${signedFile}`, `--engineKey=${onnx}x`], /--engineKey: cannot read/],
    ] as [string[], RegExp][]) {
      const r = await runCli('exec', ...argv, '--iterations=1', '--duration=0', '--warmUp=0');
      assert.equal(r.code, 1, argv.join(' '));
      assert.match(r.stderr, re);
    }
  });

  it('--int8 without calibration data calibrates on seeded inputs, warns, and builds integer layers; the cache builds it again', async () => {
    const cache = f('exec-int8.cache');
    const r = await runCli('exec', `--onnx=${onnx}`, '--int8', '--calibBatches=2', `--calibCache=${cache}`, '--builderOptimizationLevel=0', '--duration=0', '--iterations=1', '--warmUp=0');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\[W\] INT8 calibration on 2 batch\(es\) of seeded random inputs: the engine serves for timing, but its accuracy needs representative data/);
    const m = /Engine built: .*, (\d+) int8\)/.exec(r.stdout);
    assert.ok(m && Number(m[1]) > 0, r.stdout);
    assert.match(fs.readFileSync(cache, 'utf8'), /^# vkrt INT8 calibration cache\n/);
    const again = await runCli('exec', `--onnx=${onnx}`, '--int8', `--calib=${cache}`, '--builderOptimizationLevel=0', '--duration=0', '--iterations=1', '--warmUp=0');
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stdout, /seeded random inputs/);
    assert.equal(/Engine built: .*, (\d+) int8\)/.exec(again.stdout)?.[1], m![1]);
  });

  it('every failure is one line on stderr and a non-zero exit; the stack only with --verbose', async () => {
    const bad = fs.readFileSync(engineFile);
    bad[bad.length >> 1] ^= 0xff;
    fs.writeFileSync(f('bad.engine'), bad);
    const cases: [string[], RegExp][] = [
      [['exec', `--loadEngine=${f('bad.engine')}`], /error \[ENGINE_FILE\]: .*bad\.engine: engine file corrupt: checksum mismatch/],
      [['exec', `--loadEngine=${onnx}`], /engine file unrecognized: not a vkrt engine file/],
      [['exec', `--loadEngine=${f('missing.engine')}`], /error \[INPUT\]: --loadEngine: cannot read .*missing\.engine \(ENOENT\)/],
      [['exec', `--onnx=${onnx}`, '--int8', '--calibAlgo=kl'], /error \[INPUT\]: --calibAlgo must be one of entropy, percentile, minmax, got 'kl'/],
      [['exec', `--onnx=${onnx}`, '--int8', `--calib=${f('missing.npz')}`], /--calib: .*missing\.npz does not exist/],
      [['exec', `--onnx=${onnx}`, `--calib=${f('x.npz')}`], /go with --int8/],
      [['exec', `--onnx=${onnx}`, '--dumpProfiles'], /unknown flag --dumpProfiles/],
      [['exec', `--onnx=${onnx}`, '--iterations=abc'], /--iterations must be a non-negative integer/],
      [['exec', `--onnx=${onnx}`, `--loadEngine=${engineFile}`], /not both/],
      [['exec', `--loadEngine=${engineFile}`, '--fp16'], /--fp16 is a build flag/],
      [['exec', `--loadEngine=${engineFile}`, '--shapes=input:2x3x16x16'], /built for input:1x3x16x16/],
      [['inspect'], /usage: vkrt inspect FILE/],
      [['inspect', f('bad.engine')], /engine file corrupt/],
    ];
    for (const [argv, re] of cases) {
      const r = await runCli(...argv);
      assert.equal(r.code, 1, `${argv.join(' ')}: exit ${r.code}`);
      assert.equal(r.stderr.split('\n').length, 1, `${argv.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
    const v = await runCli('exec', `--loadEngine=${f('bad.engine')}`, '--verbose');
    assert.equal(v.code, 1);
    assert.match(v.stderr, /\n\s+at /);
  });
});
