/**
 * GPU-host check of the int8 matrix-unit kernels (issue 16, docs/int8.md): the cases of
 * test/int8/cases.ts (the ones the emulation passes bit for bit on lavapipe in CI) through the real
 * cooperative-matrix paths, VK_NV_cooperative_matrix with GL_NV_integer_cooperative_matrix
 * (glslang's SPIR-V as is) and VK_KHR_cooperative_matrix (the SPIR-V rewritten by
 * src/builder/spirv/coopmat-khr.ts), each where the driver lists an int8 x int8 -> int32 subgroup
 * combination (the selection is data-driven: DeviceCaps.cooperativeMatrix), every tile pinned, both
 * parameter modes, exact against the reference; path 'dot' checks the packed 4x8-bit dot-product
 * kernels (OpSDot, src/ops/nn/gpu/qgemm-dot.ts) the same way. Then, unless --noTiming, times a ResNet-50-like
 * layer (3x3, 64 -> 64 channels, 56x56, batch --batch, default 32) as QLinearConv+Relu (int8, its
 * uint8 activations held one byte per element and, for comparison, as int32) and as an FP16 Conv, each candidate the layer offers (device time, DeviceTimer, --runs, default 20),
 * and prints TOPS.
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
import { Tensor } from '../../src/ir/tensor';
import { randomTensor, singleNodeModel } from '../../test/helpers/gpu-op';
import { INT8_CASES, checkInt8 } from '../../test/int8/cases';

interface Outcome { path: string; kernel: string; what: string; ok: boolean; ms: number; error?: string }

const TILES = ['128x128', '64x64'];
/** The packed dot-product tiles (src/ops/nn/gpu/qgemm-dot.ts), path 'dot'. */
const DOT_TILES = ['64x64', '32x32'];

/**
 * Device time (ms, DeviceTimer: GPU timestamps, inputs already on the GPU) of every candidate the
 * layer of a one-node model offers: a ResNet-50-like 3x3 convolution, 64 -> 64 channels, 56x56.
 */
type Path = 'nv' | 'khr' | 'emulate' | 'dot';

async function timeLayer(device: Device, batch: number, int8: boolean, path: Path, runs: number, only?: RegExp, int8Storage = true): Promise<{ kernel: string; ms: number; tops: number }[]> {
  const [N, C, H, W, M] = [batch, 64, 56, 56, 64];
  const s = (v: number) => Tensor.from('float32', [], [v]);
  const pads = { type: 'ints' as const, value: [1, 1, 1, 1] };
  const { model } = int8
    ? singleNodeModel({
      op: 'QLinearConv', opset: 10, attrs: { pads, vkrt_activation: { type: 'string', value: 'Relu' } },
      inputs: [randomTensor('uint8', [N, C, H, W], 1, 0, 255), s(0.02), Tensor.from('uint8', [], [0]), randomTensor('int8', [M, C, 3, 3], 2, -127, 127),
        randomTensor('float32', [M], 3, 0.001, 0.01), Tensor.from('int8', [M], new Array<number>(M).fill(0)), s(0.05), Tensor.from('uint8', [], [0]), randomTensor('int32', [M], 4, -1000, 1000)],
      constant: [1, 2, 3, 4, 5, 6, 7, 8],
    })
    : singleNodeModel({ op: 'Conv', opset: 13, attrs: { pads }, inputs: [randomTensor('float32', [N, C, H, W], 1), randomTensor('float32', [M, C, 3, 3], 2, -0.1, 0.1), randomTensor('float32', [M], 3)], constant: [1, 2] });
  let request: SelectionRequest | undefined;
  buildPlan(model, deviceCaps(device, { cooperativeMatrix: path === 'dot' ? 'off' : path }), { fp16: !int8, int8Storage, selection: { name: 'collect', choose: (r) => { request ??= r; return r.candidates[0]; } } });
  const timer = new DeviceTimer(device, { runs });
  const out: { kernel: string; ms: number; tops: number }[] = [];
  for (const impl of request!.candidates) {
    if (only && !only.test(impl.name)) continue;
    const ms = await timer.time(request!, impl, 'spec');
    out.push({ kernel: impl.name, ms, tops: (2 * N * M * H * W * C * 9) / (ms * 1e9) });
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
      for (const tile of dot ? DOT_TILES : TILES) {
        for (const c of INT8_CASES) {
          const kernel = dot ? `${c.prefix}_dot4x8_${tile}` : `${c.prefix}_coopmat_i8_${tile}`;
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
        // the int8 layer twice: activations one byte per element (8-bit storage) and held as int32
        for (const [int8, bytes] of [[true, true], [true, false], [false, false]]) {
          const what = `${int8 ? `QLinearConv+Relu int8 (${bytes ? 'byte' : 'int32'} activations)` : 'Conv fp16'} 3x3 64->64 56x56 batch ${batch}`;
          try {
            for (const r of await timeLayer(device, batch, int8, path, runs, only ? new RegExp(only) : path === 'emulate' ? /coopmat/ : path === 'dot' ? /dot4x8|tiled/ : undefined, bytes)) {
              timings.push({ path, what, ...r });
              console.log(`[${path}] time ${what} ${r.kernel}: ${r.ms.toFixed(3)} ms, ${r.tops.toFixed(1)} TOPS`);
            }
          } catch (e) {
            console.log(`[${path}] time ${what}: FAIL ${(e as Error).message.split('\n')[0]}`);
          }
          if (path === 'emulate' && !bytes) break;
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
