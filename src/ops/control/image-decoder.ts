/**
 * ImageDecoder (opset 20) for the lossless formats that are small to decode exactly: BMP
 * (uncompressed 24/32-bit), PNM (P5/P6 binary, 8-bit), PNG (8-bit, non-interlaced, via node's
 * zlib) and baseline TIFF (uncompressed 8-bit chunky strips). JPEG, JPEG 2000 and WebP are refused
 * with an UnsupportedError: decode them outside the model. Sizes are checked before allocating.
 */
import { inflateSync } from 'zlib';
import { Tensor } from '../../ir/tensor';
import { OpContext, OpDef, ShapeContext } from '../types';
import { MAX_ELEMENTS } from '../util/control-tensor';

/** A decoded image: 8-bit RGB, row-major, height x width x 3. */
interface Rgb { w: number; h: number; px: Uint8Array }

type Fail = (m: string) => never;

function checkSize(w: number, h: number, fail: Fail): void {
  if (!(Number.isInteger(w) && Number.isInteger(h) && w > 0 && h > 0) || w * h * 3 > MAX_ELEMENTS) fail(`image size ${w}x${h} is invalid or too large`);
}

function decodeBmp(d: Uint8Array, fail: Fail): Rgb {
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  if (d.length < 54) fail('BMP header is truncated');
  const off = v.getUint32(10, true);
  const w = v.getInt32(18, true);
  const hRaw = v.getInt32(22, true);
  const bpp = v.getUint16(28, true);
  const comp = v.getUint32(30, true);
  if (comp !== 0 || (bpp !== 24 && bpp !== 32)) fail(`only uncompressed 24/32-bit BMP is supported (compression ${comp}, ${bpp} bits)`);
  const h = Math.abs(hRaw);
  checkSize(w, h, fail);
  const stride = Math.ceil((w * bpp) / 32) * 4;
  if (off + stride * h > d.length) fail('BMP pixel data is truncated');
  const px = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const row = hRaw > 0 ? h - 1 - y : y; // positive height: bottom-up rows
    for (let x = 0; x < w; x++) {
      const s = off + row * stride + (x * bpp) / 8, o = (y * w + x) * 3;
      px[o] = d[s + 2]; px[o + 1] = d[s + 1]; px[o + 2] = d[s];
    }
  }
  return { w, h, px };
}

function decodePnm(d: Uint8Array, fail: Fail): Rgb {
  let p = 2;
  const token = (): number => {
    for (;;) {
      while (p < d.length && /\s/.test(String.fromCharCode(d[p]))) p++;
      if (d[p] === 0x23) { while (p < d.length && d[p] !== 0x0a) p++; continue; }
      break;
    }
    const s = p;
    while (p < d.length && d[p] >= 0x30 && d[p] <= 0x39) p++;
    if (s === p) fail('PNM header is malformed');
    return Number(new TextDecoder().decode(d.subarray(s, p)));
  };
  const kind = d[1];
  const w = token(), h = token(), max = token();
  p++; // one whitespace byte before the raster
  if (max !== 255) fail(`only 8-bit PNM is supported (maxval ${max})`);
  checkSize(w, h, fail);
  const ch = kind === 0x36 ? 3 : 1;
  if (p + w * h * ch > d.length) fail('PNM raster is truncated');
  const px = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) px[i * 3 + c] = d[p + i * ch + (ch === 3 ? c : 0)];
  return { w, h, px };
}

function decodePng(d: Uint8Array, fail: Fail): Rgb {
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  let p = 8;
  let w = 0, h = 0, depth = 0, color = 0, interlace = 0;
  let palette: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  while (p + 8 <= d.length) {
    const len = v.getUint32(p);
    const type = String.fromCharCode(...d.subarray(p + 4, p + 8));
    const body = d.subarray(p + 8, p + 8 + len);
    if (body.length !== len) fail(`PNG chunk ${type} is truncated`);
    if (type === 'IHDR') {
      w = v.getUint32(p + 8); h = v.getUint32(p + 12); depth = d[p + 16]; color = d[p + 17]; interlace = d[p + 20];
    } else if (type === 'PLTE') palette = body;
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    p += 12 + len;
  }
  checkSize(w, h, fail);
  if (depth !== 8 || interlace) fail(`only 8-bit non-interlaced PNG is supported (depth ${depth}, interlace ${interlace})`);
  const chans: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
  const bpp = chans[color] ?? fail(`PNG color type ${color} is invalid`);
  if (color === 3 && !palette) fail('palette PNG without PLTE');
  const stride = w * bpp;
  const expect = h * (stride + 1);
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat), { maxOutputLength: expect });
  } catch (e) {
    fail(`PNG image data is corrupt: ${(e as Error).message}`);
  }
  if (raw.length < expect) fail('PNG image data is truncated');
  const img = new Uint8Array(h * stride);
  for (let y = 0; y < h; y++) {
    const f = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1, dst = y * stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? img[dst + i - bpp] : 0;
      const b = y > 0 ? img[dst - stride + i] : 0;
      const c = i >= bpp && y > 0 ? img[dst - stride + i - bpp] : 0;
      let pr: number;
      switch (f) {
        case 0: pr = 0; break;
        case 1: pr = a; break;
        case 2: pr = b; break;
        case 3: pr = (a + b) >> 1; break;
        case 4: {
          const pp = a + b - c, pa = Math.abs(pp - a), pb = Math.abs(pp - b), pc = Math.abs(pp - c);
          pr = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: fail(`PNG filter ${f} is invalid`);
      }
      img[dst + i] = (raw[src + i] + pr) & 255;
    }
  }
  const px = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    for (let c = 0; c < 3; c++) {
      let val: number;
      if (color === 3) {
        const k = img[i];
        if (k * 3 + 2 >= palette!.length) fail(`palette index ${k} is out of range`);
        val = palette![k * 3 + c];
      } else val = img[i * bpp + (bpp >= 3 ? c : 0)];
      px[i * 3 + c] = val;
    }
  }
  return { w, h, px };
}

