/**
 * FP16 engines on .data/onnx-other (PyTorch-converted and operator tests, small models): every
 * test that runs on the GPU in FP32 (builds and matches its reference data within the ONNX
 * tolerance) must also run in FP16: build, keep NaN/Inf where the reference has none away, and stay
 * within 1e-2 relative L2 (float outputs; integer outputs exactly) of the reference data. The
 * counts are printed; tests that do not run in FP32 are not FP16's business and are only counted.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { tensorError } from '../../src/cli/compare';
import { listTestDirs, loadTestCase } from '../../src/conformance/cases';
import { compareValues } from '../../src/conformance/compare';
import { Device } from '../../src/gpu';
import { Tensor } from '../../src/ir/tensor';
import { openDevice } from '../helpers/gpu';
import { DATA } from '../helpers/model-cases';
import { buildEngine } from '../../src/api/build';

const ROOT = path.join(DATA, 'onnx-other');

describe('FP16 on .data/onnx-other', function () {
  this.timeout(1200000);
  let device: Device;
  before(() => { device = openDevice(); });
  after(() => device?.dispose());

  it('every test that runs in FP32 runs in FP16 within 1e-2 rel L2', async function () {
    if (!fs.existsSync(ROOT)) this.skip();
    let fp32 = 0, fp16 = 0, notFp32 = 0, fp16Layers = 0, allLayers = 0;
    const failures: string[] = [];
    for (const dir of listTestDirs(ROOT)) {
      const name = path.relative(ROOT, dir);
      const runOn = async (fp16Mode: boolean) => {
        const t = loadTestCase(dir);
        const ds = t.dataSets[0];
        if (!ds) return undefined;
        const shapes: Record<string, number[]> = {};
        for (const [k, v] of ds.inputs) if (v instanceof Tensor) shapes[k] = [...v.dims];
        const e = buildEngine(t.model, { device, inputShapes: shapes, fp16: fp16Mode });
        try {
          const out = await e.createExecutionContext().execute(ds.inputs as Map<string, Tensor>);
          return { out, expected: ds.outputs, plan: e.plan };
        } finally {
          e.dispose();
        }
      };
      let r32;
      try {
        r32 = await runOn(false);
        if (!r32 || [...r32.expected].some(([k, v]) => compareValues(v, r32!.out.get(k)) !== undefined)) { notFp32++; continue; }
      } catch {
        notFp32++;
        continue;
      } finally {
        device.drainValidationMessages();
      }
      fp32++;
      try {
        const r16 = (await runOn(true))!;
        const msgs = device.drainValidationMessages();
        if (msgs.length) { failures.push(`${name}: validation: ${msgs[0]}`); continue; }
        fp16Layers += r16.plan.layers.filter((l) => l.precision === 'fp16').length;
        allLayers += r16.plan.layers.length;
        let ok = true;
        for (const [k, v] of r16.expected) {
          const got = r16.out.get(k);
          if (!(v instanceof Tensor) || !got) { ok = false; failures.push(`${name} ${k}: missing`); continue; }
          if (!v.dtype.startsWith('float')) {
            const m = compareValues(v, got);
            if (m) { ok = false; failures.push(`${name} ${k}: ${m}`); }
            continue;
          }
          const e = tensorError(k, v, got);
          if (e.shapeMismatch || e.newNonFinite || !(e.relL2 < 1e-2)) {
            ok = false;
            failures.push(`${name} ${k}: rel L2 ${e.relL2.toExponential(2)}, new NaN/Inf ${e.newNonFinite}${e.shapeMismatch ?? ''}`);
          }
        }
        if (ok) fp16++;
      } catch (e) {
        failures.push(`${name}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    console.log(`      onnx-other: ${fp32} run in FP32 (${notFp32} do not), ${fp16} of them pass in FP16; ${fp16Layers} of ${allLayers} layers FP16`);
    assert.deepEqual(failures, []);
  });
});
