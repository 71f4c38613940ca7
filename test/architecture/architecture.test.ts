/**
 * The seams of the architecture: operator traits declared on definitions, the builder's phase list,
 * kernel selection through a policy, typed shape errors.
 */
import * as assert from 'assert';
import { ShapeError, GraphError } from '../../src/errors';
import { GraphBuilder } from '../../src/ir/builder';
import { Tensor } from '../../src/ir/tensor';
import { registry } from '../../src/ops/index';
import { buildPlan, PHASES } from '../../src/builder/builder';
import { heuristicSelection, KernelSelection, preferKernel } from '../../src/builder/selection';
import { broadcastShapes } from '../../src/ops/util/shape';

const CAPS = { subgroupSize: 32, maxGroupsX: 65535, maxGroupsY: 65535, maxWorkgroupInvocations: 1024, fp16: true, alignment: 256 };

function matmulModel() {
  const b = new GraphBuilder('mm');
  const x = b.input('x', 'float32', [64, 32]);
  const w = b.initializer('w', new Tensor('float32', [32, 48], new Float32Array(32 * 48).map((_, i) => (i % 7) - 3)));
  const [y] = b.node('MatMul', [x, w], {}, { name: 'mm' });
  b.output(y, 'float32', [64, 48]);
  return b.build();
}

describe('architecture seams', () => {
  it('operator traits are declared on the definitions and read through the registry', () => {
    const t = (opType: string, domain = '') => registry.traits({ opType, domain });
    assert.equal(t('Shape').shapeOnly, true);
    assert.equal(t('Size').shapeOnly, true);
    for (const op of ['RandomUniform', 'RandomNormalLike', 'Bernoulli', 'Multinomial']) assert.equal(t(op).nondeterministic, true, op);
    for (const op of ['Conv', 'ConvTranspose', 'Gemm', 'MatMul']) assert.equal(t(op).epilogue, true, op);
    for (const op of ['Sigmoid', 'Tanh', 'Softmax', 'LayerNormalization', 'ArgMax', 'Equal', 'IsNaN', 'Not']) assert.equal(t(op).rangeResetting, true, op);
    for (const op of ['Relu', 'Add', 'Exp', 'Hardmax']) assert.notEqual(t(op).rangeResetting, true, op);
    assert.deepEqual(t('NoSuchOp'), {});
  });

  it('the builder runs its phases in the declared order', () => {
    assert.deepEqual(PHASES.map((p) => p.name), ['input shapes', 'control flow', 'optimize', 'shapes', 'big tensors', 'kernel selection and precision', 'tensor pieces', 'inputs and outputs', 'memory plan', 'weight layout', 'binding limits']);
  });

  it('kernel selection goes through the policy of the config', () => {
    const seen: string[][] = [];
    const spy: KernelSelection = { name: 'spy', choose: (r) => { seen.push(r.candidates.map((c) => c.name)); return r.candidates[r.candidates.length - 1]; } };
    const plan = buildPlan(matmulModel(), CAPS, { selection: spy });
    assert.equal(seen.length, 1);
    assert.ok(seen[0].length > 1, `MatMul offers several candidates (got ${seen[0].join(', ')})`);
    assert.equal(plan.layers[0].kernel, seen[0][seen[0].length - 1]);
    assert.equal(buildPlan(matmulModel(), CAPS, { selection: heuristicSelection }).layers[0].kernel, seen[0][0]);
    const other = seen[0][1];
    assert.equal(buildPlan(matmulModel(), CAPS, { selection: preferKernel(other) }).layers[0].kernel, other);
    assert.equal(buildPlan(matmulModel(), CAPS, { selection: preferKernel('no_such_kernel') }).layers[0].kernel, seen[0][0]);
  });

  it('shapes that do not fit are a ShapeError (a GraphError with code SHAPE)', () => {
    assert.throws(() => broadcastShapes([2, 3], [4, 3]), (e: unknown) => e instanceof ShapeError && e instanceof GraphError && e.code === 'SHAPE');
  });
});
