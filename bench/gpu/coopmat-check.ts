/**
 * GPU-host check of the matrix-unit GEMM (issue 15, docs/coopmat.md): the cases of
 * test/fp16/coopmat-cases.ts (the ones the emulation passes on lavapipe in CI) through the real
 * cooperative-matrix paths — VK_NV_cooperative_matrix (glslang's SPIR-V as is) and
 * VK_KHR_cooperative_matrix (the same SPIR-V rewritten by src/builder/spirv/coopmat-khr.ts) —
 * each where the driver lists a usable combination, every tile candidate pinned, both parameter
 * modes, against the reference interpreter with FP16 tolerances. Prints the device's combinations,
 * one line per case and path, and a JSON summary; exits 1 when any case fails, 2 when no path can run.
 *
 *   npm run build:bench      # on the development machine (with npm run build)
 *   . .gpu/env.sh; node dist/bench/bench/gpu/coopmat-check.js [--paths=nv,khr] [--validation] [--out=FILE]
 *
 * --validation needs the Khronos layer (the GPU host has none). --out writes the JSON summary.
 * --paths=emulate is a dry run of this script on any FP16 device (lavapipe): the emulated kernels.
 */
import * as fs from 'fs';
import { coopMatCaps } from '../../src/builder/caps';
import { flagString, parseArgs } from '../../src/cli/args';
import { Device, formatCoopMatProperty } from '../../src/gpu';
import { checkOpFp16 } from '../../test/fp16/helpers';
import { COOPMAT_CASES, COOPMAT_KERNELS } from '../../test/fp16/coopmat-cases';

interface Outcome { path: string; kernel: string; what: string; ok: boolean; ms: number; error?: string }

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const paths = (flagString(args, 'paths') ?? 'nv,khr').split(',').filter(Boolean) as ('nv' | 'khr' | 'emulate')[];
  for (const p of paths) if (!['nv', 'khr', 'emulate'].includes(p)) throw new Error(`--paths: '${p}' is not nv, khr or emulate`);
  const device = Device.create({ validation: args.flags.has('validation') });
  const outcomes: Outcome[] = [];
  const skipped: Record<string, string> = {};
  const i = device.info;
  try {
    console.log(`device: ${i.name} (${i.driverName} ${i.driverVersion}), subgroup ${i.subgroupSize}, fp16 ${i.fp16}, vulkanMemoryModel ${i.vulkanMemoryModel}`);
    console.log(`extensions: ${i.cooperativeMatrix.join(', ') || 'none'}`);
    for (const p of i.cooperativeMatrixProperties) console.log(`  ${formatCoopMatProperty(p)}`);
    for (const path of paths) {
      const usable = coopMatCaps(i, path).filter((c) => c.a === 'f16' && c.b === 'f16' && c.c === 'f32' && c.result === 'f32');
      if (!usable.length) {
        skipped[path] = 'the driver lists no FP16 x FP16 + FP32 subgroup combination for this extension';
        console.log(`[${path}] skipped: ${skipped[path]}`);
        continue;
      }
      for (const k of COOPMAT_KERNELS) {
        for (const c of COOPMAT_CASES) {
          const kernel = k.replace('PREFIX', c.case.op.toLowerCase());
          const t0 = performance.now();
          try {
            await checkOpFp16(device, c.case, { kernel, config: { cooperativeMatrix: path } });
            const messages = device.drainValidationMessages();
            if (messages.length) throw new Error(`validation: ${messages.join(' | ')}`);
            outcomes.push({ path, kernel, what: c.what, ok: true, ms: performance.now() - t0 });
          } catch (e) {
            outcomes.push({ path, kernel, what: c.what, ok: false, ms: performance.now() - t0, error: (e as Error).message.split('\n')[0] });
          }
          const o = outcomes[outcomes.length - 1];
          console.log(`[${path}] ${o.ok ? 'pass' : 'FAIL'} ${kernel}: ${c.what}${o.error ? ` -- ${o.error}` : ''}`);
        }
      }
    }
  } finally {
    device.dispose();
  }
  const failed = outcomes.filter((o) => !o.ok).length;
  const summary = { device: { name: i.name, driver: `${i.driverName} ${i.driverVersion}`, cooperativeMatrixProperties: i.cooperativeMatrixProperties }, passed: outcomes.length - failed, failed, skipped, outcomes };
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
