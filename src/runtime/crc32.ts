/**
 * CRC-32 (the IEEE 802.3 / zlib polynomial, reflected 0xEDB88320), the engine file's checksum.
 * Node's zlib.crc32 computes it where present; the tables below serve older Node.
 * Check value: crc32("123456789") = 0xCBF43926.
 *
 * Slicing-by-8: eight 256-entry tables let one step consume 8 bytes (table k holds the CRC of a
 * byte followed by k zero bytes), several times faster than the byte-at-a-time loop, which it
 * still uses for the tail. Loading an engine checks every byte, so this is on the start-up path.
 */
import * as zlib from 'zlib';

const TABLES = (() => {
  const t = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[0][n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) t[k][n] = (t[k - 1][n] >>> 8) ^ t[0][t[k - 1][n] & 0xff];
  }
  return t;
})();

/** CRC-32 of `bytes`, one byte per step (the reference the fast path is tested against). */
export function crc32Bytewise(bytes: Uint8Array, crc = 0): number {
  const t0 = TABLES[0];
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = t0[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const nodeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/**
 * CRC-32 of `bytes`; pass the previous result as `crc` to continue over several chunks. Node's
 * zlib.crc32 where Node has it (20.15, 22.2 and later), else {@link crc32Js}.
 */
export function crc32(bytes: Uint8Array, crc = 0): number {
  return nodeCrc32 ? nodeCrc32(bytes, crc) >>> 0 : crc32Js(bytes, crc);
}

/** The same CRC in JavaScript, for older Node (18): slicing-by-8 over 8 tables. */
export function crc32Js(bytes: Uint8Array, crc = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES;
  let c = ~crc >>> 0;
  let i = 0;
  const end8 = bytes.length - (bytes.length % 8);
  for (; i < end8; i += 8) {
    const lo = (c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24))) >>> 0;
    c = t7[lo & 0xff] ^ t6[(lo >>> 8) & 0xff] ^ t5[(lo >>> 16) & 0xff] ^ t4[lo >>> 24]
      ^ t3[bytes[i + 4]] ^ t2[bytes[i + 5]] ^ t1[bytes[i + 6]] ^ t0[bytes[i + 7]];
  }
  for (; i < bytes.length; i++) c = t0[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
