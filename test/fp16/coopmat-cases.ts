/**
 * The cases every matrix-unit GEMM path must pass: odd sizes (1, 7, 13, 127, non-multiples of 16
 * and of the tiles), batched and broadcast MatMul, Gemm with transposes, alpha, beta and each shape
 * of C, and every fused activation. Shared by test/fp16/coopmat-gemm.test.ts (the emulation on
 * lavapipe) and bench/gpu/coopmat-check.ts (the real NV and KHR paths on a GPU host). Plain data:
 * no mocha here.
 */
import { Attr } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { ACTIVATIONS } from '../../src/ops/nn/gpu/epilogue';
import { OpCase, randomTensor } from '../helpers/gpu-op';

export interface CoopMatCase {
  what: string;
  case: OpCase;
}

/** The tile candidates of gemm-coopmat.ts; PREFIX is the op (`matmul`, `gemm`). */
export const COOPMAT_KERNELS = ['PREFIX_coopmat_64x64', 'PREFIX_coopmat_128x128'];

const f = (dims: number[], seed: number, lo = -1, hi = 1): Tensor => randomTensor('float32', dims, seed, lo, hi);
const int = (value: number): Attr => ({ type: 'int', value });
const float = (value: number): Attr => ({ type: 'float', value });
const str = (value: string): Attr => ({ type: 'string', value });
/** FP16 inputs and output, FP32 sums over K of up to ~150 terms in [-1, 1]. */
const TOL = { rtol: 1e-2, atol: 1e-2 };

const mm = (what: string, a: number[], b: number[], seed: number, extra: Partial<OpCase> = {}): CoopMatCase =>
  ({ what, case: { op: 'MatMul', inputs: [f(a, seed), f(b, seed + 1)], ...TOL, ...extra } });
const gemm = (what: string, attrs: Record<string, Attr>, inputs: Tensor[], constant: number[]): CoopMatCase =>
  ({ what, case: { op: 'Gemm', attrs, inputs, constant, ...TOL } });

export const COOPMAT_CASES: CoopMatCase[] = [
  mm('MatMul 70x33 x 33x65', [70, 33], [33, 65], 10),
  mm('MatMul 1x1 x 1x1', [1, 1], [1, 1], 20),
  mm('MatMul 7x7 x 7x7', [7, 7], [7, 7], 30),
  mm('MatMul 13x127 x 127x1', [13, 127], [127, 1], 40),
  mm('MatMul 127x13 x 13x130 (two 128-wide tiles)', [127, 13], [13, 130], 50),
  mm('MatMul 1x100 x 100x7 (one row)', [1, 100], [100, 7], 60),
  mm('MatMul 40 x 40x17 (1-D A)', [40], [40, 17], 70),
  mm('MatMul 33x150 x 150x20 (K over several 32-deep steps)', [33, 150], [150, 20], 80),
  mm('batched MatMul 3x17x20 x 3x20x19', [3, 17, 20], [3, 20, 19], 90),
  mm('broadcast MatMul 2x1x9x40 x 3x40x31', [2, 1, 9, 40], [3, 40, 31], 100),
  mm('MatMul with constant B 5x48x24 x 24x40', [5, 48, 24], [24, 40], 110, { constant: [1] }),
  gemm('Gemm transB, bias [N] (a Linear layer)', { transB: int(1) }, [f([13, 40], 120), f([17, 40], 121), f([17], 122)], [1, 2]),
  gemm('Gemm transA, alpha 0.5, beta 2, C [M, N]', { transA: int(1), alpha: float(0.5), beta: float(2) }, [f([24, 19], 130), f([24, 33], 131), f([19, 33], 132)], [1, 2]),
  gemm('Gemm transA transB, C [M, 1]', { transA: int(1), transB: int(1) }, [f([20, 7], 140), f([29, 20], 141), f([7, 1], 142)], [1, 2]),
  gemm('Gemm without C, K 1', {}, [f([31, 1], 150), f([1, 45], 151)], [1]),
  ...ACTIVATIONS.filter((a) => a !== 'None').map((act, i) => {
    const attrs: Record<string, Attr> = { transB: int(1), vkrt_activation: str(act) };
    if (act === 'Clip') Object.assign(attrs, { vkrt_alpha: float(-0.5), vkrt_beta: float(0.75) });
    if (act === 'LeakyRelu' || act === 'Elu') attrs.vkrt_alpha = float(0.2);
    return gemm(`Gemm + ${act} epilogue`, attrs, [f([9, 37], 200 + 3 * i), f([21, 37], 201 + 3 * i), f([21], 202 + 3 * i)], [1, 2]);
  }),
];

export function coopMatCaseName(c: CoopMatCase): string {
  return c.what;
}
