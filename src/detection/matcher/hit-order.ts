/** Ordering of term hits: by start, then end, then term index; stable. */
interface Span {
  start: number;
  end: number;
  termIndex: number;
}

function after(a: Span, b: Span): boolean {
  return a.start !== b.start
    ? a.start > b.start
    : a.end !== b.end
      ? a.end > b.end
      : a.termIndex > b.termIndex;
}

function compare(a: Span, b: Span): number {
  return a.start - b.start || a.end - b.end || a.termIndex - b.termIndex;
}

/**
 * Sorts hits in place. An automaton reports hits by where they end, so the order by start is only
 * disturbed locally (a hit moves back past the shorter hits nested inside it): insertion sort does
 * that in near-linear time, far cheaper than a comparator sort on tens of thousands of hits. If the
 * input is far from sorted (adversarial nesting), it falls back to Array.prototype.sort; both are
 * stable, so the result is the same either way.
 */
export function sortHits<T extends Span>(hits: T[]): T[] {
  let budget = 8 * hits.length + 64;
  for (let i = 1; i < hits.length; i++) {
    const h = hits[i]!;
    let j = i - 1;
    if (!after(hits[j]!, h)) continue;
    do {
      hits[j + 1] = hits[j]!;
      j--;
    } while (j >= 0 && after(hits[j]!, h));
    hits[j + 1] = h;
    budget -= i - j;
    // The prefix is sorted stably and the rest is untouched, so a stable sort from here yields the
    // same order as from the start.
    if (budget < 0) return hits.sort(compare);
  }
  return hits;
}

/**
 * Merges sorted `b` into sorted `a` in place (from the back, so nothing is allocated but a's
 * growth) and returns `a`; on ties a's element comes first, as in a stable sort of a then b.
 */
export function mergeSorted<T extends Span>(a: T[], b: readonly T[]): T[] {
  if (b.length === 0) return a;
  let i = a.length - 1;
  let j = b.length - 1;
  for (let n = 0; n < b.length; n++) a.push(b[0]!); // grow with push: the array stays packed
  for (let k = a.length - 1; j >= 0; k--) a[k] = i >= 0 && after(a[i]!, b[j]!) ? a[i--]! : b[j--]!;
  return a;
}
