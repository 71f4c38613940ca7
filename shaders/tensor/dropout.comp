#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/dropout.glsl"
// Dropout that may run in training mode (src/ops/tensor/kernels.ts): keep element i when u[i] >=
// ratio, y = keep ? x / (1 - ratio) : 0, mask = keep. u is the seeded uniform stream the
// reference draws (MT19937 of the seed attribute), laid out at build time: the mask depends only
// on the seed and the element index. In inference mode (training_mode 0) or with ratio 0, y = x
// and the mask is all ones.
// Bindings: 0 x, 1 ratio (float[1], HAS_RATIO), 2 training_mode (int[1], HAS_TRAINING),
//   3 u (float[n], a kernel weight), 4 y, 5 mask (HAS_MASK; int, or float with MASK_FLOAT).
// Params (layout dropout, src/ops/tensor/kernels.ts): P_n, P_ratio (without HAS_RATIO),
//   P_training (without HAS_TRAINING).
// Defines: HAS_RATIO, HAS_TRAINING, HAS_MASK, MASK_FLOAT.
layout(std430, binding = 0) readonly buffer InX { FT x_[]; };
layout(std430, binding = 1) readonly buffer InR { float r_[]; };
layout(std430, binding = 2) readonly buffer InT { int t_[]; };
layout(std430, binding = 3) readonly buffer InU { float u_[]; };
layout(std430, binding = 4) writeonly buffer OutY { FT y_[]; };
#ifdef MASK_FLOAT
layout(std430, binding = 5) writeonly buffer OutM { FT m_[]; };
#define MASK_T FT
#else
layout(std430, binding = 5) writeonly buffer OutM { int m_[]; };
#define MASK_T int
#endif

void main() {
  uint i = vkrt_index();
  if (i >= P_n) return;
#ifdef HAS_RATIO
  float ratio = r_[0];
#else
  float ratio = P_ratio;
#endif
#ifdef HAS_TRAINING
  bool training = t_[0] != 0;
#else
  bool training = P_training != 0u;
#endif
  float x = float(x_[i]);
  bool keep = true;
  float y = x;
  if (training && ratio != 0.0) {
    keep = u_[i] >= ratio;
    y = keep ? x / (1.0 - ratio) : 0.0;
  }
  y_[i] = FT(y);
#ifdef HAS_MASK
  m_[i] = keep ? MASK_T(1) : MASK_T(0);
#endif
}
