/**
 * Cooperative-matrix device info: the addon's raw combinations are named and printed by TypeScript
 * (src/gpu/coopmat.ts, `vkrt devices`), lavapipe reports none, and the builder's caps keep only the
 * combinations its kernels can use.
 */
import { strict as assert } from 'assert';
import { coopMatCaps, EMULATED_COOPMAT, EMULATED_COOPMAT_INT8 } from '../../src/builder/caps';
import { parseArgs } from '../../src/cli/args';
import { formatDevice } from '../../src/cli/devices';
import { buildConfig } from '../../src/cli/engine-flags';
import { InputError } from '../../src/errors';
import { Device, decodeCoopMatProperty, formatCoopMatProperty, type DeviceInfo } from '../../src/gpu';
import type { NativeCoopMatProperty } from '../../src/native';
import { ensureDriver } from '../helpers/gpu';

const KHR = 'VK_KHR_cooperative_matrix' as const;
const NV = 'VK_NV_cooperative_matrix' as const;
const raw = (extension: typeof KHR | typeof NV, M: number, N: number, K: number, A: number, C: number, extra: Partial<NativeCoopMatProperty> = {}): NativeCoopMatProperty =>
  ({ extension, M, N, K, A, B: A, C, result: C, saturatingAccumulation: false, scope: 3, ...extra });

/** A device info like a GPU with matrix units (made up here: no such device in CI). */
function fakeInfo(list: NativeCoopMatProperty[]): DeviceInfo {
  const lvp = Device.list()[0];
  return { ...lvp, cooperativeMatrix: [KHR, NV], cooperativeMatrixProperties: list.map(decodeCoopMatProperty), vulkanMemoryModel: true };
}

