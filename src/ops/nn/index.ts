/** The nn operator family. */
import { OpDef } from '../types';
import { Conv, ConvInteger, ConvTranspose, QLinearConv } from './conv';

export const NN_OPS: OpDef[] = [Conv, ConvInteger, ConvTranspose, QLinearConv];
