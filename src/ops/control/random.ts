/**
 * Random generators: Bernoulli, RandomUniform(Like), RandomNormal(Like), Multinomial. Values come
 * from a seeded xoshiro128** generator: the `seed` attribute makes a run reproducible in vkrt, but
 * no implementation is required to reproduce numpy's or onnxruntime's streams, so golden data that
 * compares drawn values cannot match (see the control policy file).
 */
import { DType, dtypeFromOnnx, isFloat } from '../../ir/dtype';
import { Tensor } from '../../ir/tensor';
import { OpContext, OpDef, ShapeContext } from '../types';
import { checkDims, toF64 } from '../util/control-tensor';

/** A small seeded PRNG: xoshiro128** seeded through a splitmix-style mixer. */
export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  constructor(seed: number) {
    let x = (Math.floor(seed * 1000003) ^ 0x9e3779b9) >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next(); this.s1 = next(); this.s2 = next(); this.s3 = next() | 1;
  }
  /** Uniform in [0, 1) with 32 random bits (xoshiro128**). */
  next(): number {
    const r = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0; this.s3 ^= this.s1; this.s1 ^= this.s2; this.s0 ^= this.s3;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return r / 4294967296;
  }
  /** Standard normal (Box-Muller). */
  normal(): number {
    let u = this.next();
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The generator of a node: its `seed` attribute, or a fresh nondeterministic seed as ONNX says. */
function rng(ctx: OpContext): SeededRandom {
  const seed = ctx.attrs.optFloat('seed');
  return new SeededRandom(seed ?? Math.random() * 2 ** 31);
}

function dtypeAttr(ctx: { attrs: OpContext["attrs"]; fail(m: string): never }, dflt: DType | undefined, floatOnly: boolean): DType {
  const code = ctx.attrs.optInt('dtype');
  const dt = code === undefined ? dflt : dtypeFromOnnx(code);
  if (!dt) ctx.fail(code === undefined ? "the 'dtype' attribute is needed here" : `unknown dtype ${code}`);
  if (floatOnly && !isFloat(dt)) ctx.fail(`dtype must be a float type, got ${dt}`);
  return dt;
}

function sample(ctx: OpContext, dtype: DType, dims: readonly number[], draw: (r: SeededRandom) => number): Tensor {
  checkDims(dims, ctx.fail);
  const r = rng(ctx);
  const n = dims.reduce((a, b) => a * b, 1);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = draw(r);
  return Tensor.from(dtype, dims, v);
}

function uniform(ctx: OpContext): (r: SeededRandom) => number {
  const low = ctx.attrs.float('low', 0.0), high = ctx.attrs.float('high', 1.0);
  return (r) => low + (high - low) * r.next();
}

function normal(ctx: OpContext): (r: SeededRandom) => number {
  const mean = ctx.attrs.float('mean', 0.0), scale = ctx.attrs.float('scale', 1.0);
  return (r) => mean + scale * r.normal();
}

function generator(opType: string, draw: (ctx: OpContext) => (r: SeededRandom) => number): OpDef {
  return {
    opType,
    traits: { nondeterministic: true },
    inferShape(ctx: ShapeContext) {
      return [{ dtype: dtypeAttr(ctx, 'float32', true), shape: ctx.attrs.ints('shape').slice() }];
    },
    reference(ctx: OpContext) {
      return [sample(ctx, dtypeAttr(ctx, 'float32', true), ctx.attrs.ints('shape'), draw(ctx))];
    },
  };
}

function likeGenerator(opType: string, draw: (ctx: OpContext) => (r: SeededRandom) => number): OpDef {
  return {
    opType,
    traits: { nondeterministic: true },
    inferShape(ctx: ShapeContext, [x]) {
      return [{ dtype: dtypeAttr(ctx, x?.dtype ?? 'float32', true), shape: x?.shape }];
    },
    reference(ctx: OpContext, [x]) {
      if (!x) ctx.fail('input is required');
      return [sample(ctx, dtypeAttr(ctx, x.dtype, true), x.dims, draw(ctx))];
    },
  };
}

export const RandomUniform = generator('RandomUniform', uniform);
export const RandomNormal = generator('RandomNormal', normal);
export const RandomUniformLike = likeGenerator('RandomUniformLike', uniform);
export const RandomNormalLike = likeGenerator('RandomNormalLike', normal);

export const Bernoulli: OpDef = {
  opType: 'Bernoulli',
  traits: { nondeterministic: true },
  sinceVersion: 15,
  inferShape(ctx: ShapeContext, [x]) {
    return [{ dtype: dtypeAttr(ctx, x?.dtype ?? 'float32', false), shape: x?.shape }];
  },
  reference(ctx: OpContext, [x]) {
    if (!x) ctx.fail('input is required');
    const p = toF64(x);
    let i = 0;
    return [sample(ctx, dtypeAttr(ctx, x.dtype, false), x.dims, (r) => (r.next() < p[i++] ? 1 : 0))];
  },
};

export const Multinomial: OpDef = {
  opType: 'Multinomial',
  traits: { nondeterministic: true },
  inferShape(ctx: ShapeContext, [x]) {
    return [{ dtype: dtypeAttr(ctx, 'int32', false), shape: [x?.shape?.[0] ?? 'batch', ctx.attrs.int('sample_size', 1)] }];
  },
  reference(ctx: OpContext, [x]) {
    if (!x) ctx.fail('input is required');
    const dtype = dtypeAttr(ctx, 'int32', false);
    if (dtype !== 'int32' && dtype !== 'int64') ctx.fail(`dtype must be int32 or int64, got ${dtype}`);
    const sampleSize = ctx.attrs.int('sample_size', 1);
    if (x.dims.length !== 2) ctx.fail(`input must be [batch, class_size], got [${x.dims.join(',')}]`);
    const [batch, classes] = x.dims;
    if (classes < 1) ctx.fail('class_size must be at least 1');
    const logits = toF64(x);
    // cumulative unnormalized probabilities per row
    const cdf = new Float64Array(batch * classes);
    for (let b = 0; b < batch; b++) {
      let max = -Infinity;
      for (let c = 0; c < classes; c++) max = Math.max(max, logits[b * classes + c]);
      let acc = 0;
      for (let c = 0; c < classes; c++) cdf[b * classes + c] = acc += Math.exp(logits[b * classes + c] - max);
    }
    let k = 0;
    return [sample(ctx, dtype, [batch, sampleSize], (r) => {
      const b = Math.floor(k++ / sampleSize);
      const u = r.next() * cdf[b * classes + classes - 1];
      let c = 0;
      while (c < classes - 1 && cdf[b * classes + c] <= u) c++;
      return c;
    })];
  },
};

export const RANDOM_OPS: OpDef[] = [RandomUniform, RandomNormal, RandomUniformLike, RandomNormalLike, Bernoulli, Multinomial];