function decodeTiff(d: Uint8Array, fail: Fail): Rgb {
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const le = d[0] === 0x49;
  const u16 = (o: number) => (o + 2 <= d.length ? v.getUint16(o, le) : fail('TIFF is truncated'));
  const u32 = (o: number) => (o + 4 <= d.length ? v.getUint32(o, le) : fail('TIFF is truncated'));
  const ifd = u32(4);
  const n = u16(ifd);
  const tags = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const e = ifd + 2 + i * 12;
    const tag = u16(e), type = u16(e + 2), count = u32(e + 4);
    const size = type === 3 ? 2 : 4;
    if (count > 1 << 20) fail('TIFF tag is too large');
    const at = count * size <= 4 ? e + 8 : u32(e + 8);
    const vals: number[] = [];
    for (let k = 0; k < count; k++) vals.push(size === 2 ? u16(at + 2 * k) : u32(at + 4 * k));
    tags.set(tag, vals);
  }
  const get = (t: number, dflt?: number) => tags.get(t)?.[0] ?? dflt ?? fail(`TIFF tag ${t} is missing`);
  const w = get(256), h = get(257);
  const comp = get(259, 1), photo = get(262), spp = get(277, 1), planar = get(284, 1);
  const bits = tags.get(258) ?? [1];
  checkSize(w, h, fail);
  if (comp !== 1 || planar !== 1 || bits.some((b) => b !== 8) || !((photo === 2 && spp >= 3) || (photo === 1 && spp >= 1))) {
    fail(`only uncompressed 8-bit chunky RGB/grayscale TIFF is supported (compression ${comp}, photometric ${photo})`);
  }
  const offs = tags.get(273) ?? fail('TIFF has no strips');
  const counts = tags.get(279) ?? fail('TIFF has no strip byte counts');
  const raster: number[] = [];
  offs.forEach((o, i) => {
    if (o + counts[i] > d.length) fail('TIFF strip is truncated');
    for (let k = 0; k < counts[i] && raster.length < w * h * spp; k++) raster.push(d[o + k]);
  });
  if (raster.length < w * h * spp) fail('TIFF raster is truncated');
  const px = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) px[i * 3 + c] = raster[i * spp + (photo === 2 ? c : 0)];
  return { w, h, px };
}

export const ImageDecoder: OpDef = {
  opType: 'ImageDecoder',
  sinceVersion: 20,
  inferShape(ctx: ShapeContext) {
    return [{ dtype: 'uint8', shape: ['height', 'width', ctx.attrs.string('pixel_format', 'RGB') === 'Grayscale' ? 1 : 3] }];
  },
  reference(ctx: OpContext, [data]) {
    if (!data || data.dtype !== 'uint8' || data.dims.length !== 1) ctx.fail('encoded_stream must be a 1-D uint8 tensor');
    const fmt = ctx.attrs.string('pixel_format', 'RGB');
    if (!['RGB', 'BGR', 'Grayscale'].includes(fmt)) ctx.fail(`pixel_format must be RGB, BGR or Grayscale, got '${fmt}'`);
    const d = data.data as Uint8Array;
    const sig = (s: number[]) => s.every((b, i) => d[i] === b);
    let img: Rgb;
    if (sig([0x42, 0x4d])) img = decodeBmp(d, ctx.fail);
    else if (sig([0x50]) && (d[1] === 0x35 || d[1] === 0x36)) img = decodePnm(d, ctx.fail);
    else if (sig([0x89, 0x50, 0x4e, 0x47])) img = decodePng(d, ctx.fail);
    else if (sig([0x49, 0x49, 42, 0]) || sig([0x4d, 0x4d, 0, 42])) img = decodeTiff(d, ctx.fail);
    else ctx.unsupported('the image format is not supported by the reference decoder (BMP, PNM, PNG, uncompressed TIFF are); decode JPEG/JPEG 2000/WebP before the model');
    const { w, h, px } = img;
    if (fmt === 'Grayscale') {
      // ITU-R 601-2 luma with PIL's fixed-point rounding (the ONNX reference decodes with PIL).
      const g = new Uint8Array(w * h);
      for (let i = 0; i < w * h; i++) g[i] = (px[i * 3] * 19595 + px[i * 3 + 1] * 38470 + px[i * 3 + 2] * 7471 + 0x8000) >> 16;
      return [new Tensor('uint8', [h, w, 1], g)];
    }
    if (fmt === 'BGR') for (let i = 0; i < w * h; i++) { const t = px[i * 3]; px[i * 3] = px[i * 3 + 2]; px[i * 3 + 2] = t; }
    return [new Tensor('uint8', [h, w, 3], px)];
  },
};

export const IMAGE_OPS: OpDef[] = [ImageDecoder];
