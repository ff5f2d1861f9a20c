import { createHmac, randomBytes } from 'node:crypto';

/** A fresh selection key; stored with the run so the draw can be repeated and checked. */
export const newSeed = (): string => randomBytes(16).toString('hex');

const rank = (seed: string, key: string): string => createHmac('sha256', seed).update(key).digest('hex');

/**
 * A uniform random subset of `count` items: every item is ranked by HMAC-SHA-256(seed, key) and the
 * lowest ranks win. The same seed and population always give the same subset, whatever order the
 * database returned the rows in, and without the seed nobody can predict which items are drawn.
 */
export function drawSample<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  count: number,
  seed: string,
): T[] {
  return items
    .map((item) => ({ item, rank: rank(seed, keyOf(item)) }))
    .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0))
    .slice(0, Math.max(0, count))
    .map((r) => r.item);
}

/** `round(population × rate)`: the size of a monthly sample. */
export const roundedSize = (population: number, rate: number): number => Math.round(population * rate);

/**
 * `population × rate` rounded up or down at random (up with probability of the fraction), drawn
 * from the seed: small daily populations then still get their share on average, where plain
 * rounding would never recheck anything out of, say, three alerts a day at 10%.
 */
export function stochasticSize(population: number, rate: number, seed: string): number {
  const exact = population * rate;
  // Products like 30 × 0.1 carry binary noise; a fraction this small is an integer.
  const whole = Math.floor(exact + 1e-9);
  const fraction = exact - whole;
  if (fraction <= 1e-9) return whole;
  const u = parseInt(rank(seed, 'size').slice(0, 12), 16) / 2 ** 48;
  return whole + (u < fraction ? 1 : 0);
}
