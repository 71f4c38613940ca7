/** Shared pieces of the INT8 tests. */
import { Model } from '../../src/ir/graph';
import { calibrationTensors, insertQdq } from '../../src/builder/quant/qdq';

export { createCalibrator } from '../../src/api/calibrate';

/** The Q/DQ model of `model` with the given activation scales (the other calibrated tensors 0.05). */
export function insertQdqFor(model: Model, scales: Map<string, number>): Model {
  const all = new Map(calibrationTensors(model).map((t) => [t, scales.get(t) ?? 0.05]));
  return insertQdq(model, all);
}
