/**
 * The engine file container (docs/engine-file.md): a fixed 32-byte header, a section table, and
 * 64-byte-aligned sections (a JSON header with the vkrt version and device fingerprint, the JSON
 * manifest, binary data sections, SPIR-V modules, the driver's pipeline cache), all covered by a
 * CRC-32. This file knows bytes and checks; what the manifest means is src/runtime/engine.ts's.
 *
 * Reading checks, in order, and each failure is an EngineFileError with its own `reason`:
 * magic (`foreign`), format version (`version`), length (`truncated`), checksum (`corrupt`),
 * section table and header JSON (`corrupt`), vkrt version (`version`); the device fingerprint is
 * checked separately against the device the engine is loaded on (`device`, `driver`). With a key,
 * the HMAC-SHA256 signature section is checked right after the checksum (`signature`), before any
 * JSON is parsed.
 */
import * as crypto from 'crypto';
import { EngineFileError } from '../errors';
import type { DeviceInfo } from '../gpu/device';
import { packageVersion as vkrtVersion } from '../gpu/assets';
import { crc32 } from './crc32';
import type { Json } from './plan-codec';

/** First 8 bytes of every engine file. */
export const ENGINE_MAGIC = new Uint8Array([0x56, 0x4b, 0x52, 0x54, 0x45, 0x4e, 0x47, 0x00]); // "VKRTENG\0"
/** Bumped whenever the container or the manifest's meaning changes incompatibly. */
export const ENGINE_FORMAT_VERSION = 3;
/**
 * Versions this vkrt reads: 3 added optimization profiles (the plan's `profiles`, the manifest's
 * `profileShaders`); a version 2 file is the same without them and loads as an engine of fixed shapes.
 */
export const READABLE_FORMAT_VERSIONS: readonly number[] = [2, 3];
/** Sections start at multiples of this (a cache line; more than any element type needs). */
export const SECTION_ALIGNMENT = 64;
const HEADER_BYTES = 32;
const ENTRY_BYTES = 24;
/** Far more than any engine needs; bounds the section table a hostile file can make us read. */
const MAX_SECTIONS = 1 << 20;

/** Section kinds (the `kind` word of a section table entry). */
export enum SectionKind {
  /** UTF-8 JSON: format and vkrt versions, device fingerprint. Always section 0. */
  Header = 1,
  /** UTF-8 JSON: the encoded plan and the shader table. Always section 1. */
  Manifest = 2,
  /** Bytes of one typed array of the plan (weights, kernel weights, constants). */
  Data = 3,
  /** One SPIR-V module (little-endian 32-bit words). */
  Spirv = 4,
  /** The driver's VkPipelineCache blob (at most one). */
  PipelineCache = 5,
  /** HMAC-SHA256 of the file under a user's key (optional; always the last section, 32 bytes). */
  Signature = 6,
}

/** A key for signing engine files (HMAC-SHA256): a secret string, bytes, or a node:crypto KeyObject. */
export type EngineKey = string | Uint8Array | crypto.KeyObject;

const SIGNATURE_BYTES = 32;

/**
 * The signature of a file whose signature section starts at `sigOffset`: HMAC-SHA256 over the
 * magic, version, section count and length (bytes 0..24) and everything from the section table to
 * the signature section (the checksum and the reserved word are left out: the checksum covers the
 * signature).
 */
function signatureOf(bytes: Uint8Array, sigOffset: number, key: EngineKey): Buffer {
  const h = crypto.createHmac('sha256', key);
  h.update(bytes.subarray(0, 24));
  h.update(bytes.subarray(HEADER_BYTES, sigOffset));
  return h.digest();
}

/** What identifies the device and driver an engine was built for. */
export interface DeviceFingerprint {
  name: string;
  vendorId: number;
  deviceId: number;
  driverName: string;
  driverVersion: string;
  driverVersionRaw: number;
  /** Hex; changes whenever the driver's compiled-pipeline format may have changed. */
  pipelineCacheUUID: string;
}

