import { strict as assert } from 'assert';
import { EngineFileError, UnsupportedError } from '../../src/errors';
import { Tensor } from '../../src/ir/tensor';
import { crc32, crc32Bytewise, crc32Js } from '../../src/runtime/crc32';
import { decodePlainData, encodePlainData } from '../../src/runtime/plan-codec';

/** Encode, push through JSON text (as the file does), decode. */
function roundTrip(v: unknown): unknown {
  const { json, sections } = encodePlainData(v);
  const text = JSON.stringify(json);
  // sections are copied the way a file would hold them (not the original arrays)
  return decodePlainData(JSON.parse(text), sections.map((s) => new Uint8Array(s)));
}

describe('engine file: plan codec', () => {
  it('round-trips every kind of value the plan holds, including ones JSON cannot', () => {
    const v = {
      n: 1.5, neg0: -0, nan: NaN, inf: Infinity, ninf: -Infinity, big: -12345678901234567890n, s: 'x', b: false, nul: null, u: undefined,
      arr: [1, undefined, 'a', [2, 3]],
      map: new Map<unknown, unknown>([['a', { x: 1 }], [3, new Set([1, 'two'])]]),
      f32: new Float32Array([1.25, -0, NaN]), i32: new Int32Array([-7, 2147483647]), u16: new Uint16Array([0x3c00, 0xffff]),
      u8: new Uint8Array([0, 255]), f64: new Float64Array([Math.PI]), b64: new BigInt64Array([-(2n ** 63n)]),
      tensor: new Tensor('int64', [2], new BigInt64Array([1n, -2n])), strings: new Tensor('string', [2], ['a', 'b']),
      escaped: { $t: 'not a tag', other: 1 },
      newField: { futureFusionView: { base: 'x', byteOffset: 256 } },
    };
    const r = roundTrip(v) as typeof v;
    assert.ok(Object.is(r.neg0, -0) && Number.isNaN(r.nan) && r.inf === Infinity && r.ninf === -Infinity);
    assert.equal(r.big, -12345678901234567890n);
    assert.ok('u' in r && r.u === undefined);
    assert.deepEqual(r.arr, [1, undefined, 'a', [2, 3]]);
    assert.ok(r.map instanceof Map && r.map.get(3) instanceof Set);
    assert.deepEqual(r.map.get('a'), { x: 1 });
    assert.ok(r.f32 instanceof Float32Array && r.u16 instanceof Uint16Array && r.b64 instanceof BigInt64Array);
    assert.deepEqual(new Uint8Array(r.f32.buffer), new Uint8Array(v.f32.buffer)); // bit-identical, NaN and -0 included
    assert.deepEqual([...r.i32], [...v.i32]);
    assert.deepEqual([...r.u16], [...v.u16]);
    assert.deepEqual([...r.b64], [...v.b64]);
    assert.ok(r.tensor instanceof Tensor && r.tensor.dtype === 'int64');
    assert.deepEqual([...(r.tensor.data as BigInt64Array)], [1n, -2n]);
    assert.deepEqual(r.strings.data, ['a', 'b']);
    assert.deepEqual(r.escaped, { $t: 'not a tag', other: 1 });
    assert.deepEqual(r.newField, v.newField);
  });

  it('stores a typed array referenced twice once, and decodes both references to one array', () => {
    const w = new Float32Array([1, 2, 3]);
    const { sections } = encodePlainData({ a: w, b: [w] });
    assert.equal(sections.length, 1);
    const r = roundTrip({ a: w, b: [w] }) as { a: Float32Array; b: Float32Array[] };
    assert.equal(r.a, r.b[0]);
  });

  it('stores the bytes of a typed array that is a view into a larger buffer, not the whole buffer', () => {
    const big = new Float32Array([9, 1, 2, 9]);
    const view = big.subarray(1, 3);
    const { sections } = encodePlainData(view);
    assert.equal(sections[0].byteLength, 8);
    assert.deepEqual([...(roundTrip(view) as Float32Array)], [1, 2]);
  });

  it('refuses values it cannot hold, naming the path', () => {
    class Foo {}
    assert.throws(() => encodePlainData({ layers: [{ f: () => 1 }] }), (e: unknown) => e instanceof UnsupportedError && /plan\.layers\[0\]\.f/.test(e.message));
    assert.throws(() => encodePlainData({ x: new Foo() }), (e: unknown) => e instanceof UnsupportedError && /Foo/.test(e.message));
    assert.throws(() => encodePlainData({ d: new DataView(new ArrayBuffer(4)) }), UnsupportedError);
  });

  it('decoding malformed trees is an EngineFileError(corrupt) naming the path', () => {
    const cases: [unknown, Uint8Array[], RegExp][] = [
      [{ $t: 'typed', type: 'Float32Array', section: 3 }, [], /section 3 does not exist/],
      [{ $t: 'typed', type: 'Float32Array', section: 0 }, [new Uint8Array(3)], /not a whole number/],
      [{ $t: 'typed', type: 'Function', section: 0 }, [new Uint8Array(4)], /unknown typed array/],
      [{ a: { $t: 'bogus' } }, [], /plan\.a: unknown tag/],
      [{ $t: 'bigint', v: '12x' }, [], /bad bigint/],
      [{ $t: 'map', entries: [[1]] }, [], /not a \[key, value\] pair/],
      [{ $t: 'tensor', dtype: 'float32', dims: [3], data: { $t: 'typed', type: 'Float32Array', section: 0 } }, [new Uint8Array(8)], /needs 3 elements/],
      [{ $t: 'tensor', dtype: 'int64', dims: [1], data: { $t: 'typed', type: 'Float32Array', section: 0 } }, [new Uint8Array(4)], /does not hold int64/],
      [{ $t: 'tensor', dtype: 'nope', dims: [1], data: [] }, [], /tensor data does not hold nope|unknown dtype/],
      [JSON.parse('{"__proto__": {"polluted": 1}}'), [], /__proto__/],
    ];
    for (const [json, sections, re] of cases) {
      assert.throws(() => decodePlainData(json, sections), (e: unknown) => e instanceof EngineFileError && e.reason === 'corrupt' && re.test(e.message), JSON.stringify(json));
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('CRC-32 has the standard check value and chains over chunks', () => {
    const b = new TextEncoder().encode('123456789');
    assert.equal(crc32(b), 0xcbf43926);
    assert.equal(crc32(b.subarray(4), crc32(b.subarray(0, 4))), 0xcbf43926);
    assert.equal(crc32(new Uint8Array(0)), 0);
    // the 8-bytes-per-step path agrees with the byte-at-a-time definition, at every length mod 8
    let h = 99;
    const data = Uint8Array.from({ length: 1000 }, () => ((h = (Math.imul(h, 1103515245) + 12345) >>> 0) >>> 24));
    // and Node's zlib.crc32 (what crc32 uses where Node has it) agrees with both
    for (const n of [1, 7, 8, 9, 15, 16, 17, 63, 64, 999, 1000]) {
      assert.equal(crc32Js(data.subarray(0, n)), crc32Bytewise(data.subarray(0, n)), `length ${n}`);
      assert.equal(crc32(data.subarray(0, n)), crc32Bytewise(data.subarray(0, n)), `length ${n}`);
    }
    assert.equal(crc32(data.subarray(3, 500), 0x12345678), crc32Bytewise(data.subarray(3, 500), 0x12345678));
    assert.equal(crc32Js(data.subarray(3, 500), 0x12345678), crc32Bytewise(data.subarray(3, 500), 0x12345678));
  });
});
