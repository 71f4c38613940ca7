/**
 * The int8 matrix-unit candidates of the integer GEMM kernels (src/ops/nn/gpu/qgemm-coopmat.ts) on
 * lavapipe through the emulation (BuilderConfig.cooperativeMatrix 'emulate' lists an int8 x int8 ->
 * int32 16x16x32 combination on int8 devices; shaders/common/coopmat.glsl with VKRT_COOPMAT_EMULATE
 * and CM_INT8, the kernel's staging, zero-point sums, masking and epilogue unchanged): each tile
 * pinned, bit for bit against the reference, both param modes, under the validation layer. The same
 * cases run through the real NV and KHR paths on a GPU: bench/gpu/int8-check.ts.
 */
import { strict as assert } from 'assert';
import { buildPlan } from '../../src/builder/builder';
import { deviceCaps } from '../../src/builder/caps';
import { Device } from '../../src/gpu';
import { openDevice } from '../helpers/gpu';
import { singleNodeModel } from '../helpers/gpu-op';
import { INT8_CASES, checkInt8 } from './cases';

const TILES = ['128x128', '64x64'];

describe('integer GEMMs on (emulated) int8 cooperative matrices', function () {
  this.timeout(600000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());

  it('offers the int8 matrix-unit candidates only where the caps list an int8 combination', function () {
    if (!device.info.int8) this.skip();
    const { model } = singleNodeModel(INT8_CASES[0].case);
    const names = (cooperativeMatrix: 'emulate' | 'auto' | 'off') => {
      const seen: string[] = [];
      buildPlan(model, deviceCaps(device, { cooperativeMatrix }), { selection: { name: 'collect', choose: (r) => { seen.push(...r.candidates.map((k) => k.name)); return r.candidates[0]; } } });
      return seen;
    };
    const emulated = names('emulate');
    assert.deepEqual(emulated.filter((n) => /coopmat/.test(n)).sort(), ['qlinearconv_coopmat_i8_128x128', 'qlinearconv_coopmat_i8_64x64']);
    assert.ok(/coopmat/.test(emulated[0]), `a product this large lists them first: ${emulated.join(', ')}`);
    assert.ok(!names('off').some((n) => /coopmat/.test(n)));
    if (device.info.cooperativeMatrixProperties.length === 0) assert.ok(!names('auto').some((n) => /coopmat/.test(n)), 'lavapipe has no matrix units');
    const noInt8 = { ...deviceCaps(device, { cooperativeMatrix: 'emulate' }), int8: false };
    const seen: string[] = [];
    buildPlan(model, noInt8, { selection: { name: 'collect', choose: (r) => { seen.push(...r.candidates.map((k) => k.name)); return r.candidates[0]; } } });
    assert.ok(!seen.some((n) => /coopmat/.test(n)), 'no int8 support, no int8 candidates');
  });

  for (const c of INT8_CASES) {
    it(c.name, async function () {
      if (!device.info.int8) this.skip();
      for (const tile of TILES) await checkInt8(device, c, `${c.prefix}_coopmat_i8_${tile}`, { cooperativeMatrix: 'emulate' });
    });
  }
});