export function fingerprintOf(info: DeviceInfo): DeviceFingerprint {
  return {
    name: info.name, vendorId: info.vendorId, deviceId: info.deviceId, driverName: info.driverName,
    driverVersion: info.driverVersion, driverVersionRaw: info.driverVersionRaw, pipelineCacheUUID: info.pipelineCacheUUID,
  };
}

/** vkrt's version (package.json), recorded in every engine file. */
export { vkrtVersion };

/** The parts of an engine file. */
export interface EngineFileParts {
  fingerprint: DeviceFingerprint;
  /** vkrt version that wrote it (filled in when writing). */
  vkrtVersion?: string;
  manifest: Json;
  data: Uint8Array[];
  spirv: Uint32Array[];
  pipelineCache: Uint8Array;
}

function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

/** Options of {@link writeEngineFile}. */
export interface WriteOptions {
  /** Sign the file with this key (HMAC-SHA256 section); loaders given the key refuse anything else. */
  signingKey?: EngineKey;
}

/**
 * Serializes the parts into one engine file. Deterministic: the same parts (and key) give the same
 * bytes.
 */
export function writeEngineFile(parts: EngineFileParts, options: WriteOptions = {}): Uint8Array {
  const utf8 = new TextEncoder();
  const header: Json = { formatVersion: ENGINE_FORMAT_VERSION, vkrtVersion: parts.vkrtVersion ?? vkrtVersion(), device: parts.fingerprint as unknown as Json };
  const sections: { kind: SectionKind; bytes: Uint8Array }[] = [
    { kind: SectionKind.Header, bytes: utf8.encode(JSON.stringify(header)) },
    { kind: SectionKind.Manifest, bytes: utf8.encode(JSON.stringify(parts.manifest)) },
    ...parts.data.map((bytes) => ({ kind: SectionKind.Data, bytes })),
    ...parts.spirv.map((w) => ({ kind: SectionKind.Spirv, bytes: new Uint8Array(w.buffer, w.byteOffset, w.byteLength) })),
    { kind: SectionKind.PipelineCache, bytes: parts.pipelineCache },
  ];
  if (options.signingKey !== undefined) sections.push({ kind: SectionKind.Signature, bytes: new Uint8Array(SIGNATURE_BYTES) });
  let off = alignUp(HEADER_BYTES + ENTRY_BYTES * sections.length, SECTION_ALIGNMENT);
  const offsets = sections.map((s) => {
    const o = off;
    off = alignUp(off + s.bytes.byteLength, SECTION_ALIGNMENT);
    return o;
  });
  const total = sections.length ? offsets[offsets.length - 1] + sections[sections.length - 1].bytes.byteLength : off;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set(ENGINE_MAGIC, 0);
  dv.setUint32(8, ENGINE_FORMAT_VERSION, true);
  dv.setUint32(12, sections.length, true);
  dv.setBigUint64(16, BigInt(total), true);
  // 24: checksum (below); 28: reserved, zero
  sections.forEach((s, i) => {
    const e = HEADER_BYTES + i * ENTRY_BYTES;
    dv.setUint32(e, s.kind, true);
    dv.setBigUint64(e + 8, BigInt(offsets[i]), true);
    dv.setBigUint64(e + 16, BigInt(s.bytes.byteLength), true);
    out.set(s.bytes, offsets[i]);
  });
  if (options.signingKey !== undefined) {
    const at = offsets[offsets.length - 1];
    out.set(signatureOf(out, at, options.signingKey), at);
  }
  dv.setUint32(24, crc32(out.subarray(HEADER_BYTES)), true);
  return out;
}

/** Recomputes and stores the checksum (tests use it to make deliberate, well-sealed edits). */
export function resealEngineFile(bytes: Uint8Array): void {
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(24, crc32(bytes.subarray(HEADER_BYTES)), true);
}

/** True when `bytes` starts with the engine file magic. */
export function isEngineFile(bytes: Uint8Array): boolean {
  return bytes.length >= ENGINE_MAGIC.length && ENGINE_MAGIC.every((b, i) => bytes[i] === b);
}

/** A parsed engine file (data and pipeline-cache sections are views into the given bytes). */
export interface EngineFileContents extends EngineFileParts {
  formatVersion: number;
  vkrtVersion: string;
  /** Total file size in bytes. */
  bytes: number;
  /** The file has a signature section (checked only when a key was given). */
  signed: boolean;
}

