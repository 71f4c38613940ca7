/**
 * TensorRT-style dynamic tensor memory on a MobileNetV2-shaped network: the engine's activation
 * arena must be under half of what one buffer per tensor would take, and the engine must still
 * compute what the reference interpreter computes.
 */
import { strict as assert } from 'assert';
import { buildPlan } from '../../src/builder/builder';
import { Tensor } from '../../src/ir/tensor';
import { interpret } from '../../src/ops/interpreter';
import { openDevice } from '../helpers/gpu';
import { randomTensor } from '../helpers/gpu-op';
import { errorStats } from '../helpers/model-cases';
import { mobilenetV2Like } from '../helpers/nets';
import { buildEngine } from '../../src/api/build';

const CAPS = { subgroupSize: 32, maxGroupsX: 65535, maxGroupsY: 65535, maxWorkgroupInvocations: 1024, fp16: false, alignment: 256 };

describe('memory plan on a MobileNetV2-shaped network', function () {
  this.timeout(120000);
  it('peak activation memory is under 50% of the naive sum', () => {
    const plan = buildPlan(mobilenetV2Like({ batch: 2, size: 64 }), CAPS);
    const ratio = plan.arenaBytes / plan.naiveActivationBytes;
    console.log(`      arena ${plan.arenaBytes} B, naive ${plan.naiveActivationBytes} B (${(100 * ratio).toFixed(1)}%), ${plan.stats.layers} layers`);
    assert.ok(ratio < 0.5, `arena/naive = ${ratio}`);
  });
  it('the planned engine matches the reference interpreter on the GPU', async () => {
    const device = openDevice();
    try {
      const model = mobilenetV2Like({ batch: 1, size: 32 });
      const input = randomTensor('float32', [1, 3, 32, 32], 5, -1, 1);
      const ref = interpret(model, { input }).get('logits') as Tensor;
      const engine = buildEngine(model, { device });
      const out = (await engine.createExecutionContext().execute({ input })).get('logits')!;
      engine.dispose();
      const { relL2 } = errorStats(ref, out);
      assert.ok(relL2 < 1e-4, `relative L2 error ${relL2}`);
      assert.deepEqual(device.drainValidationMessages(), []);
    } finally {
      device.dispose();
    }
  });
});
