// --rounds: several timed rounds of one runner become one reported row.

/**
 * One row for a runner's rounds: a failed round if any failed (an rnnkit failure must not
 * hide behind good rounds), else the round with the median rate (the lower middle of an
 * even count), carrying every round's rate.
 */
export function medianRound(rows) {
  if (rows.length === 1) return rows[0];
  const failed = rows.find((r) => r.error);
  if (failed) return failed;
  const rate = (r) => r.tokens_per_s ?? r.steps_per_s;
  const good = rows.filter((r) => rate(r) !== undefined && !r.skipped).sort((a, b) => rate(a) - rate(b));
  if (!good.length) return rows[0];
  return { ...good[Math.floor((good.length - 1) / 2)], round_rates: rows.map((r) => rate(r) ?? null) };
}
