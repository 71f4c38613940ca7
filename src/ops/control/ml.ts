/** ai.onnx.ml operators: LabelEncoder, TreeEnsemble, ArrayFeatureExtractor, Binarizer. */
import { DType, isBigInt } from '../../ir/dtype';
import { ValueType } from '../../ir/graph';
import { sizeOf, Tensor } from '../../ir/tensor';
import { OpContext, OpDef, ShapeContext } from '../types';
import { checkDims, toF64 } from '../util/control-tensor';
import { arrayFeatureExtractorKernel, binarizerKernel, treeEnsembleKernel } from './gpu-ml';

const ML = 'ai.onnx.ml';

type Key = string | number;
const keyOf = (v: unknown): Key => (typeof v === 'string' ? v : Number(v));

/** The keys, values and output dtype of a LabelEncoder (attribute lists or, at opset 4, tensors). */
function labelMaps(ctx: OpContext | ShapeContext): { keys?: Key[]; values?: unknown[]; dtype: DType; dflt: unknown } {
  const a = ctx.attrs;
  let keys: Key[] | undefined;
  if (a.has('keys_tensor')) keys = Array.from(a.tensor('keys_tensor')!.data as ArrayLike<unknown>, keyOf);
  else if (a.has('keys_strings')) keys = a.strings('keys_strings');
  else if (a.has('keys_int64s')) keys = a.ints('keys_int64s');
  else if (a.has('keys_floats')) keys = a.floats('keys_floats');
  let values: unknown[] | undefined;
  let dtype: DType;
  let dflt: unknown;
  if (a.has('values_tensor')) {
    const t = a.tensor('values_tensor')!;
    values = Array.from(t.data as ArrayLike<unknown>);
    dtype = t.dtype;
    const d = a.tensor('default_tensor');
    dflt = d ? d.data[0] : dtype === 'string' ? '_Unused' : isBigInt(dtype) ? -1 : dtype.startsWith('float') ? -0 : -1;
  } else if (a.has('values_strings')) {
    values = a.strings('values_strings');
    dtype = 'string';
    dflt = a.string('default_string', '_Unused');
  } else if (a.has('values_int64s')) {
    values = a.ints('values_int64s');
    dtype = 'int64';
    dflt = a.int('default_int64', -1);
  } else {
    values = a.has('values_floats') ? a.floats('values_floats') : undefined;
    dtype = 'float32';
    dflt = a.float('default_float', -0.0);
  }
  if (a.has('default_tensor') && !a.has('values_tensor')) dflt = a.tensor('default_tensor')!.data[0];
  return { keys, values, dtype, dflt };
}

export const LabelEncoder: OpDef = {
  opType: 'LabelEncoder',
  domain: ML,
  sinceVersion: 2,
  inferShape(ctx: ShapeContext, [x]) {
    return [{ dtype: labelMaps(ctx).dtype, shape: x?.shape }];
  },
  reference(ctx: OpContext, [x]) {
    if (!x) ctx.fail('X is required');
    const { keys, values, dtype, dflt } = labelMaps(ctx);
    if (!keys || !values) ctx.fail('LabelEncoder needs one keys_* and one values_* attribute');
    if (keys.length !== values.length) ctx.fail(`keys (${keys.length}) and values (${values.length}) differ in length`);
    // Map uses SameValueZero: NaN keys match NaN inputs, as the ONNX spec asks.
    const m = new Map<Key, unknown>();
    keys.forEach((k, i) => m.set(k, values[i]));
    const out: unknown[] = Array.from(x.data as ArrayLike<unknown>, (v) => {
      const r = m.get(keyOf(v));
      return r === undefined ? dflt : r;
    });
    return [Tensor.from(dtype, x.dims, out as (number | bigint | string)[])];
  },
};

export const ArrayFeatureExtractor: OpDef = {
  opType: 'ArrayFeatureExtractor',
  domain: ML,
  kernel: arrayFeatureExtractorKernel,
  inferShape(_ctx: ShapeContext, [x, y]) {
    if (!x?.shape || !y?.shape) return [{ dtype: x?.dtype ?? 'float32', shape: undefined }];
    const n = y.shape.reduce<number | string>((a, d) => (typeof a === 'number' && typeof d === 'number' ? a * d : 'indices'), 1);
    return [{ dtype: x.dtype, shape: x.shape.length === 1 ? [1, n] : [...x.shape.slice(0, -1), n] }];
  },
  reference(ctx: OpContext, [x, y]) {
    if (!x || !y) ctx.fail('X and Y are required');
    if (x.dims.length < 1) ctx.fail('X must have rank >= 1');
    const last = x.dims[x.dims.length - 1];
    const idx = Array.from(y.data as ArrayLike<number | bigint>, Number);
    for (const i of idx) if (!(i >= 0 && i < last)) ctx.fail(`index ${i} is out of range [0, ${last})`);
    const outer = sizeOf(x.dims.slice(0, -1));
    const dims = x.dims.length === 1 ? [1, idx.length] : [...x.dims.slice(0, -1), idx.length];
    checkDims(dims, ctx.fail);
    const src = x.data as ArrayLike<unknown>;
    const out: unknown[] = [];
    for (let o = 0; o < outer; o++) for (const i of idx) out.push(src[o * last + i]);
    return [Tensor.from(x.dtype, dims, out as (number | bigint | string)[])];
  },
};

