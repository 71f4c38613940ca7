/**
 * The INT8 calibration cache: a readable text file a later build reads instead of calibrating again
 * (TensorRT's calibration cache). A header names the format, the vkrt version, the algorithm and the
 * model (its graph name and a fingerprint of the calibrated tensors); then one `tensor: scale` line
 * per tensor (the symmetric int8 scale, threshold / 127), e.g.
 *
 *   # vkrt INT8 calibration cache
 *   format: 1
 *   vkrt: 0.1.0
 *   algorithm: entropy
 *   model: mnist-8 3f2a...e1
 *   Input3: 0.00787401574
 *   Convolution28_Output_0: 0.0361
 *
 * Tensor names may contain ': ', so a line splits at its last ': '. A cache made for another model
 * (another fingerprint, or tensors this model does not have) is refused with the names that differ.
 */
import { createHash } from 'crypto';
import { InputError } from '../../errors';
import { CALIBRATION_ALGORITHMS, type CalibrationAlgorithm } from './calibrators';

export const CACHE_HEADER = '# vkrt INT8 calibration cache';
export const CACHE_FORMAT = 1;

export interface CalibrationTable {
  algorithm: CalibrationAlgorithm;
  /** The model: its graph name and the fingerprint of its calibrated tensors (modelFingerprint). */
  model: { name: string; fingerprint: string };
  /** vkrt version that wrote it. */
  vkrt: string;
  /** Percentile used ('percentile' only). */
  percentile?: number;
  /** Tensor name -> int8 scale. */
  scales: Map<string, number>;
}

/** A fingerprint of the tensors a model calibrates: their names in order, hashed (16 hex digits). */
export function modelFingerprint(tensors: readonly string[]): string {
  const h = createHash('sha256');
  for (const t of tensors) h.update(t).update('\0');
  return h.digest('hex').slice(0, 16);
}

/** The cache's text. */
export function writeCalibrationTable(t: CalibrationTable): string {
  const lines = [CACHE_HEADER, `format: ${CACHE_FORMAT}`, `vkrt: ${t.vkrt}`, `algorithm: ${t.algorithm}`];
  if (t.algorithm === 'percentile' && t.percentile !== undefined) lines.push(`percentile: ${t.percentile}`);
  lines.push(`model: ${t.model.name.replace(/\s+/g, '_') || '-'} ${t.model.fingerprint}`);
  for (const [name, scale] of t.scales) lines.push(`${name}: ${scale}`);
  return lines.join('\n') + '\n';
}

/**
 * Parses a cache's text (`file` names it in errors). Throws InputError on a damaged file; does not
 * check that it fits a model (see checkCalibrationTable).
 */
export function readCalibrationTable(text: string, file = 'the calibration cache'): CalibrationTable {
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== CACHE_HEADER) throw new InputError(`${file} is not a vkrt calibration cache (its first line is not '${CACHE_HEADER}'); delete it or pass a cache written by vkrt`);
  const header = new Map<string, string>();
  const scales = new Map<string, number>();
  let body = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (!line.trim() || line.startsWith('#')) continue;
    const at = line.lastIndexOf(': ');
    if (at <= 0) throw new InputError(`${file}, line ${i + 1}: expected 'name: value', got '${line.slice(0, 80)}'`);
    const key = line.slice(0, at), value = line.slice(at + 2).trim();
    if (!body && ['format', 'vkrt', 'algorithm', 'percentile', 'model'].includes(key)) {
      header.set(key, value);
      if (key === 'model') body = true;
      continue;
    }
    body = true;
    const scale = Number(value);
    if (!(scale > 0) || !Number.isFinite(scale)) throw new InputError(`${file}, line ${i + 1}: the scale of '${key}' is '${value}', not a positive number`);
    if (scales.has(key)) throw new InputError(`${file}, line ${i + 1}: '${key}' appears twice`);
    scales.set(key, scale);
  }
  const format = Number(header.get('format'));
  if (format !== CACHE_FORMAT) throw new InputError(`${file} has format ${header.get('format') ?? '(none)'}; this vkrt reads format ${CACHE_FORMAT}: calibrate again`);
  const algorithm = header.get('algorithm') as CalibrationAlgorithm;
  if (!CALIBRATION_ALGORITHMS.includes(algorithm)) throw new InputError(`${file}: unknown algorithm '${header.get('algorithm') ?? ''}'`);
  const model = header.get('model')?.split(' ');
  if (!model || model.length !== 2) throw new InputError(`${file}: the 'model:' line (name and fingerprint) is missing`);
  const pct = header.get('percentile');
  return { algorithm, vkrt: header.get('vkrt') ?? '?', percentile: pct === undefined ? undefined : Number(pct), model: { name: model[0], fingerprint: model[1] }, scales };
}

/**
 * Refuses a cache that was not made for this model: another fingerprint of the calibrated tensors,
 * names the model lacks, or tensors it needs that the cache lacks. The error names them.
 */
export function checkCalibrationTable(t: CalibrationTable, tensors: readonly string[], file = 'the calibration cache'): void {
  const fp = modelFingerprint(tensors);
  if (t.model.fingerprint === fp) {
    const missing = tensors.filter((n) => !t.scales.has(n));
    if (!missing.length) return;
    throw new InputError(`${file} lacks the scales of ${missing.length} tensor(s) (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}): calibrate again`);
  }
  const want = new Set(tensors);
  const foreign = [...t.scales.keys()].filter((n) => !want.has(n));
  const missing = tensors.filter((n) => !t.scales.has(n));
  const detail = [
    foreign.length ? `${foreign.length} tensor(s) this model does not have (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''})` : '',
    missing.length ? `no scale for ${missing.length} of its tensor(s) (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''})` : '',
  ].filter(Boolean).join('; ');
  throw new InputError(`${file} was written for another model ('${t.model.name}', fingerprint ${t.model.fingerprint}; this model's is ${fp})${detail ? `: ${detail}` : ''}; calibrate this model again or pass its own cache`);
}
