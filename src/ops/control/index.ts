/** The control operator family: control flow, sequences, recurrent, signal, strings, ml and the rest. */
import { OpDef } from '../types';
import { CONTROL_FLOW_OPS } from './if-loop-scan';
import { IMAGE_OPS } from './image-decoder';
import { ML_OPS } from './ml';
import { NMS_OPS } from './nms';
import { RANDOM_OPS } from './random';
import { RECURRENT_OPS } from './rnn';
import { SEQUENCE_OPS } from './sequence';
import { SIGNAL_OPS } from './signal';
import { STRING_OPS } from './strings';
import { TRAINING_OPS } from './training';

export const CONTROL_OPS: OpDef[] = [
  ...CONTROL_FLOW_OPS, ...SEQUENCE_OPS, ...RECURRENT_OPS, ...SIGNAL_OPS, ...NMS_OPS,
  ...STRING_OPS, ...ML_OPS, ...TRAINING_OPS, ...RANDOM_OPS, ...IMAGE_OPS,
];
