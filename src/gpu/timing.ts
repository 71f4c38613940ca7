/**
 * GPU timestamp arithmetic. Pure functions: no native code, unit-tested in test/native/timing.test.ts.
 *
 * A Vulkan timestamp is a tick count; `timestampPeriod` (ns per tick) converts it to time and only
 * the low `timestampValidBits` bits are meaningful (Vulkan spec, "Timestamp Queries"), so a counter
 * may wrap between two fenceposts. Differences are therefore taken modulo 2^validBits, which is
 * right as long as less than one full wrap passes between two timestamps.
 */
import { InputError } from '../errors';

function mask(validBits: number): bigint {
  if (!Number.isInteger(validBits) || validBits < 0 || validBits > 64)
    throw new InputError(`timestampValidBits must be an integer in 0..64, got ${validBits}`);
  if (validBits === 0) throw new InputError('this queue family cannot write timestamps (timestampValidBits is 0)');
  return (1n << BigInt(validBits)) - 1n;
}

function checkPeriod(periodNs: number): void {
  if (!(periodNs > 0) || !Number.isFinite(periodNs))
    throw new InputError(`timestampPeriodNs must be a positive number, got ${periodNs}`);
}

/** Ticks elapsed from `start` to `end`, modulo 2^validBits (handles one wrap-around). */
export function tickDelta(start: bigint, end: bigint, validBits: number): bigint {
  const m = mask(validBits);
  return ((end & m) - (start & m)) & m;
}

/** Milliseconds from `start` to `end` ticks. */
export function ticksToMs(start: bigint, end: bigint, periodNs: number, validBits: number): number {
  checkPeriod(periodNs);
  return (Number(tickDelta(start, end, validBits)) * periodNs) / 1e6;
}

/**
 * Durations between consecutive fenceposts: N+1 timestamps give N intervals in milliseconds
 * (the profiler's per-layer times).
 */
export function timestampDeltasMs(ticks: ArrayLike<bigint>, periodNs: number, validBits: number): number[] {
  checkPeriod(periodNs);
  const out: number[] = [];
  for (let i = 1; i < ticks.length; i++) out.push(ticksToMs(ticks[i - 1], ticks[i], periodNs, validBits));
  return out;
}
