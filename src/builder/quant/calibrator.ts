/**
 * The INT8 calibrator a build is given (TensorRT's IInt8Calibrator, in TypeScript): it supplies
 * representative input batches and keeps the calibration cache. vkrt runs the FP32 network on the
 * batches (src/api/calibrate.ts) unless readCalibrationCache() returns a cache for this model.
 */
import type { Tensor } from '../../ir/tensor';
import type { CalibrationAlgorithm } from './calibrators';

export type CalibrationFeeds = Record<string, Tensor> | Map<string, Tensor>;

export interface Int8Calibrator {
  /** Samples per batch (the first dimension of each batch's tensors). */
  getBatchSize(): number;
  /** The next batch, every input of the network by name; null when there are no more. */
  getBatch(names: readonly string[]): Promise<CalibrationFeeds | null>;
  /** A cache written earlier (its text or bytes), or null/undefined to calibrate. */
  readCalibrationCache(): string | Uint8Array | null | undefined;
  /** Keeps the cache vkrt wrote after calibrating (a file, as the stock calibrator does). */
  writeCalibrationCache(cache: string): void;
  /** 'entropy' (the default, for CNNs), 'percentile' or 'minmax' (recommended for transformers). */
  readonly algorithm?: CalibrationAlgorithm;
  /** For 'percentile': the percentile of |x| kept (default 99.99). */
  readonly percentile?: number;
}
