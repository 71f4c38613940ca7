/**
 * TfIdfVectorizer (opset 9): counts the pool's n-grams (lengths min_gram_length..max_gram_length,
 * items `skip + 1` apart for skip in 0..max_skip_count) in each row of X ([C] or [N, C], int32,
 * int64 or string), scatters them to ngram_indexes and applies mode TF / IDF / TFIDF with weights.
 * Unigrams are counted once (skips do not change them), as onnxruntime does.
 */
import { ValueType } from '../../ir/graph';
import { Tensor } from '../../ir/tensor';
import { OpContext, OpDef, ShapeContext } from '../types';
import { checkSize } from '../util/reduce-common';

function outWidth(ctx: OpContext | ShapeContext): number {
  const idx = ctx.attrs.ints('ngram_indexes');
  return idx.length ? Math.max(...idx) + 1 : 0;
}

export const TFIDF_DEF: OpDef = {
  opType: 'TfIdfVectorizer',
  inferShape(ctx, inputs): ValueType[] {
    const x = inputs[0]!;
    const w = outWidth(ctx);
    if (!x.shape) return [{ dtype: 'float32' }];
    return [{ dtype: 'float32', shape: x.shape.length === 1 ? [w] : [x.shape[0], w] }];
  },
  reference(ctx, inputs) {
    const x = inputs[0]!;
    if (!['int32', 'int64', 'string'].includes(x.dtype)) ctx.fail(`X of type ${x.dtype} is not int32, int64 or string`);
    if (x.rank !== 1 && x.rank !== 2) ctx.fail(`X must be 1-D or 2-D, got rank ${x.rank}`);
    const minN = ctx.attrs.int('min_gram_length');
    const maxN = ctx.attrs.int('max_gram_length');
    const maxSkip = ctx.attrs.int('max_skip_count');
    const mode = ctx.attrs.string('mode');
    const counts = ctx.attrs.ints('ngram_counts');
    const indexes = ctx.attrs.ints('ngram_indexes');
    const pool: string[] = ctx.attrs.has('pool_strings') ? ctx.attrs.strings('pool_strings') : ctx.attrs.ints('pool_int64s', []).map(String);
    const weights = ctx.attrs.floats('weights', []);
    if (!['TF', 'IDF', 'TFIDF'].includes(mode)) ctx.fail(`mode '${mode}' is not TF, IDF or TFIDF`);
    if (minN < 1 || maxN < minN || maxSkip < 0) ctx.fail(`invalid gram lengths [${minN}, ${maxN}] or max_skip_count ${maxSkip}`);
    // key (n-gram items joined) -> n-gram number in pool order
    const known = new Map<string, number>();
    let g = 0;
    for (let i = 0; i < counts.length; i++) {
      const n = i + 1;
      const start = counts[i], end = i + 1 < counts.length ? counts[i + 1] : pool.length;
      if (start < 0 || end > pool.length || start > end || (end - start) % n !== 0) ctx.fail(`ngram_counts [${counts.join(',')}] do not fit a pool of ${pool.length} items`);
      for (let p = start; p < end; p += n) known.set(JSON.stringify(pool.slice(p, p + n)), g++);
    }
    if (indexes.length !== g) ctx.fail(`ngram_indexes has ${indexes.length} entries for ${g} n-grams`);
    if (weights.length && weights.length !== g) ctx.fail(`weights has ${weights.length} entries for ${g} n-grams`);
    const W = outWidth(ctx);
    const N = x.rank === 1 ? 1 : x.dims[0];
    const C = x.dims[x.rank - 1];
    checkSize([N, W], (m) => ctx.fail(m));
    const items = Array.from(x.data as ArrayLike<unknown>, String);
    const tf = new Float64Array(N * W);
    const hits = new Float64Array(N * g);
    for (let r = 0; r < N; r++) {
      let startN = minN;
      // distances of C or more form no n-gram longer than 1, so larger skips change nothing (and
      // a hostile max_skip_count cannot make this loop long)
      const maxDistance = Math.min(maxSkip + 1, Math.max(C, 1));
      for (let skip = 1; skip <= maxDistance; skip++) {
        for (let s = 0; s < C; s++) {
          const gram: string[] = [];
          for (let n = 1; n <= maxN; n++) {
            const p = s + (n - 1) * skip;
            if (p >= C) break;
            gram.push(items[r * C + p]);
            if (n < startN) continue;
            const id = known.get(JSON.stringify(gram));
            if (id !== undefined) hits[r * g + id]++;
          }
        }
        if (startN === 1 && ++startN > maxN) break; // unigrams do not depend on the skip
      }
    }
    for (let r = 0; r < N; r++) for (let id = 0; id < g; id++) {
      const c = hits[r * g + id];
      const w = weights.length ? weights[id] : 1;
      const v = mode === 'TF' ? c : mode === 'IDF' ? (c > 0 ? w : 0) : c * w;
      tf[r * W + indexes[id]] += v;
    }
    return [Tensor.from('float32', x.rank === 1 ? [W] : [N, W], tf)];
  },
};
