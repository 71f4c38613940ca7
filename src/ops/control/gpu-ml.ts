/**
 * GPU kernels of ai.onnx.ml operators on numbers: TreeEnsemble (shaders/control/tree_ensemble.comp,
 * the trees laid out as kernel weights), Binarizer (a generated pointwise kernel) and
 * ArrayFeatureExtractor (the Gather kernel along the last axis).
 */
import { grid1d, KernelContext, KernelImpl, withF16 } from '../../kernel/contract';
import { paramLayout } from '../../kernel/params';
import { pointwiseDispatch } from '../../kernel/pointwise';
import { isFloat } from '../../ir/dtype';
import { Tensor } from '../../ir/tensor';
import { gatherAlongKernel } from '../tensor/kernels';

/** shaders/control/tree_ensemble.comp: rows, features, roots, nodes, leaves, targets, aggregate function, post transform. */
const TREE_ENSEMBLE = paramLayout('tree_ensemble', { rows: 'u32', F: 'u32', R: 'u32', N: 'u32', L: 'u32', T: 'u32', agg: 'u32', post: 'u32' },
  'TreeEnsemble, one invocation per row (src/ops/control/gpu-ml.ts).');

const numbers = (t: Tensor): number[] => Array.from(t.data as ArrayLike<number | bigint>, Number);

export function treeEnsembleKernel(ctx: KernelContext): KernelImpl[] {
  const X = ctx.inputs[0];
  if (!X) return ctx.fail('X is required');
  if (X.dims.length !== 2) return ctx.fail(`X must be 2-D, got [${X.dims.join(',')}]`);
  if (X.gpu === 'i32') return ctx.unsupported(`TreeEnsemble on ${X.dtype}`);
  const a = ctx.attrs;
  const agg = a.int('aggregate_function', 1), post = a.int('post_transform', 0), T = a.int('n_targets');
  if (![0, 1, 2, 3].includes(agg)) return ctx.fail(`aggregate_function must be 0..3, got ${agg}`);
  if (post === 4) return ctx.unsupported('post_transform PROBIT has no GPU kernel');
  if (![0, 1, 2, 3].includes(post)) return ctx.fail(`post_transform must be 0..4, got ${post}`);
  const roots = a.ints('tree_roots'), feat = a.ints('nodes_featureids');
  const need = (name: string) => a.tensor(name) ?? ctx.fail(`required attribute '${name}' is missing`);
  const splits = numbers(need('nodes_splits')), modes = numbers(need('nodes_modes')), leafW = numbers(need('leaf_weights'));
  const tIds = a.ints('nodes_truenodeids'), fIds = a.ints('nodes_falsenodeids'), tLeaf = a.ints('nodes_trueleafs'), fLeaf = a.ints('nodes_falseleafs');
  const missTrue = a.ints('nodes_missing_value_tracks_true', []), leafTarget = a.ints('leaf_targetids');
  const N = feat.length, L = leafW.length, F = X.dims[1];
  for (const [n, l] of [['nodes_splits', splits.length], ['nodes_modes', modes.length], ['nodes_truenodeids', tIds.length], ['nodes_falsenodeids', fIds.length], ['nodes_trueleafs', tLeaf.length], ['nodes_falseleafs', fLeaf.length]] as const) {
    if (l !== N) return ctx.fail(`${n} has ${l} entries, expected ${N}`);
  }
  if (leafTarget.length !== L) return ctx.fail('leaf_targetids and leaf_weights differ in length');
  if (leafTarget.some((t) => !(t >= 0 && t < T))) return ctx.fail(`a leaf target is out of range [0, ${T})`);
  if (feat.some((f) => !(f >= 0 && f < F))) return ctx.fail(`a feature id is out of range [0, ${F})`);
  // BRANCH_MEMBER sets: membership_values split by NaN, in node order
  const members: number[] = [];
  const setOf: [number, number][] = new Array(N).fill([0, 0]);
  if (modes.includes(6)) {
    const mv = numbers(a.tensor('membership_values') ?? ctx.fail('BRANCH_MEMBER nodes need membership_values'));
    const groups: number[][] = [[]];
    for (const v of mv) { if (Number.isNaN(v)) groups.push([]); else groups[groups.length - 1].push(v); }
    let g = 0;
    for (let i = 0; i < N; i++) {
      if (modes[i] !== 6) continue;
      const set = groups[g++] ?? [];
      setOf[i] = [members.length, set.length];
      members.push(...set);
    }
  }
  const ints = new Int32Array(roots.length + 9 * N + L);
  ints.set(roots, 0);
  for (let i = 0; i < N; i++) {
    ints.set([feat[i], modes[i], tIds[i], fIds[i], tLeaf[i], fLeaf[i], missTrue[i] ?? 0, setOf[i][0], setOf[i][1]], roots.length + 9 * i);
  }
  ints.set(leafTarget, roots.length + 9 * N);
  const floats = Float32Array.from([...splits, ...leafW, ...members]);
  const rows = X.dims[0];
  return withF16([{
    name: 'tree_ensemble_rows',
    dispatches: [{
      shader: 'control/tree_ensemble', params: TREE_ENSEMBLE.pack({ rows, F, R: roots.length, N, L, T, agg, post }),
      workgroup: [64, 1, 1], groups: grid1d(rows, 64, ctx.caps), bindings: [{ input: 0 }, { weight: 0 }, { weight: 1 }, { output: 0 }],
    }],
    weights: [{ data: ints.length ? ints : new Int32Array(1) }, { data: floats.length ? floats : new Float32Array(1) }],
  }], ctx);
}

export function binarizerKernel(ctx: KernelContext): KernelImpl[] {
  const x = ctx.inputs[0];
  if (!x) return ctx.fail('X is required');
  const out = ctx.outputs[0];
  const float = isFloat(x.dtype);
  const d = pointwiseDispatch({
    name: 'binarizer', inputs: [{ gpu: x.gpu, dims: x.dims, as: float ? 'float' : 'int' }], outDims: out.dims, outGpu: out.gpu,
    resultAs: float ? 'float' : 'int', expr: float ? '(v0 > th ? 1.0 : 0.0)' : '(float(v0) > th ? 1 : 0)',
    floatParams: { th: ctx.attrs.float('threshold', 0) },
  }, ctx.caps);
  d.bindings = [{ input: 0 }, { output: 0 }];
  return withF16([{ name: 'binarizer', dispatches: [d] }], ctx);
}

/** ArrayFeatureExtractor: Gather of the indices along X's last axis (a 1-D X gives [1, n]). */
export function arrayFeatureExtractorKernel(ctx: KernelContext): KernelImpl[] {
  const [x, y] = ctx.inputs;
  if (!x || !y) return ctx.fail('X and Y are required');
  if (x.dims.length < 1) return ctx.fail('X must have rank >= 1');
  if (y.gpu !== 'i32') return ctx.fail(`Y must be integer indices, got ${y.dtype}`);
  return gatherAlongKernel(ctx, x.dims.length - 1);
}
