/** Output comparison with ONNX's backend-test tolerance (rtol 1e-3, atol 1e-7, NaN equals NaN). */
import { Tensor } from '../ir/tensor';
import type { RuntimeValue } from '../ops/types';

export interface Tolerance {
  rtol: number;
  atol: number;
}

export const ONNX_TOLERANCE: Tolerance = { rtol: 1e-3, atol: 1e-7 };

/** Returns undefined when equal within tolerance, else a one-line description of the first mismatch. */
export function compareValues(expected: RuntimeValue, actual: RuntimeValue | undefined, tol: Tolerance = ONNX_TOLERANCE): string | undefined {
  if (actual === undefined) return 'no value produced';
  if (expected === null || actual === null) return expected === actual ? undefined : `expected ${expected === null ? 'an empty optional' : 'a value'}, got ${actual === null ? 'an empty optional' : 'a value'}`;
  if (Array.isArray(expected) || Array.isArray(actual)) {
    if (!Array.isArray(expected) || !Array.isArray(actual)) return 'expected a sequence and a tensor to match';
    if (expected.length !== actual.length) return `sequence length ${actual.length}, expected ${expected.length}`;
    for (let i = 0; i < expected.length; i++) {
      const m = compareTensors(expected[i], actual[i], tol);
      if (m) return `sequence element ${i}: ${m}`;
    }
    return undefined;
  }
  return compareTensors(expected, actual, tol);
}

export function compareTensors(e: Tensor, a: Tensor, tol: Tolerance = ONNX_TOLERANCE): string | undefined {
  if (e.dtype !== a.dtype) return `dtype ${a.dtype}, expected ${e.dtype}`;
  if (e.dims.length !== a.dims.length || e.dims.some((d, i) => d !== a.dims[i])) return `dims [${a.dims.join(',')}], expected [${e.dims.join(',')}]`;
  const ed = e.normalized().data, ad = a.normalized().data; // float16 engine outputs hold half bits
  if (e.dtype === 'string') {
    for (let i = 0; i < ed.length; i++) if (ed[i] !== ad[i]) return `element ${i}: ${JSON.stringify(ad[i])}, expected ${JSON.stringify(ed[i])}`;
    return undefined;
  }
  if (ed instanceof BigInt64Array || ed instanceof BigUint64Array) {
    for (let i = 0; i < ed.length; i++) if (ed[i] !== ad[i]) return `element ${i}: ${ad[i]}, expected ${ed[i]}`;
    return undefined;
  }
  let worst = -1, worstExcess = 0;
  for (let i = 0; i < ed.length; i++) {
    const x = Number(ed[i]), y = Number(ad[i]);
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) && Number.isNaN(y)) continue;
      return `element ${i}: ${y}, expected ${x}`;
    }
    if (x === y) continue;
    const excess = Math.abs(x - y) - (tol.atol + tol.rtol * Math.abs(x));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess)) { worst = i; worstExcess = excess; }
  }
  if (worst >= 0) return `element ${worst}: ${Number(ad[worst])}, expected ${Number(ed[worst])} (rtol ${tol.rtol}, atol ${tol.atol})`;
  return undefined;
}
