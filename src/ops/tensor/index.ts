/** The tensor operator family: shape and data movement. */
import { OpDef } from '../types';
import { Concat, Split } from './concat-split';
import { Constant, ConstantOfShape, EyeLike, Range, Shape, Size } from './constant';
import { Expand, Tile } from './expand-tile';
import { Gather, GatherElements, GatherND } from './gather';
import { Dropout, Identity } from './identity';
import { Det, OneHot, ReverseSequence, Trilu } from './misc';
import { CenterCropPad, Pad } from './pad';
import { Reshape, Flatten, Squeeze, Unsqueeze } from './reshape';
import { Resize, Upsample } from './resize';
import { Scatter, ScatterElements, ScatterND, TensorScatter } from './scatter';
import { CompressBounded, NonMaxSuppressionBounded, NonZeroBounded, UniqueBounded } from './bounded';
import { Compress, NonZero, Unique } from './select';
import { Slice } from './slice';
import { DepthToSpace, SpaceToDepth, Transpose } from './transpose';
import { withTensorKernels } from './kernels';

/** The family's OpDefs, with GPU kernels and view flags attached (kernels.ts). */
export const TENSOR_OPS: OpDef[] = withTensorKernels([
  Constant, Identity, Dropout,
  Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat, Split, Slice,
  Gather, GatherElements, GatherND, ScatterElements, ScatterND, Scatter, TensorScatter,
  Expand, Tile, Pad, CenterCropPad, Resize, Upsample, DepthToSpace, SpaceToDepth,
  Shape, Size, ConstantOfShape, Range, EyeLike, OneHot, NonZero, Compress, Trilu,
  ReverseSequence, Unique, Det,
]).concat([NonZeroBounded, CompressBounded, NonMaxSuppressionBounded, UniqueBounded]);
