/**
 * The protocol's tensor codecs (no server): JSON data flat and nested, every datatype both ways,
 * the binary layout (little-endian, BYTES length-prefixed, BOOL one byte), body splitting, and
 * the errors for wrong counts, kinds and ranges.
 */
import { strict as assert } from 'assert';
import { float16Bits, Tensor } from '../../src/ir/tensor';
import { ServeError } from '../../src/serve/errors';
import { binaryData, joinBody, jsonData, splitBody, tensorFromBinary, tensorFromJson } from '../../src/serve/protocol';

const bad = (re: RegExp) => (e: ServeError) => e instanceof ServeError && e.status === 400 && re.test(e.message);

describe('serve: protocol tensors', () => {
  it('JSON data, flat or nested row-major, for every datatype', () => {
    const f = tensorFromJson('x', 'FP32', [2, 2], [[1, 2], [3.5, -4]]);
    assert.equal(f.dtype, 'float32');
    assert.deepEqual(Array.from(f.data as Float32Array), [1, 2, 3.5, -4]);
    assert.deepEqual(jsonData(f), [1, 2, 3.5, -4]);
    const h = tensorFromJson('x', 'FP16', [3], [1, 0.5, 65504]);
    assert.deepEqual(Array.from(h.data as Uint16Array), Array.from(float16Bits([1, 0.5, 65504])));
    assert.deepEqual(jsonData(h), [1, 0.5, 65504]);
    const i64 = tensorFromJson('x', 'INT64', [3], [-5, 2 ** 53 - 1, '9007199254740993']);
    assert.deepEqual(Array.from(i64.data as BigInt64Array), [-5n, 2n ** 53n - 1n, 9007199254740993n]);
    assert.deepEqual(jsonData(i64), [-5, 2 ** 53 - 1, '9007199254740993']);
    assert.deepEqual(jsonData(tensorFromJson('x', 'BOOL', [2], [true, false])), [true, false]);
    assert.deepEqual(jsonData(tensorFromJson('x', 'BYTES', [2], ['héllo', ''])), ['héllo', '']);
    for (const [dt, v] of [['INT8', -128], ['UINT8', 255], ['INT16', -32768], ['UINT16', 65535], ['INT32', -2147483648], ['UINT32', 4294967295]] as const) {
      assert.deepEqual(jsonData(tensorFromJson('x', dt, [1], [v])), [v], dt);
    }
    const nan = tensorFromJson('x', 'FP32', [3], ['NaN', 'Inf', '-Inf']);
    assert.deepEqual(jsonData(nan), ['NaN', 'Inf', '-Inf']);
  });

  it('JSON data errors name the tensor and the element', () => {
    assert.throws(() => tensorFromJson('x', 'FP32', [2, 2], [1, 2, 3]), bad(/input 'x' has shape \[2,2\] \(4 elements\) but 'data' holds 3/));
    assert.throws(() => tensorFromJson('x', 'FP32', [1], ['a']), bad(/element 0 is "a"; floating-point data must be numbers/));
    assert.throws(() => tensorFromJson('x', 'INT8', [1], [128]), bad(/out of the INT8 range/));
    assert.throws(() => tensorFromJson('x', 'INT32', [1], [1.5]), bad(/INT32 data must be integers/));
    assert.throws(() => tensorFromJson('x', 'BOOL', [1], [1]), bad(/BOOL data must be true or false/));
    assert.throws(() => tensorFromJson('x', 'INT64', [1], [2 ** 60]), bad(/larger values as strings of digits/));
    assert.throws(() => tensorFromJson('x', 'FP8', [1], [1]), bad(/unknown datatype 'FP8'/));
    assert.throws(() => tensorFromJson('x', 'FP32', [1], 5), bad(/'data' must be an array/));
  });

  it('binary data: little-endian elements, BOOL one byte, BYTES length-prefixed; both ways', () => {
    const f = new Tensor('float32', new Float32Array([1.5, -2]), [2]);
    const fb = binaryData(f);
    assert.deepEqual(Array.from(fb), [0, 0, 0xc0, 0x3f, 0, 0, 0, 0xc0]);
    assert.deepEqual(Array.from(tensorFromBinary('x', 'FP32', [2], fb).data as Float32Array), [1.5, -2]);
    const s = new Tensor('string', ['ab', 'é'], [2]);
    const sb = binaryData(s);
    assert.deepEqual(Array.from(sb), [2, 0, 0, 0, 0x61, 0x62, 2, 0, 0, 0, 0xc3, 0xa9]);
    assert.deepEqual(tensorFromBinary('x', 'BYTES', [2], sb).data, ['ab', 'é']);
    assert.deepEqual(Array.from(binaryData(new Tensor('bool', [true, false, true]))), [1, 0, 1]);
    const i64 = new Tensor('int64', new BigInt64Array([-1n, 258n]), [2]);
    assert.deepEqual(Array.from(tensorFromBinary('x', 'INT64', [2], binaryData(i64).slice(0)).data as BigInt64Array), [-1n, 258n]);
    // an unaligned slice of a body decodes the same
    const body = new Uint8Array(1 + fb.length);
    body.set(fb, 1);
    assert.deepEqual(Array.from(tensorFromBinary('x', 'FP32', [2], body.subarray(1)).data as Float32Array), [1.5, -2]);
  });

  it('binary data errors: a byte count that does not fit the shape, BYTES that overrun', () => {
    assert.throws(() => tensorFromBinary('x', 'FP32', [3], new Uint8Array(8)), bad(/needs 12 bytes of binary data; binary_data_size is 8/));
    assert.throws(() => tensorFromBinary('x', 'BYTES', [1], new Uint8Array([9, 0, 0, 0, 1])), bad(/element 0 claims 9 bytes; only 1 are left/));
    assert.throws(() => tensorFromBinary('x', 'BYTES', [1], new Uint8Array([1, 0, 0, 0, 1, 7])), bad(/binary_data_size is 6 bytes but the 1 elements take 5/));
  });

  it('bodies: JSON then binary per Inference-Header-Content-Length', () => {
    const { body, headerLength } = joinBody({ a: 1 }, [new Uint8Array([1, 2]), new Uint8Array([3])]);
    assert.equal(headerLength, 7);
    const { json, binary } = splitBody(body, String(headerLength));
    assert.deepEqual(json, { a: 1 });
    assert.deepEqual(Array.from(binary), [1, 2, 3]);
    assert.equal(joinBody({ a: 1 }, []).headerLength, undefined);
    assert.throws(() => splitBody(body, '99'), bad(/Inference-Header-Content-Length header \(99\)/));
    assert.throws(() => splitBody(body, 'x'), bad(/Inference-Header-Content-Length/));
    assert.throws(() => splitBody(Buffer.from('{"a":'), undefined), bad(/not valid JSON/));
    assert.throws(() => splitBody(Buffer.from('[1]'), undefined), bad(/must be a JSON object/));
  });
});
