/**
 * Build progress on stderr, for a terminal only: one line rewritten in place (phase, layer,
 * percentage), cleared when the build ends. Piped or redirected output gets nothing, so logs and
 * scripts see only the command's own lines.
 */
import type { BuildProgress } from '../builder/builder';

/** A BuilderConfig.progress that draws on stderr, or undefined when stderr is not a TTY. */
export function progressLine(label: string, stream: NodeJS.WriteStream = process.stderr): ((p: BuildProgress) => void) | undefined {
  if (!stream.isTTY) return undefined;
  let last = 0;
  return (p) => {
    const end = p.phase === 'done';
    const now = Date.now();
    if (!end && now - last < 80) return;
    last = now;
    if (end) {
      stream.write('\r\x1b[K');
      return;
    }
    const at = p.layer !== undefined && p.layers ? ` ${p.layer + 1}/${p.layers}` : '';
    stream.write(`\r\x1b[K[${label}] ${String(Math.floor(100 * p.fraction)).padStart(3)}% ${p.phase}${at}`);
  };
}
