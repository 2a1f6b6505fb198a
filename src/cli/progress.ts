/**
 * One progress line on stderr: redrawn in place on a terminal, printed every few seconds
 * otherwise (CI logs, pipes), so long training runs always show they are alive.
 */
export interface ProgressLine {
  update(text: string, fraction: number): void;
  done(text: string): void;
}

export function progressLine(stream: NodeJS.WriteStream = process.stderr): ProgressLine {
  const tty = Boolean(stream.isTTY);
  let lastPrint = 0;
  return {
    update(text, fraction) {
      const now = Date.now();
      if (tty) {
        const width = 24;
        const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
        stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
      } else if (now - lastPrint > 2000) {
        stream.write(`${(fraction * 100).toFixed(0).padStart(3)}% ${text}\n`);
        lastPrint = now;
      }
    },
    done(text) {
      stream.write(tty ? `\r${text}\x1b[K\n` : `${text}\n`);
    },
  };
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
