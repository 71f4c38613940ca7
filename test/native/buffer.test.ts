import { strict as assert } from 'assert';
import type { BufferKind } from '../../src/gpu';
import { pattern, useGpu } from '../helpers/gpu';

const SIZES = [1, 3, 13, 127, 1000003];
const KINDS: BufferKind[] = ['device', 'upload', 'readback'];

function roundTrips(suite: string, forceStaging: boolean): void {
  describe(suite, () => {
    const gpu = useGpu({ forceStaging });

    for (const kind of KINDS)
      for (const size of SIZES)
        it(`${kind} buffer of ${size} bytes`, () => {
          const buf = gpu.device.createBuffer(size, kind);
          assert.equal(buf.size, size);
          assert.equal(buf.kind, kind);
          const data = pattern(size, size + kind.length);
          buf.write(data);
          assert.deepEqual(buf.read(), data);
          buf.dispose();
        });

    it('writes and reads at odd offsets', () => {
      const buf = gpu.device.createBuffer(1000, 'device');
      const base = pattern(1000, 7);
      buf.write(base);
      const patch = pattern(13, 99);
      buf.write(patch, 501);
      const want = base.slice();
      want.set(patch, 501);
      assert.deepEqual(buf.read(), want);
      assert.deepEqual(buf.read(501, 13), patch);
      assert.deepEqual(buf.read(999, 1), want.subarray(999));
      const into = new Uint8Array(7);
      buf.readInto(into, 3);
      assert.deepEqual(into, want.subarray(3, 10));
      buf.dispose();
    });

    it('accepts any ArrayBufferView (typed arrays, DataView, subarrays)', () => {
      const buf = gpu.device.createBuffer(16, 'device');
      const f = new Float32Array([1.5, -2, 3.25, 1e-3]);
      buf.write(f);
      assert.deepEqual(buf.readFloat32(), f);
      const big = new Uint8Array(32).fill(9);
      buf.write(big.subarray(4, 8), 4);
      buf.write(new DataView(new Uint8Array([1, 2]).buffer), 14);
      const back = buf.read();
      assert.deepEqual(Array.from(back.subarray(4, 8)), [9, 9, 9, 9]);
      assert.deepEqual(Array.from(back.subarray(14)), [1, 2]);
      buf.dispose();
    });

    it('zero-length writes and reads are no-ops inside the buffer', () => {
      const buf = gpu.device.createBuffer(4, 'device');
      buf.write(new Uint8Array(0), 4);
      assert.equal(buf.read(4, 0).length, 0);
      buf.dispose();
    });
  });
}

describe('native buffers', () => {
  roundTrips('mapped where the device allows it', false);
  roundTrips('device buffers through staging copies (as on a discrete GPU)', true);

  describe('placement', () => {
    const gpu = useGpu({ forceStaging: true });
    it('forceStaging leaves device buffers unmapped and host buffers mapped', () => {
      const d = gpu.device.createBuffer(16, 'device');
      const u = gpu.device.createBuffer(16, 'upload');
      const r = gpu.device.createBuffer(16, 'readback');
      assert.equal(d.mapped, false);
      assert.equal(u.mapped, true);
      assert.equal(r.mapped, true);
      for (const b of [d, u, r]) b.dispose();
    });
  });
});
