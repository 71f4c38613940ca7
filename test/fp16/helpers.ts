/**
 * FP16 test helpers: run a single-node model (test/helpers/gpu-op.ts) through an FP16 engine and
 * compare with the reference interpreter under FP16 tolerances.
 */
import { strict as assert } from 'assert';
import { compareTensors } from '../../src/conformance/compare';
import { Device } from '../../src/gpu';
import { Tensor } from '../../src/ir/tensor';
import { interpret } from '../../src/ops/interpreter';
import { OpCase, singleNodeModel } from '../helpers/gpu-op';
import { buildEngine } from '../../src/api/build';
import type { BuilderConfig } from '../../src/builder/config';
import { preferKernel } from '../../src/builder/selection';

/**
 * FP16 tolerances: inputs and outputs are rounded to 11 significant bits (relative 2^-11 ~ 4.9e-4
 * each), so an elementwise op lands within ~1e-3 relative; reductions and dot products
 * accumulate in FP32 but read rounded operands, so their error grows like sqrt(K) * 2^-11.
 */
export const FP16_RTOL = 4e-3;
export const FP16_ATOL = 2e-3;

export interface Fp16Case extends OpCase {
  /** Layers the plan must build in FP16 (default: the op's layer). */
  expectFp16?: boolean;
}

/**
 * Builds the case in FP16 (both param modes), checks the layer ran in FP16 and the values.
 * `kernel`: pin that candidate (preferKernel) and check the layer got it; `config`: more builder
 * options (for example cooperativeMatrix: 'emulate').
 */
export async function checkOpFp16(device: Device, c: Fp16Case, options: { kernel?: string; config?: BuilderConfig } = {}): Promise<void> {
  const { model, feeds } = singleNodeModel(c);
  const ref = interpret(model, feeds);
  for (const mode of ['spec', 'push'] as const) {
    const log: string[] = [];
    const selection = options.kernel ? preferKernel(options.kernel) : undefined;
    const engine = buildEngine(model, { ...options.config, device, paramMode: mode, fp16: true, selection, log: (l) => log.push(l) });
    try {
      const layer = engine.plan.layers.find((l) => l.opTypes.includes(c.op));
      assert.ok(layer, `${c.op}: no layer in the plan`);
      if (c.expectFp16 !== false) assert.equal(layer.precision, 'fp16', `${c.op} (${mode}) did not build in FP16:\n${log.join('\n')}`);
      if (options.kernel) assert.equal(layer.kernel, options.kernel, `${c.op} (${mode}) did not get candidate ${options.kernel}`);
      const out = await engine.createExecutionContext().execute(feeds);
      for (const [name, expected] of ref) {
        const got = out.get(name);
        assert.ok(got, `${mode}: output ${name} missing`);
        assert.equal(got.dtype, (expected as Tensor).dtype, `${c.op}: output ${name} keeps its ONNX type`);
        const m = compareTensors(expected as Tensor, got, { rtol: c.rtol ?? FP16_RTOL, atol: c.atol ?? FP16_ATOL });
        assert.equal(m, undefined, `${c.op} (fp16, ${mode} params) output ${name}: ${m}`);
      }
    } finally {
      engine.dispose();
    }
  }
}
