/**
 * GPU-host check of the int8 matrix-unit kernels (issue 16, docs/int8.md): the cases of
 * test/int8/cases.ts (the ones the emulation passes bit for bit on lavapipe in CI) through the real
 * cooperative-matrix paths, VK_NV_cooperative_matrix with GL_NV_integer_cooperative_matrix
 * (glslang's SPIR-V as is) and VK_KHR_cooperative_matrix (the SPIR-V rewritten by
 * src/builder/spirv/coopmat-khr.ts), each where the driver lists an int8 x int8 -> int32 subgroup
 * combination (the selection is data-driven: DeviceCaps.cooperativeMatrix), every tile pinned, both
 * parameter modes, exact against the reference; path 'dot' checks the packed 4x8-bit dot-product
 * kernels (OpSDot, src/ops/nn/gpu/qgemm-dot.ts) the same way; with them the residual-epilogue cases (coopmat tiles
 * and the tiled kernel) and the depthwise cases (the direct kernel). Then, unless --noTiming, times
 * (each candidate the layer offers; device time, DeviceTimer, --runs, default 20; batch --batch,
 * default 32; TOPS): a ResNet-50-like layer (3x3, 64 -> 64 channels, 56x56) as QLinearConv+Relu
 * (int8, its uint8 activations held one byte per element and, for comparison, as int32) and as an
 * FP16 Conv; the same layer with the block's residual Add fused (int8: the qdq-residual fold's
 * QLinearConv; FP16: Conv with its residual input); a MobileNetV2-like depthwise 3x3 layer (144
 * channels, 56x56, ReLU6) as int8 QLinearConv and FP16 Conv.
 *
 *   npm run build:bench      # on the development machine (with npm run build)
 *   node dist/bench/bench/gpu/int8-check.js [--paths=nv,khr,dot] [--validation] [--out=FILE] [--batch=N] [--runs=N] [--kernels=REGEX]
 *
 * Exits 1 when any case fails, 2 when no path can run. --paths=emulate is a dry run on lavapipe.
 */
import * as fs from 'fs';
import { buildPlan } from '../../src/builder/builder';
import { coopMatCaps, deviceCaps } from '../../src/builder/caps';
import type { SelectionRequest } from '../../src/builder/selection';
import { DeviceTimer } from '../../src/builder/tuning/measure';
import { flagString, parseArgs } from '../../src/cli/args';
import { Device, formatCoopMatProperty } from '../../src/gpu';
import { Attr } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { randomTensor, singleNodeModel } from '../../test/helpers/gpu-op';
import { DEPTHWISE_CASES, INT8_CASES, Int8Case, RESIDUAL_CASES, checkInt8 } from '../../test/int8/cases';

interface Outcome { path: string; kernel: string; what: string; ok: boolean; ms: number; error?: string }

const TILES = ['128x128', '64x64'];
/** The packed dot-product tiles (src/ops/nn/gpu/qgemm-dot.ts), path 'dot'. */
const DOT_TILES = ['64x64', '32x32'];
type Path = 'nv' | 'khr' | 'emulate' | 'dot';

/** One layer to time: a one-node model, its operation count, and the candidates a dry run times. */
interface TimedLayer { what: string; model: ReturnType<typeof singleNodeModel>['model']; ops: number; fp16: boolean; emulate: RegExp }

const sc = (v: number) => Tensor.from('float32', [], [v]);
const ints = (value: number[]) => ({ type: 'ints' as const, value });
const str = (value: string) => ({ type: 'string' as const, value });

/**
 * The timed layers at batch N: a ResNet-50-like 3x3 convolution (64 -> 64 channels, 56x56) as
 * QLinearConv+Relu (int8) and as an FP16 Conv+Relu; the same with the block's residual fused
 * (QLinearConv with a uint8 skip and its mid quantization, the qdq-residual fold's layer; FP16 Conv
 * with its residual input); a MobileNetV2-like 3x3 depthwise convolution (144 channels, 56x56,
 * ReLU6) as QLinearConv (the direct int8 kernel) and as an FP16 Conv.
 */
