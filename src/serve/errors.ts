/**
 * The serving layer's error: an HTTP status with a message the client reads as KServe's
 * `{"error": "..."}`. Everything the server answers with 4xx/5xx goes through one of these, so a
 * bad request is refused with a status that says whose fault it was and never reaches an engine.
 */
import { VkrtError } from '../errors';

/** Why a request failed, as the `reason` label of the failure counter in /metrics. */
export type FailureReason = 'bad_request' | 'not_found' | 'queue_full' | 'timeout' | 'unavailable' | 'too_large' | 'engine' | 'cancelled';

export class ServeError extends VkrtError {
  constructor(readonly status: number, message: string, readonly reason: FailureReason = statusReason(status)) {
    super('SERVE', message);
  }
}

function statusReason(status: number): FailureReason {
  if (status === 404) return 'not_found';
  if (status === 413) return 'too_large';
  if (status === 499) return 'cancelled';
  if (status === 429) return 'queue_full';
  if (status === 504) return 'timeout';
  if (status === 503) return 'unavailable';
  if (status >= 500) return 'engine';
  return 'bad_request';
}

/** 400: the request is wrong (JSON, names, shapes, datatypes, sizes). */
export function badRequest(message: string): ServeError {
  return new ServeError(400, message);
}
