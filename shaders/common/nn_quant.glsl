// nn quantization helpers: float division and requantization that match the CPU reference
// (IEEE float32 division, float64 products rounded half to even) without relying on the driver's
// division precision (Vulkan allows 2.5 ULP) or on fused multiply-add.
//   float nn_div(float a, float b)          a / b, corrected to (nearly always) the rounded quotient
//   float nn_rint_prod(float a, float s)    rint(a * s) with a * s taken exactly (round half to even)
//   int   nn_requant(int acc, float s, int zp, int lo, int hi)   clamp(rint(acc * s) + zp, lo, hi)
//   int   nn_requant_act(acc, s, real, ys, zp, lo, hi, kind, a, b)   the same with a fused activation
//         (include nn_act.glsl first; the reference is requantActivated in src/ops/nn/gpu/epilogue.ts):
//         None: nn_requant; Relu: nn_requant(max(acc, 0)) (exact); other: rint(act(acc * real) / ys) + zp
#ifndef NN_QUANT_GLSL
#define NN_QUANT_GLSL

// Dekker's exact product: a * b == p + err (no fma, no contraction: precise).
float nn_two_prod_err(float a, float b, float p) {
  precise float ca = 4097.0 * a;
  precise float ah = ca - (ca - a);
  precise float al = a - ah;
  precise float cb = 4097.0 * b;
  precise float bh = cb - (cb - b);
  precise float bl = b - bh;
  precise float e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
  return e;
}

float nn_div(float a, float b) {
  precise float q = a / b;
  if (isnan(q) || isinf(q) || q == 0.0 || isinf(b)) return q;
  precise float p = q * b;
  precise float e = nn_two_prod_err(q, b, p);
  precise float r = (a - p) - e;   // a - q * b, exact (Sterbenz)
  precise float c = q + r / b;
  return c;
}

float nn_rint_prod(float a, float s) {
  precise float p = a * s;
  float n = roundEven(p);
  if (isnan(p) || isinf(p) || abs(p) >= 8388608.0) return n;
  precise float e = nn_two_prod_err(a, s, p);
  precise float d = (p - n) + e;   // a * s - n
  if (d > 0.5) n += 1.0;
  else if (d < -0.5) n -= 1.0;
  return n;
}

int nn_requant(int acc, float s, int zp, int lo, int hi) {
  float v = nn_rint_prod(float(acc), s) + float(zp);
  if (isnan(v)) return 0;
  return v <= float(lo) ? lo : v >= float(hi) ? hi : int(v);
}

#ifdef NN_ACT_GLSL
int nn_requant_act(int acc, float s, float real, float ys, int zp, int lo, int hi, uint kind, float a, float b) {
  if (kind == ACT_None) return nn_requant(acc, s, zp, lo, hi);
  if (kind == ACT_Relu) return nn_requant(max(acc, 0), s, zp, lo, hi);
  float v = roundEven(nn_div(nn_act(float(acc) * real, kind, a, b), ys)) + float(zp);
  if (isnan(v)) return 0;
  return v <= float(lo) ? lo : v >= float(hi) ? hi : int(v);
}
#endif

#endif
