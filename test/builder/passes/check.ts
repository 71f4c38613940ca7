/**
 * Shared checks of the rewrite-rule tests: run the optimizer (verify after every pass), list the
 * resulting ops, and compare the rewritten graph with the original through the reference
 * interpreter and through the GPU (an engine built without fusion and one with it).
 */
import { strict as assert } from 'assert';
import { optimize, OptimizeResult } from '../../../src/builder/passes/optimize';
import { opKey } from '../../../src/builder/passes/rule';
import { Device } from '../../../src/gpu';
import { Model, ValueType } from '../../../src/ir/graph';
import { Tensor } from '../../../src/ir/tensor';
import { registry } from '../../../src/ops/index';
import { interpret } from '../../../src/ops/interpreter';
import { randomTensor } from '../../helpers/gpu-op';
import { errorStats } from '../../helpers/model-cases';
import { buildEngine } from '../../../src/api/build';

/** Optimize with graph verification after every pass; `passes` limits the run (default all). */
export function optimized(model: Model, passes?: string[]): OptimizeResult {
  const inputTypes = new Map<string, ValueType>();
  for (const i of model.graph.inputs) if (!model.graph.initializers.has(i)) inputTypes.set(i, model.graph.types.get(i)!);
  return optimize(model, { registry, inputTypes, verify: true, passes });
}

/** The op of every node, in order (`vkrt::FusedElementwise` for internal ones). */
export function ops(model: Model): string[] {
  return model.graph.nodes.map(opKey);
}

/** Seeded random feeds for the model's inputs. */
export function feedsFor(model: Model, seed = 3, lo = -2, hi = 2): Map<string, Tensor> {
  const feeds = new Map<string, Tensor>();
  model.graph.inputs.filter((i) => !model.graph.initializers.has(i)).forEach((name, k) => {
    const t = model.graph.types.get(name)!;
    feeds.set(name, randomTensor(t.dtype, t.shape as number[], seed + k, lo, hi));
  });
  return feeds;
}

function close(expected: Tensor, got: Tensor, what: string, tol: number): void {
  assert.deepEqual(got.dims, expected.dims, `${what}: dims`);
  const { maxAbs, relL2 } = errorStats(expected, got);
  assert.ok(relL2 <= tol || maxAbs <= tol, `${what}: max abs ${maxAbs}, rel L2 ${relL2}`);
}

/** The rewritten model computes what the original computes, in the reference interpreter. */
export function sameReference(original: Model, rewritten: Model, feeds: Map<string, Tensor>, tol = 1e-5): void {
  const a = interpret(original, feeds), b = interpret(rewritten, feeds);
  for (const o of original.graph.outputs) close(a.get(o) as Tensor, b.get(o) as Tensor, `reference output ${o}`, tol);
}

/**
 * On the GPU: engines without and with fusion both match the reference interpreter on the
 * original model. Returns the fused engine's layer names.
 */
export async function sameGpu(device: Device, model: Model, feeds: Map<string, Tensor>, tol = 1e-4): Promise<string[][]> {
  const ref = interpret(model, feeds);
  const layers: string[][] = [];
  for (const fusion of [false, true]) {
    const engine = buildEngine(model, { device, fusion });
    try {
      const out = await engine.createExecutionContext().execute(feeds);
      for (const o of model.graph.outputs) close(ref.get(o) as Tensor, out.get(o)!, `GPU (fusion ${fusion}) output ${o}`, tol);
      layers.push(engine.plan.layers.map((l) => l.name));
    } finally {
      engine.dispose();
    }
  }
  return layers;
}