describe('cooperative-matrix device info', () => {
  before(ensureDriver);

  it('names component types and scopes by their Vulkan numbers', () => {
    const p = decodeCoopMatProperty(raw(KHR, 16, 16, 16, 0, 1));
    assert.deepEqual(p, { extension: KHR, M: 16, N: 16, K: 16, A: 'f16', B: 'f16', C: 'f32', result: 'f32', saturatingAccumulation: false, scope: 'subgroup' });
    const i8 = decodeCoopMatProperty(raw(KHR, 16, 16, 32, 3, 5, { B: 7, saturatingAccumulation: true, scope: 2 }));
    assert.deepEqual([i8.A, i8.B, i8.C, i8.result, i8.scope, i8.saturatingAccumulation], ['i8', 'u8', 'i32', 'i32', 'workgroup', true]);
    const odd = decodeCoopMatProperty(raw(NV, 8, 8, 8, 1000141000, 77, { scope: 9 }));
    assert.deepEqual([odd.A, odd.C, odd.scope], ['bf16', 'type77', 'scope9']);
    assert.equal(decodeCoopMatProperty(raw(NV, 8, 8, 8, 1000491002, 1)).A, 'e4m3');
  });

  it('prints one line per combination', () => {
    assert.equal(formatCoopMatProperty(decodeCoopMatProperty(raw(KHR, 16, 8, 16, 0, 1))), '16x8x16 f16 x f16 + f32 -> f32, subgroup (KHR)');
    assert.equal(formatCoopMatProperty(decodeCoopMatProperty(raw(NV, 16, 16, 32, 3, 5, { saturatingAccumulation: true }))),
      '16x16x32 i8 x i8 + i32 -> i32, subgroup, saturating (NV)');
    const text = formatDevice(fakeInfo([raw(KHR, 16, 16, 16, 0, 1), raw(KHR, 16, 16, 16, 0, 0), raw(NV, 16, 8, 16, 0, 1)]));
    const lines = text.split('\n');
    const at = lines.findIndex((l) => /coopMatCombinations/.test(l));
    assert.ok(at > 0, text);
    assert.match(lines[at], /coopMatCombinations\s+16x16x16 f16 x f16 \+ f32 -> f32, subgroup \(KHR\)$/);
    assert.match(lines[at + 1], /^\s+16x16x16 f16 x f16 \+ f16 -> f16, subgroup \(KHR\)$/);
    assert.match(lines[at + 2], /^\s+16x8x16 f16 x f16 \+ f32 -> f32, subgroup \(NV\)$/);
    assert.match(lines[at + 3], /vulkanMemoryModel\s+yes$/);
    // an extension without usable combinations says so
    assert.match(formatDevice(fakeInfo([])), /coopMatCombinations\s+none usable from compute shaders/);
  });

  it('the builder keeps the combinations its kernels can compile for, per BuilderConfig.cooperativeMatrix', () => {
    const list = [
      raw(KHR, 16, 16, 16, 0, 1), raw(KHR, 16, 8, 16, 0, 0), raw(KHR, 16, 16, 32, 3, 5, { saturatingAccumulation: true }),
      raw(NV, 16, 16, 16, 0, 1), raw(NV, 16, 16, 16, 0, 1, { scope: 2 }),
    ];
    const info = fakeInfo(list);
    const shapes = (c: ReturnType<typeof coopMatCaps>) => c.map((x) => `${x.path}:${x.M}x${x.N}x${x.K}:${x.a}/${x.c}`);
    // auto: each combination once, NV where the NV extension lists it; no saturating or workgroup-scope entries
    assert.deepEqual(shapes(coopMatCaps(info)), ['nv:16x16x16:f16/f32', 'khr:16x8x16:f16/f16']);
    assert.deepEqual(shapes(coopMatCaps(info, 'khr')), ['khr:16x16x16:f16/f32', 'khr:16x8x16:f16/f16']);
    assert.deepEqual(shapes(coopMatCaps(info, 'nv')), ['nv:16x16x16:f16/f32']);
    assert.deepEqual(coopMatCaps(info, 'off'), []);
    assert.deepEqual(coopMatCaps({ ...info, int8: false }, 'emulate'), [EMULATED_COOPMAT]);
    // the kernels need FP16 and the Vulkan memory model (GL_NV_cooperative_matrix compiles to it)
    assert.deepEqual(coopMatCaps({ ...info, vulkanMemoryModel: false }), []);
    assert.deepEqual(coopMatCaps({ ...info, fp16: false }), []);
  });

  it('keeps int8 combinations only on int8 devices, and only the operand types kernels stage', () => {
    const list = [
      raw(KHR, 16, 16, 16, 0, 1), raw(KHR, 16, 16, 32, 3, 5), raw(KHR, 16, 16, 32, 7, 9, { B: 7 }), raw(NV, 16, 16, 32, 3, 5),
      raw(KHR, 16, 16, 16, 1, 1, { B: 1 }),
    ];
    const info = fakeInfo(list);
    const shapes = (c: ReturnType<typeof coopMatCaps>) => c.map((x) => `${x.path}:${x.M}x${x.N}x${x.K}:${x.a}x${x.b}/${x.c}`);
    assert.deepEqual(shapes(coopMatCaps({ ...info, fp16: true, int8: true })), ['nv:16x16x32:i8xi8/i32', 'khr:16x16x16:f16xf16/f32', 'khr:16x16x32:u8xu8/u32']);
    assert.deepEqual(shapes(coopMatCaps({ ...info, fp16: true, int8: false })), ['khr:16x16x16:f16xf16/f32']);
    assert.deepEqual(shapes(coopMatCaps({ ...info, fp16: false, int8: true })), ['nv:16x16x32:i8xi8/i32', 'khr:16x16x32:u8xu8/u32']);
    assert.deepEqual(coopMatCaps({ ...info, int8: true }, 'emulate'), [EMULATED_COOPMAT, EMULATED_COOPMAT_INT8]);
    assert.deepEqual(coopMatCaps({ ...info, int8: false }, 'emulate'), [EMULATED_COOPMAT]);
  });

  it('lavapipe lists no combination, and `vkrt devices` prints no combination rows', function () {
    const lvp = Device.list().find((d) => d.driverName === 'llvmpipe');
    if (!lvp) this.skip();
    assert.deepEqual(lvp.cooperativeMatrix, []);
    assert.deepEqual(lvp.cooperativeMatrixProperties, []);
    assert.equal(typeof lvp.vulkanMemoryModel, 'boolean');
    assert.doesNotMatch(formatDevice(lvp), /coopMatCombinations/);
    assert.match(formatDevice(lvp), /cooperativeMatrix\s+none/);
  });

  it('an open device reports the same (named) list', function () {
    const d = Device.create();
    try {
      const listed = Device.list().find((x) => x.index === d.info.index)!;
      assert.deepEqual(d.info.cooperativeMatrixProperties, listed.cooperativeMatrixProperties);
      for (const p of d.info.cooperativeMatrixProperties) assert.match(p.A, /^[a-z]/);
    } finally {
      d.dispose();
    }
  });
});

describe('--coopMat', () => {
  it('sets BuilderConfig.cooperativeMatrix and refuses other values', () => {
    for (const v of ['auto', 'nv', 'khr', 'off', 'emulate']) assert.equal(buildConfig(parseArgs([`--coopMat=${v}`])).cooperativeMatrix, v);
    assert.equal(buildConfig(parseArgs([])).cooperativeMatrix, undefined);
    assert.throws(() => buildConfig(parseArgs(['--coopMat=tensor'])), (e: Error) => e instanceof InputError && /--coopMat must be one of auto, nv, khr, off, emulate/.test(e.message));
  });
});
