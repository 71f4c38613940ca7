/**
 * The packed 4x8-bit dot-product candidates of the integer GEMM kernels (src/ops/nn/gpu/qgemm-dot.ts,
 * shaders/common/nn_qgemm_dot.glsl: OpSDot through GL_EXT_spirv_intrinsics) on lavapipe, which
 * offers shaderIntegerDotProduct (not accelerated): every int8 case (odd shapes, strides, pads,
 * groups, dilations, per-channel zero points, uint8 and int8 operands, fused activations) with each
 * tile pinned, both param modes, bit for bit against the reference, under the validation layer;
 * with int8 activations held as bytes too. The same cases run on a GPU through
 * bench/gpu/int8-check.ts --paths=dot.
 */
import { strict as assert } from 'assert';
import { buildPlan } from '../../src/builder/builder';
import { deviceCaps } from '../../src/builder/caps';
import { Device } from '../../src/gpu';
import { openDevice } from '../helpers/gpu';
import { singleNodeModel } from '../helpers/gpu-op';
import { INT8_CASES, checkInt8 } from './cases';

const TILES = ['64x64', '32x32'];

describe('integer GEMMs on packed 4x8-bit dot products', function () {
  this.timeout(600000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());

  it('offers the dot-product candidates only where the device has shaderIntegerDotProduct, first for products of 16x16 and more', function () {
    if (!device.info.int8DotProduct) this.skip();
    const names = (caps: ReturnType<typeof deviceCaps>, k = 0) => {
      const seen: string[] = [];
      const { model } = singleNodeModel(INT8_CASES[k].case);
      buildPlan(model, caps, { selection: { name: 'collect', choose: (r) => { seen.push(...r.candidates.map((c) => c.name)); return r.candidates[0]; } } });
      return seen;
    };
    const caps = deviceCaps(device, { cooperativeMatrix: 'off' });
    const big = names(caps);
    assert.deepEqual(big.filter((n) => /dot4x8/.test(n)), ['qlinearconv_dot4x8_64x64', 'qlinearconv_dot4x8_32x32']);
    assert.ok(/dot4x8/.test(big[0]), `ahead of the ALU kernels: ${big.join(', ')}`);
    const thin = names(caps, INT8_CASES.findIndex((c) => /1 x K x 1/.test(c.name)));
    assert.ok(thin.some((n) => /dot4x8/.test(n)) && !/dot4x8/.test(thin[0]), `a 1x1 product keeps the ALU kernel first: ${thin.join(', ')}`);
    assert.ok(!names({ ...caps, int8DotProduct: false }).some((n) => /dot4x8/.test(n)), 'no feature, no candidate');
    assert.ok(/coopmat/.test(names(deviceCaps(device, { cooperativeMatrix: 'emulate' }))[0]), 'int8 matrix units stay ahead of them');
  });

  for (const c of INT8_CASES) {
    it(c.name, async function () {
      if (!device.info.int8DotProduct) this.skip();
      for (const tile of TILES) await checkInt8(device, c, `${c.prefix}_dot4x8_${tile}`, { cooperativeMatrix: 'off' });
    });
  }
});
