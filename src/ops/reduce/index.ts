/** The reduce operator family: reductions, arg-reductions, softmax, TopK, scans, losses, attention. */
import { OpDef } from '../types';
import { REDUCE_DEFS } from './reduce';

export const REDUCE_OPS: OpDef[] = [...REDUCE_DEFS];
