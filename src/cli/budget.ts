/**
 * How far a `rnnkit train` run is, and the learning rate that follows from it.
 *
 * A run ends at its time budget (`--minutes`, the wall-clock of the whole run up to the
 * saved model: held-out evaluations, checkpoints and the final evaluation included) or at
 * its last epoch (`--epochs`), whichever comes first. The learning rate warms up over the
 * first steps, then follows a cosine from `lr` down to 5% of it at the end of the run: in a
 * fixed budget, annealing is what turns the last minutes into a lower held-out loss.
 * Time spent before a `--resume` counts (it is kept in the checkpoint).
 */
const WARMUP_STEPS = 50;
const FINAL_LR_FRACTION = 0.05;

export interface RunBudget {
  /** Milliseconds for the whole run, or undefined (epochs only). */
  totalMs: number | undefined;
  /** Optimizer steps of all epochs, or undefined (time only). */
  totalSteps: number | undefined;
}

export class RunClock {
  private readonly started = Date.now();
  /** Time of the run before this process (a resumed run). */
  priorMs = 0;
  /** How long the end of the run (final evaluation and save) is expected to take. */
  reserveMs = 0;

  constructor(readonly budget: RunBudget) {}

  elapsedMs(): number {
    return this.priorMs + Date.now() - this.started;
  }

  /** Fraction of the run done (0..1), by time or by steps, whichever is further. */
  fraction(step: number): number {
    const { totalMs, totalSteps } = this.budget;
    const byTime = totalMs === undefined ? 0 : this.elapsedMs() / Math.max(1, totalMs - this.reserveMs);
    const bySteps = totalSteps === undefined ? 0 : step / totalSteps;
    return Math.min(1, Math.max(byTime, bySteps));
  }

  /** Whether training must stop now to leave time for the end of the run. */
  outOfTime(): boolean {
    return this.budget.totalMs !== undefined && this.elapsedMs() + this.reserveMs >= this.budget.totalMs;
  }

  remainingMs(step: number): number {
    const { totalMs, totalSteps } = this.budget;
    const elapsed = this.elapsedMs();
    const byTime = totalMs === undefined ? Infinity : totalMs - elapsed;
    const f = totalSteps === undefined ? 0 : step / totalSteps;
    const bySteps = f > 0 ? (elapsed * (1 - f)) / f : Infinity;
    return Math.max(0, Math.min(byTime, bySteps));
  }

  learningRate(lr: number, step: number): number {
    const warm = Math.min(1, step / WARMUP_STEPS);
    const cosine = 0.5 * (1 + Math.cos(Math.PI * this.fraction(step)));
    return lr * warm * (FINAL_LR_FRACTION + (1 - FINAL_LR_FRACTION) * cosine);
  }
}
