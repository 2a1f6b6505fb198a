/**
 * What `rnnkit train` shows while it runs, drawn by cli-progress: a bar redrawn in place on
 * a terminal, with the lines of epochs and samples printed above it; plain status lines
 * every few seconds when stderr is not a terminal (CI logs, pipes), so that long runs
 * always show they are alive.
 */
import { MultiBar, Presets } from 'cli-progress';

export interface ProgressDisplay {
  /** Redraw the bar at `fraction` (0..1) of the run with a status text. */
  update(fraction: number, status: string): void;
  /** Print a line above the bar. */
  log(line: string): void;
  stop(): void;
}

export function progressDisplay(stream: NodeJS.WriteStream = process.stderr): ProgressDisplay {
  const tty = Boolean(stream.isTTY);
  const bars = new MultiBar(
    { stream, format: '{bar} {percentage}% | {status}', barsize: 24, hideCursor: true, noTTYOutput: true, notTTYSchedule: 10_000, autopadding: true },
    Presets.shades_classic,
  );
  const bar = bars.create(1000, 0, { status: 'starting' });
  let stopped = false;
  return {
    update(fraction, status) {
      bar.update(Math.round(Math.min(1, Math.max(0, fraction)) * 1000), { status });
    },
    log(line) {
      // On a terminal the bar owns the cursor: lines go through it. Elsewhere at once.
      if (tty && !stopped) bars.log(`${line}\n`);
      else stream.write(`${line}\n`);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bars.stop();
    },
  };
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
