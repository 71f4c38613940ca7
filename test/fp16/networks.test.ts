/**
 * FP16 with the graph optimizer on whole networks: fused layers (Conv+BN+Relu, Conv+Clip, Conv+Add,
 * fused pointwise kernels) build in FP16, Concat stays a set of f16 views (no copy kernel), only
 * the edge conversions are extra layers, and the outputs stay within FP16 accuracy of the reference.
 */
import { strict as assert } from 'assert';
import { Device } from '../../src/gpu';
import { Model } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { interpret } from '../../src/ops/interpreter';
import { feedsFor } from '../builder/passes/check';
import { openDevice } from '../helpers/gpu';
import { googlenetLike, mobilenetV2Like } from '../helpers/nets';
import { buildEngine } from '../../src/api/build';

function relL2(expected: Tensor, got: Tensor): number {
  let num = 0, den = 0;
  const a = expected.data as Float32Array, b = got.data as Float32Array;
  for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += a[i] ** 2; }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

describe('FP16 networks with fusion', function () {
  this.timeout(300000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());

  const cases: [string, () => Model][] = [['googlenet-like', googlenetLike], ['mobilenetv2-like', mobilenetV2Like]];
  for (const [name, make] of cases) {
    it(`${name}: every compute layer in FP16, no Concat copies, rel L2 < 1e-2`, async () => {
      const model = make();
      const feeds = feedsFor(model, 5, -1, 1);
      const ref = interpret(model, feeds);
      const log: string[] = [];
      const engine = buildEngine(model, { device, fp16: true, log: (l) => log.push(l) });
      try {
        const layers = engine.plan.layers;
        const compute = layers.filter((l) => !/:to_fp(16|32)$/.test(l.name));
        const fp32 = compute.filter((l) => l.precision !== 'fp16').map((l) => `${l.name} (${l.kernel})`);
        assert.deepEqual(fp32, [], `layers left in FP32:\n${log.join('\n')}`);
        assert.ok(!layers.some((l) => l.opTypes.includes('Concat')), `a Concat kept its copy:\n${log.join('\n')}`);
        assert.equal(layers.length - compute.length, engine.plan.inputs.length + engine.plan.outputs.length, 'only edge conversions are added');
        const out = await engine.createExecutionContext().execute(feeds);
        for (const [o, expected] of ref) {
          const got = out.get(o)!;
          assert.equal(got.dtype, 'float32');
          const e = relL2(expected as Tensor, got);
          assert.ok(e < 1e-2, `${name} ${o}: rel L2 ${e}`);
        }
      } finally {
        engine.dispose();
      }
    });
  }
});
