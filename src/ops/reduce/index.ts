/** The reduce operator family: reductions, arg-reductions, softmax, TopK, scans, losses, attention. */
import { OpDef } from '../types';
import { ARG_DEFS } from './arg';
import { ATTENTION_DEF } from './attention';
import { CUMULATIVE_DEFS } from './cumulative';
import { FLEX_ATTENTION_DEF } from './flex-attention';
import { HISTOGRAM_DEF } from './histogram';
import { LINEAR_ATTENTION_DEF } from './linear-attention';
import { NLL_DEF, SCE_DEF } from './loss';
import { REDUCE_DEFS } from './reduce';
import { ROTARY_DEF } from './rotary';
import { TFIDF_DEF } from './tfidf';
import { SOFTMAX_DEFS } from './softmax';
import { TOPK_DEF } from './topk';

export const REDUCE_OPS: OpDef[] = [...REDUCE_DEFS, ...ARG_DEFS, ...SOFTMAX_DEFS, TOPK_DEF, ...CUMULATIVE_DEFS, NLL_DEF, SCE_DEF, ATTENTION_DEF, ROTARY_DEF, TFIDF_DEF, LINEAR_ATTENTION_DEF, FLEX_ATTENTION_DEF, HISTOGRAM_DEF];
