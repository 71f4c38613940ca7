/**
 * The elementwise operator family. Regular ops are rows of ELEMENTWISE_SCALAR (scalar-table.ts)
 * turned into OpDefs by the unary/binary drivers (driver.ts); the variadic ops, Pow/Clip/Where and
 * the casts have their own files.
 */
import { OpDef } from '../types';
import { CAST_OPS } from './cast';
import { elementwiseOp } from './driver';
import { withKernels } from './kernel';
import { ELEMENTWISE_SCALAR } from './scalar-table';
import { SPECIAL_OPS } from './special';
import { SwiGLU } from './swiglu';
import { VARIADIC_OPS } from './variadic';

/** Rows of the table that are binary scalars of variadic ops, not ops of their own. */
const VARIADIC_SCALARS = new Set(['Max', 'Min']);

export const ELEMENTWISE_OPS: OpDef[] = withKernels([
  ...Object.keys(ELEMENTWISE_SCALAR).filter((k) => !VARIADIC_SCALARS.has(k)).map((k) => elementwiseOp(k)),
  ...VARIADIC_OPS,
  ...SPECIAL_OPS,
  ...CAST_OPS,
  SwiGLU,
]);

export { ELEMENTWISE_SCALAR, ELEMENTWISE_GLSL_HELPERS, ELEMENTWISE_GLSL_EXTRA } from './scalar-table';
export type { ElementwiseScalar, Params } from './scalar-table';
