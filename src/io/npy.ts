/**
 * numpy .npy and .npz files (the format trtexec-style `--loadInputs` / `--exportOutput` use).
 * .npy: magic, version, a Python-dict header (descr, fortran_order, shape), raw little-endian data.
 * .npz: a zip archive of .npy files (stored or deflated), named by array.
 */
import * as zlib from 'zlib';
import { ParseError } from '../errors';
import { DType } from '../ir/dtype';
import { allocData, sizeOf, Tensor, TensorData } from '../ir/tensor';
import { float16BitsToNumber, numberToFloat16Bits } from '../ir/float';

const DESCR: Record<string, DType> = {
  f4: 'float32', f8: 'float64', f2: 'float16', i1: 'int8', u1: 'uint8', i2: 'int16', u2: 'uint16',
  i4: 'int32', u4: 'uint32', i8: 'int64', u8: 'uint64', b1: 'bool',
};
const DESCR_OF: Partial<Record<DType, string>> = Object.fromEntries(Object.entries(DESCR).map(([k, v]) => [v, k]));

/** Parse one .npy file. */
export function parseNpy(bytes: Uint8Array, file = 'array.npy'): Tensor {
  const fail = (m: string): never => { throw new ParseError(`not a readable .npy file: ${m}`, file); };
  if (bytes.length < 10 || bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') fail('bad magic');
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = major >= 2 ? dv.getUint32(8, true) : dv.getUint16(8, true);
  const hstart = major >= 2 ? 12 : 10;
  if (hstart + hlen > bytes.length) fail('header runs past the end');
  const header = new TextDecoder().decode(bytes.subarray(hstart, hstart + hlen));
  const descr = /'descr'\s*:\s*'([<>|=]?)([a-zA-Z]\d+)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeM = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeM) return fail(`unrecognized header ${header.trim()}`);
  if (descr[1] === '>') fail('big-endian arrays are not supported; save with a little-endian dtype');
  if (fortran[1] === 'True') fail('Fortran-order arrays are not supported; save with np.ascontiguousarray');
  const dtype = DESCR[descr[2]] ?? fail(`dtype '${descr[2]}' is not supported`);
  const dims = shapeM[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) fail(`bad shape (${shapeM[1]})`);
  const n = sizeOf(dims);
  const body = bytes.subarray(hstart + hlen);
  const esize = Number(descr[2].slice(1));
  if (body.length < n * esize) fail(`data has ${body.length} bytes, shape needs ${n * esize}`);
  const raw = new Uint8Array(body.subarray(0, n * esize)); // aligned copy
  let data: TensorData;
  switch (dtype) {
    case 'float16': data = Float32Array.from(new Uint16Array(raw.buffer, 0, n), float16BitsToNumber); break;
    case 'bool': data = Uint8Array.from(raw, (b) => (b ? 1 : 0)); break;
    default: {
      const d = allocData(dtype, 0) as unknown as { constructor: new (b: ArrayBuffer, o: number, l: number) => TensorData };
      data = new d.constructor(raw.buffer, 0, n);
    }
  }
  return new Tensor(dtype, dims, data);
}

/** Serialize a tensor as .npy (version 1.0). */
export function writeNpy(t: Tensor): Uint8Array {
  const d = DESCR_OF[t.dtype];
  if (!d) throw new ParseError(`cannot write dtype ${t.dtype} to .npy`);
  const shape = t.dims.length === 1 ? `(${t.dims[0]},)` : `(${t.dims.join(', ')})`;
  let header = `{'descr': '${d === 'b1' || d === 'i1' || d === 'u1' ? '|' : '<'}${d}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  let body: Uint8Array;
  if (t.dtype === 'float16') {
    const h = Uint16Array.from(t.data as Float32Array, numberToFloat16Bits);
    body = new Uint8Array(h.buffer);
  } else {
    const a = t.data as Exclude<TensorData, string[]>;
    body = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  }
  const out = new Uint8Array(10 + header.length + body.length);
  out.set([0x93, ...Buffer.from('NUMPY'), 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(body, 10 + header.length);
  return out;
}

/** Read every array of an .npz archive, keyed by name (without '.npy'). */
export function parseNpz(bytes: Uint8Array, file = 'arrays.npz'): Map<string, Tensor> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (m: string): never => { throw new ParseError(`not a readable .npz file: ${m}`, file); };
  // End of central directory: scan back for its signature.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) fail('no zip directory (is it an .npz?)');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = new Map<string, Tensor>();
  for (let k = 0; k < count; k++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50) fail('corrupt central directory');
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const nlen = buf.readUInt16LE(p + 28), xlen = buf.readUInt16LE(p + 30), clen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nlen);
    p += 46 + nlen + xlen + clen;
    if (local + 30 > buf.length || buf.readUInt32LE(local) !== 0x04034b50) fail(`corrupt entry ${name}`);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    if (start + csize > buf.length) fail(`entry ${name} runs past the end`);
    const comp = buf.subarray(start, start + csize);
    let data: Uint8Array;
    if (method === 0) data = comp;
    else if (method === 8) data = zlib.inflateRawSync(comp);
    else data = fail(`entry ${name} uses unsupported compression ${method}`);
    out.set(name.replace(/\.npy$/, ''), parseNpy(data, `${file}:${name}`));
  }
  return out;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Write arrays as an uncompressed .npz archive. */
export function writeNpz(arrays: Map<string, Tensor> | Record<string, Tensor>): Uint8Array {
  const entries = arrays instanceof Map ? [...arrays.entries()] : Object.entries(arrays);
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    const data = Buffer.from(writeNpy(t));
    const fname = Buffer.from(`${name}.npy`, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18); local.writeUInt32LE(data.length, 22); local.writeUInt16LE(fname.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0); cd.writeUInt16LE(20, 4); cd.writeUInt16LE(20, 6); cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(data.length, 20); cd.writeUInt32LE(data.length, 24); cd.writeUInt16LE(fname.length, 28);
    cd.writeUInt32LE(offset, 42);
    parts.push(local, fname, data);
    central.push(cd, fname);
    offset += 30 + fname.length + data.length;
  }
  const cdBuf = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(entries.length, 8); end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cdBuf.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, cdBuf, end]);
}