/** Options of {@link readEngineFile}. */
export interface ReadOptions {
  /** Refuse the file (EngineFileError 'signature') unless it is signed with this key. */
  key?: EngineKey;
}

/**
 * Parses and checks an engine file's container: everything but the device fingerprint.
 * @param file names the file in error messages.
 * @throws EngineFileError with reason foreign, version, truncated, corrupt or (with a key) signature.
 */
export function readEngineFile(bytes: Uint8Array, file?: string, options: ReadOptions = {}): EngineFileContents {
  const fail = (reason: 'foreign' | 'version' | 'truncated' | 'corrupt' | 'signature', msg: string): never => { throw new EngineFileError(reason, msg, file); };
  if (!(bytes instanceof Uint8Array)) fail('foreign', 'expected the bytes of an engine file (a Uint8Array)');
  const n = Math.min(bytes.length, ENGINE_MAGIC.length);
  for (let i = 0; i < n; i++) {
    if (bytes[i] !== ENGINE_MAGIC[i]) fail('foreign', `not a vkrt engine file (it does not start with "VKRTENG"); build one with \`vkrt exec --onnx=MODEL --saveEngine=FILE\``);
  }
  if (bytes.length < HEADER_BYTES) fail('truncated', `${bytes.length} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const formatVersion = dv.getUint32(8, true);
  if (!READABLE_FORMAT_VERSIONS.includes(formatVersion)) fail('version', `format version ${formatVersion}; this vkrt (${vkrtVersion()}) reads versions ${READABLE_FORMAT_VERSIONS.join(' and ')}; rebuild the engine from its model`);
  const count = dv.getUint32(12, true);
  const total = dv.getBigUint64(16, true);
  if (total > BigInt(bytes.length)) fail('truncated', `${bytes.length} bytes, but its header says ${total}`);
  if (total < BigInt(bytes.length)) fail('corrupt', `${bytes.length} bytes, but its header says ${total} (bytes appended, or a damaged header)`);
  const stored = dv.getUint32(24, true);
  const actual = crc32(bytes.subarray(HEADER_BYTES));
  if (stored !== actual) fail('corrupt', `checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)}): the file was damaged after it was written`);
  // Past the checksum, damage is deliberate or a writer bug; still check everything.
  if (count < 3 || count > MAX_SECTIONS || HEADER_BYTES + count * ENTRY_BYTES > bytes.length) fail('corrupt', `bad section count ${count}`);
  const sections: { kind: number; bytes: Uint8Array }[] = [];
  for (let i = 0; i < count; i++) {
    const e = HEADER_BYTES + i * ENTRY_BYTES;
    const kind = dv.getUint32(e, true);
    const off = dv.getBigUint64(e + 8, true), len = dv.getBigUint64(e + 16, true);
    if (off + len > BigInt(bytes.length) || Number(off) % SECTION_ALIGNMENT) fail('corrupt', `section ${i} (kind ${kind}) lies outside the file or is misaligned`);
    sections.push({ kind, bytes: bytes.subarray(Number(off), Number(off + len)) });
  }
  const sigIndex = sections.findIndex((s) => s.kind === SectionKind.Signature);
  if (sigIndex >= 0 && (sigIndex !== count - 1 || sections[sigIndex].bytes.byteLength !== SIGNATURE_BYTES)) fail('corrupt', 'the signature is not the last section or not 32 bytes');
  if (options.key !== undefined) {
    if (sigIndex < 0) fail('signature', 'the file is not signed; sign engines with `engine.serialize({ signingKey })` or `vkrt exec --saveEngine=F --engineKey=KEYFILE`');
    const sig = sections[sigIndex].bytes;
    const at = sig.byteOffset - bytes.byteOffset;
    const want = signatureOf(bytes, at, options.key);
    if (!crypto.timingSafeEqual(want, sig)) fail('signature', 'its signature does not match this key (signed with another key, or changed after it was signed)');
  }
  if (sections[0].kind !== SectionKind.Header || sections[1].kind !== SectionKind.Manifest) fail('corrupt', 'the first sections are not the header and the manifest');
  const header = parseJson(sections[0].bytes, 'header', fail) as Record<string, unknown>;
  const manifest = parseJson(sections[1].bytes, 'manifest', fail) as Json;
  const fp = header?.device as Record<string, unknown> | undefined;
  const fpOk = !!fp && typeof fp === 'object' && typeof fp.name === 'string' && typeof fp.vendorId === 'number' && typeof fp.deviceId === 'number'
    && typeof fp.driverVersionRaw === 'number' && typeof fp.pipelineCacheUUID === 'string' && typeof fp.driverName === 'string' && typeof fp.driverVersion === 'string';
  if (!header || typeof header !== 'object' || typeof header.vkrtVersion !== 'string' || !fpOk) fail('corrupt', 'the header lacks the vkrt version or the device fingerprint');
  if (header.vkrtVersion !== vkrtVersion()) fail('version', `written by vkrt ${header.vkrtVersion}; this is vkrt ${vkrtVersion()}; rebuild the engine from its model`);
  const data: Uint8Array[] = [], spirv: Uint32Array[] = [];
  let pipelineCache: Uint8Array | undefined;
  for (const [i, s] of sections.entries()) {
    if (i < 2) continue;
    switch (s.kind) {
      case SectionKind.Data: data.push(s.bytes); break;
      case SectionKind.Spirv: {
        if (s.bytes.byteLength % 4 || s.bytes.byteLength < 20) fail('corrupt', `SPIR-V section ${i} has ${s.bytes.byteLength} bytes`);
        // a copy: the engine keeps its modules (to serialize again) and must not alias the caller's bytes
        // (not bytes.slice(): on a Node Buffer that is a view, not a copy)
        const copy = new Uint8Array(s.bytes.byteLength);
        copy.set(s.bytes);
        const words = new Uint32Array(copy.buffer);
        if (words[0] !== 0x07230203) fail('corrupt', `SPIR-V section ${i} lacks the SPIR-V magic number`);
        spirv.push(words);
        break;
      }
      case SectionKind.PipelineCache:
        if (pipelineCache) fail('corrupt', 'two pipeline-cache sections');
        pipelineCache = s.bytes;
        break;
      case SectionKind.Signature: break;
      default: fail('corrupt', `section ${i} has unknown kind ${s.kind}`);
    }
  }
  return {
    formatVersion, vkrtVersion: header.vkrtVersion as string, fingerprint: fp as unknown as DeviceFingerprint,
    manifest, data, spirv, pipelineCache: pipelineCache ?? new Uint8Array(0), bytes: bytes.length, signed: sigIndex >= 0,
  };
}

function hex(v: number): string {
  return `0x${v.toString(16).padStart(8, '0')}`;
}

function parseJson(bytes: Uint8Array, what: string, fail: (r: 'corrupt', m: string) => never): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    return fail('corrupt', `the ${what} is not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Checks that an engine built for `fp` may run on the device described by `info`.
 * @throws EngineFileError('device') for another GPU, EngineFileError('driver') for another driver.
 */
export function checkFingerprint(fp: DeviceFingerprint, info: DeviceInfo, file?: string): void {
  const built = `${fp.name} (vendor ${hex(fp.vendorId)}, device ${hex(fp.deviceId)})`;
  if (fp.vendorId !== info.vendorId || fp.deviceId !== info.deviceId) {
    throw new EngineFileError('device', `it was built for ${built}; this device is ${info.name} (vendor ${hex(info.vendorId)}, device ${hex(info.deviceId)}); rebuild the engine on this device`, file);
  }
  if (fp.driverVersionRaw !== info.driverVersionRaw || fp.pipelineCacheUUID !== info.pipelineCacheUUID) {
    throw new EngineFileError('driver', `it was built for ${built} with driver ${fp.driverName} ${fp.driverVersion} (pipeline cache ${fp.pipelineCacheUUID}); this device runs ${info.driverName} ${info.driverVersion} (pipeline cache ${info.pipelineCacheUUID}); rebuild the engine for this driver`, file);
  }
}
