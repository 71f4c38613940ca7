/** The elementwise operator family. */
import { OpDef } from '../types';

export const ELEMENTWISE_OPS: OpDef[] = [];
