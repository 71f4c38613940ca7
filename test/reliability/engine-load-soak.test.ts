/**
 * Issue 13, item 8: the Device keeps weak references to everything created from it (for dispose()),
 * and that list used to grow by every buffer, pipeline and program ever created (20,166 entries
 * after 2,520 engine loads). Loading, running and disposing an engine many times over must leave it
 * bounded.
 */
import { strict as assert } from 'assert';
import { buildEngine } from '../../src/api/build';
import { randomInputs } from '../../src/cli/exec';
import { Runtime } from '../../src/runtime/runtime';
import { useGpu } from '../helpers/gpu';
import { tinyModel } from './tiny-model';

describe('reliability: repeated engine loads', function () {
  this.timeout(120000);
  const gpu = useGpu();

  it('the device list of created objects stays bounded over 100 load/run/dispose cycles', async () => {
    const d = gpu.device;
    const built = buildEngine(tinyModel(), { device: d });
    const bytes = built.serialize();
    const inputs = randomInputs(built.inputs, 4);
    const want = (await built.createExecutionContext().execute(inputs)).get('y')!.data;
    built.dispose();
    const base = d.trackedChildren;
    const sizes: number[] = [];
    const loads = 100;
    for (let i = 0; i < loads; i++) {
      const engine = Runtime.deserializeEngine(bytes, { device: d });
      const ctx = engine.createExecutionContext();
      if (i % 50 === 0) assert.deepEqual((await ctx.execute(inputs)).get('y')!.data, want, `load ${i}`);
      engine.dispose();
      sizes.push(d.trackedChildren);
    }
    const max = Math.max(...sizes);
    if (process.env.VKRT_RELIABILITY_VERBOSE === '1')
      console.log(`      tracked objects: ${base} before, max ${max}, last ${sizes[sizes.length - 1]} after ${loads} loads`);
    // Each load creates about 5 objects (pipelines, weights, arena, program): unpruned, 500.
    assert.ok(max <= 64, `the device tracks ${max} objects after ${loads} loads (sizes ${sizes.filter((_, i) => i % 30 === 0).join(', ')})`);
  });
});