function timedLayers(N: number): Record<string, { int8: TimedLayer; fp16: TimedLayer }> {
  const [C, H, W, M] = [64, 56, 56, 64];
  const pads = ints([1, 1, 1, 1]);
  const qconv = (what: string, attrs: Record<string, Attr>, cin: number, m: number, cg: number, extra: Tensor[], emulate: RegExp): TimedLayer => ({
    what, fp16: false, emulate, ops: 2 * N * m * H * W * cg * 9,
    model: singleNodeModel({
      op: 'QLinearConv', opset: 10, attrs,
      inputs: [randomTensor('uint8', [N, cin, H, W], 1, 0, 255), sc(0.02), Tensor.from('uint8', [], [0]), randomTensor('int8', [m, cg, 3, 3], 2, -127, 127),
        randomTensor('float32', [m], 3, 0.001, 0.01), Tensor.from('int8', [m], new Array<number>(m).fill(0)), sc(0.05), Tensor.from('uint8', [], [0]), randomTensor('int32', [m], 4, -1000, 1000), ...extra],
      constant: [1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13],
    }).model,
  });
  const fconv = (what: string, attrs: Record<string, Attr>, cin: number, m: number, cg: number, residual: boolean): TimedLayer => ({
    what, fp16: true, emulate: /./, ops: 2 * N * m * H * W * cg * 9,
    model: singleNodeModel({
      op: 'Conv', opset: 13, attrs,
      inputs: [randomTensor('float32', [N, cin, H, W], 1), randomTensor('float32', [m, cg, 3, 3], 2, -0.1, 0.1), randomTensor('float32', [m], 3), ...(residual ? [randomTensor('float32', [N, m, H, W], 5)] : [])],
      constant: [1, 2],
    }).model,
  });
  const relu = { vkrt_activation: str('Relu') };
  const skip = [randomTensor('uint8', [N, M, H, W], 5, 0, 255), sc(0.03), Tensor.from('uint8', [], [10]), sc(0.04), Tensor.from('uint8', [], [3])];
  const D = 144;
  const relu6 = { vkrt_activation: str('Clip'), vkrt_alpha: { type: 'float' as const, value: 0 }, vkrt_beta: { type: 'float' as const, value: 6 } };
  return {
    conv: {
      int8: qconv(`QLinearConv+Relu int8 3x3 ${C}->${M} ${H}x${W} batch ${N}`, { pads, ...relu }, C, M, C, [], /coopmat/),
      fp16: fconv(`Conv+Relu fp16 3x3 ${C}->${M} ${H}x${W} batch ${N}`, { pads, ...relu }, C, M, C, false),
    },
    residual: {
      int8: qconv(`QLinearConv+Add+Relu int8 (residual fused) 3x3 ${C}->${M} ${H}x${W} batch ${N}`, { pads, ...relu }, C, M, C, skip, /coopmat_i8_64x64|tiled/),
      fp16: fconv(`Conv+Add+Relu fp16 (residual fused) 3x3 ${C}->${M} ${H}x${W} batch ${N}`, { pads, ...relu }, C, M, C, true),
    },
    depthwise: {
      int8: qconv(`QLinearConv+ReLU6 int8 depthwise 3x3 ${D} ch ${H}x${W} batch ${N}`, { pads, group: { type: 'int', value: D }, ...relu6 }, D, D, 1, [], /depthwise|simple/),
      fp16: fconv(`Conv+ReLU6 fp16 depthwise 3x3 ${D} ch ${H}x${W} batch ${N}`, { pads, group: { type: 'int', value: D }, ...relu6 }, D, D, 1, false),
    },
  };
}

