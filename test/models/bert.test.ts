/**
 * BERT-base as the PyTorch exporter writes it (src/models/bert.ts): the whole 12-layer model builds
 * at batch 256, sequence 128 with every attention fused and an arena that holds only what is alive
 * together (views take no space of their own); and one engine with one optimization profile
 * (batch 1..64) serves every batch in it, each against the reference interpreter or, at batch 64,
 * row by row against the engine's own batch-1 results for the same sequences (checked against the
 * reference), with the BERT-base layer sizes and two layers so that lavapipe finishes in seconds.
 * VKRT_TEST_BERT_LAYERS=12 runs the served engine with all twelve.
 */
import { strict as assert } from 'assert';
import { buildEngine } from '../../src/api/build';
import { buildPlan } from '../../src/builder/builder';
import type { Model } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { bertEncoder } from '../../src/models/bert';
import { rng } from '../../src/models/rng';
import { interpret } from '../../src/ops/interpreter';
import { useGpu } from '../helpers/gpu';

const CAPS = { subgroupSize: 32, maxGroupsX: 65535, maxGroupsY: 65535, maxWorkgroupInvocations: 1024, fp16: true, alignment: 256 };
const INPUTS = ['input_ids', 'attention_mask', 'token_type_ids'];

/** Inputs for `batch` sequences of length `seq`; sequence k is the same whatever the batch. */
function feeds(batch: number, seq: number, vocab: number): Record<string, Tensor> {
  const ids: number[] = [], mask: number[] = [], types: number[] = [];
  for (let k = 0; k < batch; k++) {
    const r = rng(1000 + k);
    const len = 1 + Math.floor(r() * seq); // padded after len tokens
    for (let t = 0; t < seq; t++) {
      ids.push(t < len ? Math.floor(r() * vocab) : 0);
      mask.push(t < len ? 1 : 0);
      types.push(t < len / 2 ? 0 : 1);
    }
  }
  const t = (v: number[]) => Tensor.from('int64', [batch, seq], v);
  return { input_ids: t(ids), attention_mask: t(mask), token_type_ids: t(types) };
}

function rows(t: Tensor, from: number, count: number): Float32Array {
  const per = t.dims.slice(1).reduce((a, b) => a * b, 1);
  return (t.data as Float32Array).subarray(from * per, (from + count) * per);
}

function assertClose(got: Float32Array, want: Float32Array, where: string, tol: number): void {
  assert.equal(got.length, want.length, `${where}: length`);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tol * (1 + Math.abs(want[i])))) assert.fail(`${where}: element ${i} is ${got[i]}, expected ${want[i]}`);
  }
}

describe('BERT-base (the exporter\'s graph)', function () {
  this.timeout(600000);

  it('builds at batch 256, sequence 128: 12 fused attentions, the arena holds only what is alive together', () => {
    const model = bertEncoder();
    const shapes = Object.fromEntries(INPUTS.map((n) => [n, [256, 128]]));
    const warnings: string[] = [];
    const plan = buildPlan(model, CAPS, { inputShapes: shapes, warn: (w) => warnings.push(w) });
    assert.deepEqual(warnings, []);
    assert.deepEqual(plan.outputs.map((o) => [o.name, o.dims]), [['last_hidden_state', [256, 128, 768]], ['pooler_output', [256, 768]]]);
    assert.equal(plan.layers.filter((l) => l.kernel.startsWith('attention')).length, 12, 'every layer\'s attention is one fused kernel');
    // the largest tensor is the feed-forward activation [256*128, 3072] (403 MB); the hidden states
    // are 100 MB each. Every Reshape to heads and back is a view: before views stopped taking arena
    // space of their own, the plan asked for 17 GB.
    const hidden = 256 * 128 * 768 * 4;
    assert.ok(plan.arenaBytes <= 8 * hidden, `arena ${plan.arenaBytes} B is more than 8 hidden-state tensors (${8 * hidden} B)`);
    assert.ok(plan.arenaBytes >= 4 * hidden + 2 * hidden, 'the feed-forward activation and its input are planned');
  });

  describe('one engine, one profile (batch 1..64), BERT-base layer sizes', () => {
    const gpu = useGpu();
    const layers = Number(process.env.VKRT_TEST_BERT_LAYERS ?? 2);
    const vocab = 1000, seq = 16;
    let model: Model;

    before(() => { model = bertEncoder({ layers, vocab }); });

    it('serves batch 1, 5, 64 and 3 again; results match the reference and do not depend on the batch', async () => {
      const range = { min: [1, seq], opt: [8, seq], max: [64, seq] };
      const engine = buildEngine(model, { device: gpu.device, profiles: [Object.fromEntries(INPUTS.map((n) => [n, range]))] });
      try {
        assert.equal(engine.profiles!.length, 1);
        const ctx = engine.createExecutionContext();
        const results = new Map<number, Map<string, Tensor>>();
        for (const batch of [1, 5, 64, 3]) {
          const out = await ctx.execute(feeds(batch, seq, vocab));
          assert.deepEqual([...out.get('last_hidden_state')!.dims], [batch, seq, 768]);
          assert.deepEqual([...out.get('pooler_output')!.dims], [batch, 768]);
          results.set(batch, out);
        }
        for (const batch of [1, 5]) {
          const want = interpret(model, feeds(batch, seq, vocab));
          for (const name of ['last_hidden_state', 'pooler_output']) {
            const w = want.get(name) as Tensor;
            assertClose(rows(results.get(batch)!.get(name)!, 0, batch), rows(w, 0, batch), `batch ${batch}, ${name}`, 2e-3);
          }
        }
        // batch 64: its first 5 sequences are those of batch 5 (checked above), sequence 0 is batch 1's
        for (const name of ['last_hidden_state', 'pooler_output']) {
          const big = results.get(64)!.get(name)!;
          assertClose(rows(big, 0, 5), rows(results.get(5)!.get(name)!, 0, 5), `batch 64 rows 0..4 vs batch 5, ${name}`, 1e-4);
          assertClose(rows(big, 0, 3), rows(results.get(3)!.get(name)!, 0, 3), `batch 64 rows 0..2 vs batch 3, ${name}`, 1e-4);
        }
        // and the last row of batch 64 against the reference on its own
        const last = feeds(64, seq, vocab);
        const one = Object.fromEntries(INPUTS.map((n) => [n, Tensor.from('int64', [1, seq], [...(last[n].data as BigInt64Array).subarray(63 * seq)])]));
        const wantLast = interpret(model, one).get('last_hidden_state') as Tensor;
        assertClose(rows(results.get(64)!.get('last_hidden_state')!, 63, 1), rows(wantLast, 0, 1), 'batch 64 row 63 vs the reference', 2e-3);
        ctx.dispose();
      } finally {
        engine.dispose();
      }
    });
  });
});