export const Binarizer: OpDef = {
  opType: 'Binarizer',
  domain: ML,
  kernel: binarizerKernel,
  inferShape(_ctx: ShapeContext, [x]) {
    return [x ?? { dtype: 'float32' }];
  },
  reference(ctx: OpContext, [x]) {
    if (!x) ctx.fail('X is required');
    const th = ctx.attrs.float('threshold', 0);
    return [Tensor.from(x.dtype, x.dims, Array.from(x.data as ArrayLike<number | bigint>, (v) => (Number(v) > th ? 1 : 0)))];
  },
};

/** Inverse error function (Giles' single-precision approximation refined by two Newton steps). */
function erfinv(y: number): number {
  if (y <= -1) return -Infinity;
  if (y >= 1) return Infinity;
  let w = -Math.log((1 - y) * (1 + y));
  let x: number;
  if (w < 5) {
    w -= 2.5;
    let p = 2.81022636e-8;
    for (const c of [3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941]) p = c + p * w;
    x = p * y;
  } else {
    w = Math.sqrt(w) - 3;
    let p = -0.000200214257;
    for (const c of [0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682]) p = c + p * w;
    x = p * y;
  }
  const erf = (z: number) => {
    // Abramowitz-Stegun 7.1.26 is too coarse for Newton; use the series/continued fraction via Math
    const t = 1 / (1 + 0.5 * Math.abs(z));
    const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
    return z >= 0 ? 1 - r : r - 1;
  };
  for (let k = 0; k < 2; k++) x -= (erf(x) - y) / ((2 / Math.sqrt(Math.PI)) * Math.exp(-x * x));
  return x;
}

/** Apply a TreeEnsemble/TreeEnsembleRegressor post_transform to one row of scores, in place. */
function postTransform(ctx: OpContext, kind: number, row: Float64Array): void {
  switch (kind) {
    case 0: return;
    case 1: case 3: {
      const zeroAware = kind === 3;
      let max = -Infinity;
      for (const v of row) if (!(zeroAware && v === 0)) max = Math.max(max, v);
      let sum = 0;
      for (let i = 0; i < row.length; i++) {
        row[i] = zeroAware && row[i] === 0 ? 0 : Math.exp(row[i] - max);
        sum += row[i];
      }
      for (let i = 0; i < row.length; i++) row[i] = sum === 0 ? 0 : row[i] / sum;
      return;
    }
    case 2: for (let i = 0; i < row.length; i++) row[i] = 1 / (1 + Math.exp(-row[i])); return;
    case 4: for (let i = 0; i < row.length; i++) row[i] = Math.SQRT2 * erfinv(2 * row[i] - 1); return;
    default: ctx.fail(`post_transform must be 0..4, got ${kind}`);
  }
}

