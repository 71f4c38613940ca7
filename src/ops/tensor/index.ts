/** The tensor operator family. */
import { OpDef } from '../types';

export const TENSOR_OPS: OpDef[] = [];
