/**
 * The matrix-unit GEMM candidates (src/ops/nn/gpu/gemm-coopmat.ts) on lavapipe, through the
 * emulation (BuilderConfig.cooperativeMatrix 'emulate': shaders/common/coopmat.glsl compiled with
 * VKRT_COOPMAT_EMULATE, the kernel's tiling, staging, masking and epilogue unchanged): each tile
 * shape pinned (preferKernel) against the reference on odd sizes, batched and broadcast MatMul,
 * Gemm with transposes, alpha, beta and every shape of C, and every fused activation, in both
 * parameter modes, under the validation layer. The same cases run through the real NV and KHR
 * paths on a GPU with cooperative matrices: scripts/gpu/coopmat-check.ts.
 */
import { strict as assert } from 'assert';
import { buildEngine } from '../../src/api/build';
import { buildSerializedAsync } from '../../src/builder/build';
import { preferKernel } from '../../src/builder/selection';
import { buildPlan } from '../../src/builder/builder';
import { DeviceTimer } from '../../src/builder/tuning/measure';
import { compareTensors } from '../../src/conformance/compare';
import { Tensor } from '../../src/ir/tensor';
import { interpret } from '../../src/ops/interpreter';
import { Engine } from '../../src/runtime/engine';
import { deviceCaps } from '../../src/builder/caps';
import { Device } from '../../src/gpu';
import { openDevice } from '../helpers/gpu';
import { randomTensor, singleNodeModel } from '../helpers/gpu-op';
import { checkOpFp16 } from './helpers';
import { COOPMAT_CASES, COOPMAT_KERNELS, coopMatCaseName } from './coopmat-cases';

describe('FP16 GEMM on (emulated) cooperative matrices', function () {
  this.timeout(600000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());

  it('offers the matrix-unit candidates only where the caps list a combination, and only to FP16 layers', () => {
    const c = COOPMAT_CASES[0];
    const { model } = singleNodeModel(c.case);
    const names = (cooperativeMatrix: 'emulate' | 'auto' | 'off', fp16: boolean) => {
      const seen: string[] = [];
      buildPlan(model, deviceCaps(device, { cooperativeMatrix }), { fp16, selection: { name: 'collect', choose: (r) => { seen.push(...r.candidates.map((k) => k.name)); return r.candidates[0]; } } });
      return seen;
    };
    const emulated = names('emulate', true);
    assert.deepEqual(emulated.filter((n) => /coopmat/.test(n)).sort(), ['matmul_coopmat_128x128', 'matmul_coopmat_64x64']);
    assert.ok(/coopmat/.test(emulated[0]), `a product this large lists them first: ${emulated.join(', ')}`);
    assert.ok(!names('emulate', false).some((n) => /coopmat/.test(n)), 'an FP32 engine keeps FP32 math');
    assert.ok(!names('off', true).some((n) => /coopmat/.test(n)));
    if (device.info.cooperativeMatrixProperties.length === 0) assert.ok(!names('auto', true).some((n) => /coopmat/.test(n)), 'lavapipe has no matrix units');
  });

  it('the auto-tuner times the matrix-unit tactics on the device with the others and picks by measurement', async () => {
    const c = COOPMAT_CASES[0].case;
    const { model, feeds } = singleNodeModel(c);
    const timed: string[] = [];
    const built = await buildSerializedAsync(model, device, { fp16: true, cooperativeMatrix: 'emulate', optimizationLevel: 3 }, {
      timer: { time: async (r, impl, mode) => { timed.push(impl.name); return new DeviceTimer(device).time(r, impl, mode); } },
    });
    assert.equal(built.tuning.failures, 0);
    assert.deepEqual(timed.slice(0, 2).sort(), ['matmul_coopmat_128x128', 'matmul_coopmat_64x64'], `timed: ${timed.join(', ')}`);
    const layer = built.plan.layers.find((l) => l.opTypes.includes('MatMul'))!;
    assert.ok(layer.tactic && layer.tactic.candidates === 3 && layer.tactic.ms! > 0, JSON.stringify(layer.tactic));
    const engine = Engine.load(built, { device, ownsDevice: false });
    try {
      const got = (await engine.createExecutionContext().execute(feeds)).get('out0')!;
      assert.equal(compareTensors(interpret(model, feeds).get('out0') as Tensor, got, { rtol: 1e-2, atol: 1e-2 }), undefined);
    } finally {
      engine.dispose();
    }
  });

  it('a refittable FP16 engine on the matrix-unit tactic refits (the replan sees the same tactics)', async () => {
    const c = COOPMAT_CASES.find((x) => /constant B/.test(x.what))!.case;
    const { model, feeds } = singleNodeModel(c);
    const engine = buildEngine(model, { device, fp16: true, refittable: true, cooperativeMatrix: 'emulate', selection: preferKernel('matmul_coopmat_64x64') });
    try {
      assert.equal(engine.plan.layers.find((l) => l.opTypes.includes('MatMul'))!.kernel, 'matmul_coopmat_64x64');
      const b2 = randomTensor('float32', [...c.inputs[1]!.dims], 999, -1, 1);
      engine.refit({ in1: b2 });
      const got = (await engine.createExecutionContext().execute(feeds)).get('out0')!;
      const { model: m2 } = singleNodeModel({ ...c, inputs: [c.inputs[0], b2] });
      assert.equal(compareTensors(interpret(m2, feeds).get('out0') as Tensor, got, { rtol: 1e-2, atol: 1e-2 }), undefined);
    } finally {
      engine.dispose();
    }
  });

  for (const kernel of COOPMAT_KERNELS) {
    // the epilogue is tile-independent: every activation on the first tile, the shapes on both
    for (const c of COOPMAT_CASES.filter((x) => kernel === COOPMAT_KERNELS[0] || !/epilogue/.test(x.what))) {
      it(`${coopMatCaseName(c)} (${kernel.replace('PREFIX', c.case.op.toLowerCase())})`, async () => {
        await checkOpFp16(device, c.case, { kernel: kernel.replace('PREFIX', c.case.op.toLowerCase()), config: { cooperativeMatrix: 'emulate' } });
      });
    }
  }
});