/** TreeEnsemble (ai.onnx.ml opset 5). */
export const TreeEnsemble: OpDef = {
  opType: 'TreeEnsemble',
  domain: ML,
  kernel: treeEnsembleKernel,
  sinceVersion: 5,
  inferShape(ctx: ShapeContext, [x]): ValueType[] {
    return [{ dtype: x?.dtype ?? 'float32', shape: x?.shape ? [x.shape[0], ctx.attrs.int('n_targets')] : undefined }];
  },
  reference(ctx: OpContext, [X]) {
    if (!X) ctx.fail('X is required');
    if (X.dims.length !== 2) ctx.fail(`X must be 2-D, got [${X.dims.join(',')}]`);
    const a = ctx.attrs;
    const agg = a.int('aggregate_function', 1);
    const post = a.int('post_transform', 0);
    const nTargets = a.int('n_targets');
    const roots = a.ints('tree_roots');
    const feat = a.ints('nodes_featureids');
    const splits = toF64(a.tensor('nodes_splits') ?? ctx.fail("required attribute 'nodes_splits' is missing"));
    const modes = Array.from((a.tensor('nodes_modes') ?? ctx.fail("required attribute 'nodes_modes' is missing")).data as ArrayLike<number>, Number);
    const tIds = a.ints('nodes_truenodeids'), fIds = a.ints('nodes_falsenodeids');
    const tLeaf = a.ints('nodes_trueleafs'), fLeaf = a.ints('nodes_falseleafs');
    const missTrue = a.ints('nodes_missing_value_tracks_true', []);
    const leafTarget = a.ints('leaf_targetids');
    const leafW = toF64(a.tensor('leaf_weights') ?? ctx.fail("required attribute 'leaf_weights' is missing"));
    const memT = a.tensor('membership_values');
    const nNodes = feat.length;
    for (const [n, l] of [['nodes_splits', splits.length], ['nodes_modes', modes.length], ['nodes_truenodeids', tIds.length], ['nodes_falsenodeids', fIds.length], ['nodes_trueleafs', tLeaf.length], ['nodes_falseleafs', fLeaf.length]] as const) {
      if (l !== nNodes) ctx.fail(`${n} has ${l} entries, expected ${nNodes}`);
    }
    if (leafTarget.length !== leafW.length) ctx.fail('leaf_targetids and leaf_weights differ in length');
    for (const t of leafTarget) if (!(t >= 0 && t < nTargets)) ctx.fail(`leaf target ${t} is out of range [0, ${nTargets})`);
    if (![0, 1, 2, 3].includes(agg)) ctx.fail(`aggregate_function must be 0..3, got ${agg}`);
    // Sets of BRANCH_MEMBER nodes, in node order, separated by NaN in membership_values.
    const sets = new Map<number, Set<number>>();
    if (modes.includes(6)) {
      const mv = memT ? Array.from(toF64(memT)) : ctx.fail('BRANCH_MEMBER nodes need membership_values');
      let cur: number[] = [];
      const groups: number[][] = [];
      for (const v of mv) {
        if (Number.isNaN(v)) { groups.push(cur); cur = []; } else cur.push(v);
      }
      if (cur.length) groups.push(cur);
      let g = 0;
      for (let i = 0; i < nNodes; i++) if (modes[i] === 6) sets.set(i, new Set(groups[g++] ?? []));
    }
    const [N, F] = X.dims;
    for (const f of feat) if (!(f >= 0 && f < F)) ctx.fail(`feature id ${f} is out of range [0, ${F})`);
    const x = toF64(X);
    const out = new Float64Array(N * nTargets);
    const init = agg === 2 ? Infinity : agg === 3 ? -Infinity : 0;
    const row = new Float64Array(nTargets);
    for (let n = 0; n < N; n++) {
      row.fill(init);
      for (const root of roots) {
        let node = root;
        let leaf = -1;
        // A tree visits each node at most once; more steps mean a cycle (a hostile model).
        for (let steps = 0; leaf < 0; steps++) {
          if (steps > nNodes || !(node >= 0 && node < nNodes)) ctx.fail(`tree rooted at ${root} is malformed (cycle or node id ${node} out of range)`);
          const v = x[n * F + feat[node]];
          const s = splits[node];
          let go: boolean;
          if (Number.isNaN(v) && missTrue[node]) go = true;
          else {
            switch (modes[node]) {
              case 0: go = v <= s; break;
              case 1: go = v < s; break;
              case 2: go = v >= s; break;
              case 3: go = v > s; break;
              case 4: go = v === s; break;
              case 5: go = v !== s; break;
              case 6: go = sets.get(node)!.has(v); break;
              default: ctx.fail(`node mode ${modes[node]} is not valid`);
            }
          }
          const next = go ? tIds[node] : fIds[node];
          if (go ? tLeaf[node] : fLeaf[node]) leaf = next; else node = next;
        }
        if (!(leaf < leafW.length)) ctx.fail(`leaf id ${leaf} is out of range`);
        const t = leafTarget[leaf], w = leafW[leaf];
        if (agg === 2) row[t] = Math.min(row[t], w);
        else if (agg === 3) row[t] = Math.max(row[t], w);
        else row[t] += w;
      }
      if (agg === 0) for (let t = 0; t < nTargets; t++) row[t] /= roots.length || 1;
      for (let t = 0; t < nTargets; t++) if (!Number.isFinite(row[t]) && row[t] === init && init !== 0) row[t] = 0;
      postTransform(ctx, post, row);
      out.set(row, n * nTargets);
    }
    return [Tensor.from(X.dtype, [N, nTargets], out)];
  },
};

export const ML_OPS: OpDef[] = [LabelEncoder, ArrayFeatureExtractor, Binarizer, TreeEnsemble];
