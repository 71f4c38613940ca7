import { strict as assert } from 'assert';
import { InputError } from '../../src/errors';
import { tickDelta, ticksToMs, timestampDeltasMs } from '../../src/gpu/timing';

describe('gpu/timing (pure)', () => {
  it('converts ticks to milliseconds with the period', () => {
    assert.equal(ticksToMs(1000n, 3000n, 1, 64), 0.002);
    assert.equal(ticksToMs(0n, 1_000_000n, 1, 64), 1);
    assert.equal(ticksToMs(0n, 1_000_000n, 52.08, 64), 52.08);
  });

  it('handles wrap-around within the valid bits', () => {
    // 36 valid bits: the counter wraps at 2^36.
    const top = (1n << 36n) - 10n;
    assert.equal(tickDelta(top, 5n, 36), 15n);
    assert.equal(ticksToMs(top, 5n, 2, 36), 30 / 1e6);
    // 32 bits
    assert.equal(tickDelta(0xffff_ffffn, 0n, 32), 1n);
  });

  it('ignores bits above timestampValidBits', () => {
    const garbage = 0xabcdn << 48n;
    assert.equal(tickDelta(garbage | 100n, (garbage + (1n << 50n)) | 250n, 48), 150n);
  });

  it('works with all 64 bits valid, including wrap at 2^64', () => {
    const max = (1n << 64n) - 1n;
    assert.equal(tickDelta(max, 4n, 64), 5n);
    assert.equal(tickDelta(10n, 20n, 64), 10n);
  });

  it('gives N deltas for N+1 fenceposts', () => {
    assert.deepEqual(timestampDeltasMs([0n, 1_000_000n, 3_000_000n, 3_000_000n], 1, 64), [1, 2, 0]);
    assert.deepEqual(timestampDeltasMs(new BigUint64Array([5n]), 1, 64), []);
    assert.deepEqual(timestampDeltasMs([], 1, 64), []);
  });

  it('rejects devices without timestamps and bad periods', () => {
    assert.throws(() => ticksToMs(0n, 1n, 1, 0), InputError);
    assert.throws(() => ticksToMs(0n, 1n, 1, 65), InputError);
    assert.throws(() => ticksToMs(0n, 1n, 0, 64), InputError);
    assert.throws(() => ticksToMs(0n, 1n, NaN, 64), InputError);
  });
});