/** Device time (ms, DeviceTimer: GPU timestamps, inputs already on the GPU) of every candidate of the layer. */
async function timeLayer(device: Device, layer: TimedLayer, path: Path, runs: number, only?: RegExp, int8Storage = true): Promise<{ kernel: string; ms: number; tops: number }[]> {
  let request: SelectionRequest | undefined;
  buildPlan(layer.model, deviceCaps(device, { cooperativeMatrix: path === 'dot' ? 'off' : path }), { fp16: layer.fp16, int8Storage, selection: { name: 'collect', choose: (r) => { request ??= r; return r.candidates[0]; } } });
  const timer = new DeviceTimer(device, { runs });
  const out: { kernel: string; ms: number; tops: number }[] = [];
  for (const impl of request!.candidates) {
    if (only && !only.test(impl.name)) continue;
    const ms = await timer.time(request!, impl, 'spec');
    out.push({ kernel: impl.name, ms, tops: layer.ops / (ms * 1e9) });
  }
  return out;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const paths = (flagString(args, 'paths') ?? 'nv,khr,dot').split(',').filter(Boolean) as Path[];
  for (const p of paths) if (!['nv', 'khr', 'emulate', 'dot'].includes(p)) throw new Error(`--paths: '${p}' is not nv, khr, emulate or dot`);
  const device = Device.create({ validation: args.flags.has('validation') });
  const outcomes: Outcome[] = [];
  const skipped: Record<string, string> = {};
  const timings: { path: string; what: string; kernel: string; ms: number; tops: number }[] = [];
  let directChecked = false;
  const i = device.info;
  try {
    console.log(`device: ${i.name} (${i.driverName} ${i.driverVersion}), subgroup ${i.subgroupSize}, int8 ${i.int8}, dot product ${i.int8DotProduct} (accelerated ${i.int8DotProductAccelerated}), vulkanMemoryModel ${i.vulkanMemoryModel}`);
    console.log(`extensions: ${i.cooperativeMatrix.join(', ') || 'none'}`);
    for (const p of i.cooperativeMatrixProperties) console.log(`  ${formatCoopMatProperty(p)}`);
    for (const path of paths) {
      const dot = path === 'dot';
      const usable = dot ? [] : coopMatCaps(i, path).filter((c) => c.a === 'i8' && c.b === 'i8' && c.c === 'i32' && c.result === 'i32');
      if (dot ? !i.int8DotProduct : !usable.length) {
        skipped[path] = dot ? 'the device has no shaderIntegerDotProduct' : 'the driver lists no int8 x int8 + int32 subgroup combination for this extension (or the device lacks shaderInt8)';
        console.log(`[${path}] skipped: ${skipped[path]}`);
        continue;
      }
      if (!dot) console.log(`[${path}] combinations: ${usable.map((c) => `${c.M}x${c.N}x${c.K}`).join(', ')}`);
      const checks: [Int8Case, string][] = [];
      for (const tile of dot ? DOT_TILES : TILES) for (const c of [...INT8_CASES, ...RESIDUAL_CASES]) checks.push([c, dot ? `${c.prefix}_dot4x8_${tile}` : `${c.prefix}_coopmat_i8_${tile}`]);
      // the kernels no path selects (tiled with the residual, the depthwise one): on the first path that runs
      if (!directChecked) {
        directChecked = true;
        for (const c of RESIDUAL_CASES) checks.push([c, `${c.prefix}_tiled`]);
        for (const c of DEPTHWISE_CASES) checks.push([c, `${c.prefix}_depthwise`]);
      }
      {
        for (const [c, kernel] of checks) {
          const t0 = performance.now();
          try {
            await checkInt8(device, c, kernel, { cooperativeMatrix: dot ? 'off' : path });
            const messages = device.drainValidationMessages();
            if (messages.length) throw new Error(`validation: ${messages.join(' | ')}`);
            outcomes.push({ path, kernel, what: c.name, ok: true, ms: performance.now() - t0 });
          } catch (e) {
            outcomes.push({ path, kernel, what: c.name, ok: false, ms: performance.now() - t0, error: (e as Error).message.split('\n')[0] });
          }
          const o = outcomes[outcomes.length - 1];
          console.log(`[${path}] ${o.ok ? 'pass' : 'FAIL'} ${kernel}: ${c.name}${o.error ? ` -- ${o.error}` : ''}`);
        }
      }
      if (!args.flags.has('noTiming')) {
        const batch = Number(flagString(args, 'batch') ?? (path === 'emulate' ? 1 : 32));
        const runs = Number(flagString(args, 'runs') ?? (path === 'emulate' ? 1 : 20));
        const only = flagString(args, 'kernels');
        const layers = timedLayers(batch);
        // the 3x3 int8 layer twice: activations one byte per element (8-bit storage) and held as int32
        const plan: [TimedLayer, boolean][] = [[layers.conv.int8, true], [layers.conv.int8, false], [layers.conv.fp16, false],
          [layers.residual.int8, false], [layers.residual.int8, true], [layers.residual.fp16, false],
          [layers.depthwise.int8, false], [layers.depthwise.int8, true], [layers.depthwise.fp16, false]];
        for (const [layer, bytes] of plan) {
          // the dry run skips the byte-activation and FP16 copies of the plain 3x3 layer (the slowest on lavapipe)
          if (path === 'emulate' && layer === layers.conv.int8 && bytes) continue;
          if (path === 'emulate' && layer === layers.conv.fp16) continue;
          // and the byte-activation copies of the residual and depthwise layers (int32 is the default storage)
          if (path === 'emulate' && (layer === layers.residual.int8 || layer === layers.depthwise.int8) && bytes) continue;
          // the dot path times its own int8 candidates (FP16 is timed on the matrix-unit paths)
          if (path === 'dot' && layer.fp16) continue;
          const what = layer.fp16 ? layer.what : `${layer.what} (${bytes ? 'byte' : 'int32'} activations)`;
          try {
            for (const r of await timeLayer(device, layer, path, runs, only ? new RegExp(only) : path === 'emulate' ? layer.emulate : path === 'dot' ? /dot4x8|tiled|depthwise/ : undefined, bytes)) {
              timings.push({ path, what, ...r });
              console.log(`[${path}] time ${what} ${r.kernel}: ${r.ms.toFixed(3)} ms, ${r.tops.toPrecision(3)} TOPS`);
            }
          } catch (e) {
            console.log(`[${path}] time ${what}: FAIL ${(e as Error).message.split('\n')[0]}`);
          }
        }
      }
    }
  } finally {
    device.dispose();
  }
  const failed = outcomes.filter((o) => !o.ok).length;
  const summary = { device: { name: i.name, driver: `${i.driverName} ${i.driverVersion}`, cooperativeMatrixProperties: i.cooperativeMatrixProperties }, passed: outcomes.length - failed, failed, skipped, outcomes, timings };
  console.log(`${outcomes.length - failed} passed, ${failed} failed`);
  const out = flagString(args, 'out');
  if (out) fs.writeFileSync(out, JSON.stringify(summary, null, 2));
  if (!outcomes.length) return 2;
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (e) => {
  console.error(e);
  process.exit(1);
});
