/**
 * Aho–Corasick automaton stored as a double-array trie (base/check) with failure and output links,
 * all in Int32Arrays. A state is an index; the child of state s on class c is t = base[s] + c,
 * valid when check[t] === s. Root is state 0.
 */
export interface DoubleArrayAutomaton {
  /**
   * base, check and the emit flag interleaved: trans[2s] = base[s] << 1 | emits(s), trans[2s + 1]
   * = check[s]. A transition reads check[t], and the next one base[t] and the emit flag of t, all
   * from one cache line; with separate arrays that was three lines per character, and the fused
   * scan ran about 15 % slower on the bench (a 2.6 MB automaton with evasion forms on).
   */
  trans: Int32Array;
  fail: Int32Array;
  /** First pattern ending exactly at the state, or -1. */
  outFirst: Int32Array;
  /** Nearest state on the failure chain that has outFirst ≥ 0, or -1. */
  dictLink: Int32Array;
  /** Next pattern ending at the same state, or -1. */
  patternNext: Int32Array;
  stateCount: number;
}

class GrowableInt32 {
  data: Int32Array;
  constructor(size: number, fill: number) {
    this.data = new Int32Array(size).fill(fill);
    this.fillValue = fill;
  }
  private readonly fillValue: number;
  ensure(size: number): void {
    if (size <= this.data.length) return;
    let cap = this.data.length;
    while (cap < size) cap *= 2;
    const next = new Int32Array(cap).fill(this.fillValue);
    next.set(this.data);
    this.data = next;
  }
}

/**
 * Builds the automaton for patterns given as class sequences (every class ≥ 1, < classCount).
 * Placement uses a "next free slot" union-find so building stays near-linear for large lexicons.
 */
export function buildDoubleArray(
  patterns: readonly ArrayLike<number>[],
  classCount: number,
): DoubleArrayAutomaton {
  // 1. Plain trie with sibling lists.
  const childKey = new Map<number, number>();
  const firstChild: number[] = [-1];
  const nextSibling: number[] = [-1];
  const nodeClass: number[] = [0];
  const nodePattern: number[] = [-1];
  const patternNextInTrie: number[] = new Array<number>(patterns.length).fill(-1);
  patterns.forEach((classes, p) => {
    let node = 0;
    for (let i = 0; i < classes.length; i++) {
      const c = classes[i]!;
      const key = node * classCount + c;
      let child = childKey.get(key);
      if (child === undefined) {
        child = firstChild.length;
        childKey.set(key, child);
        firstChild.push(-1);
        nextSibling.push(firstChild[node]!);
        firstChild[node] = child;
        nodeClass.push(c);
        nodePattern.push(-1);
      }
      node = child;
    }
    patternNextInTrie[p] = nodePattern[node]!;
    nodePattern[node] = p;
  });

  // 2. Place nodes breadth-first. freeNext is a union-find: find(i) = smallest free slot ≥ i.
  const base = new GrowableInt32(Math.max(1024, classCount * 2), 0);
  const check = new GrowableInt32(Math.max(1024, classCount * 2), -1);
  const freeNext = new GrowableInt32(Math.max(1024, classCount * 2), -1);
  const find = (i: number): number => {
    let r = i;
    for (;;) {
      freeNext.ensure(r + 1);
      const n = freeNext.data[r]!;
      if (n === -1) break;
      r = n;
    }
    // path compression
    let x = i;
    while (x !== r) {
      const n = freeNext.data[x]!;
      freeNext.data[x] = r;
      x = n;
    }
    return r;
  };
  const occupy = (i: number): void => {
    freeNext.ensure(i + 2);
    freeNext.data[i] = i + 1;
  };
  occupy(0); // root
  check.ensure(1);
  check.data[0] = -2;
  const daIndex = new Int32Array(firstChild.length);
  daIndex[0] = 0;
  const queue: number[] = [0];
  const kids: number[] = [];
  for (let q = 0; q < queue.length; q++) {
    const node = queue[q]!;
    kids.length = 0;
    for (let c = firstChild[node]!; c !== -1; c = nextSibling[c]!) kids.push(c);
    if (kids.length === 0) continue;
    kids.sort((a, b) => nodeClass[a]! - nodeClass[b]!);
    const first = nodeClass[kids[0]!]!;
    let from = 1;
    let b: number;
    for (;;) {
      const p = find(Math.max(from, first + 1));
      b = p - first;
      let ok = true;
      for (let k = 1; k < kids.length; k++) {
        const t = b + nodeClass[kids[k]!]!;
        if (find(t) !== t) {
          ok = false;
          break;
        }
      }
      if (ok) break;
      from = p + 1;
    }
    const s = daIndex[node]!;
    base.ensure(s + 1);
    base.data[s] = b;
    for (const kid of kids) {
      const t = b + nodeClass[kid]!;
      occupy(t);
      check.ensure(t + 1);
      check.data[t] = s;
      daIndex[kid] = t;
      queue.push(kid);
    }
  }
  let size = 0;
  for (let node = 0; node < daIndex.length; node++) size = Math.max(size, daIndex[node]! + 1);
  // Pad so base[s] + c never reads past the end, for any state and class.
  let maxBase = 0;
  for (let node = 0; node < daIndex.length; node++)
    maxBase = Math.max(maxBase, base.data[daIndex[node]!] ?? 0);
  const total = Math.max(size, maxBase + classCount + 1);
  const baseArr = new Int32Array(total);
  baseArr.set(base.data.subarray(0, Math.min(total, base.data.length)));
  const checkArr = new Int32Array(total).fill(-1);
  checkArr.set(check.data.subarray(0, Math.min(total, check.data.length)));
  checkArr[0] = -2;

  // 3. Failure links, outputs and dictionary links, breadth-first in trie order.
  const fail = new Int32Array(total);
  const outFirst = new Int32Array(total).fill(-1);
  const dictLink = new Int32Array(total).fill(-1);
  const emits = new Uint8Array(total);
  const patternNext = new Int32Array(patterns.length).fill(-1);
  const child = (s: number, c: number): number => {
    const t = baseArr[s]! + c;
    return t < total && checkArr[t] === s ? t : -1;
  };
  for (const node of queue) {
    const s = daIndex[node]!;
    const p = nodePattern[node]!;
    if (p >= 0) {
      outFirst[s] = p;
      for (let x = p; x !== -1; x = patternNextInTrie[x]!) patternNext[x] = patternNextInTrie[x]!;
    }
    if (node !== 0) {
      const f = fail[s]!;
      dictLink[s] = outFirst[f]! >= 0 ? f : dictLink[f]!;
      emits[s] = outFirst[s]! >= 0 || dictLink[s]! >= 0 ? 1 : 0;
    }
    for (let c = firstChild[node]!; c !== -1; c = nextSibling[c]!) {
      const t = daIndex[c]!;
      const cls = nodeClass[c]!;
      if (node === 0) {
        fail[t] = 0;
        continue;
      }
      let f = fail[s]!;
      let next = child(f, cls);
      while (next === -1 && f !== 0) {
        f = fail[f]!;
        next = child(f, cls);
      }
      fail[t] = next === -1 ? 0 : next;
    }
  }
  const trans = new Int32Array(2 * total);
  for (let st = 0; st < total; st++) {
    trans[2 * st] = (baseArr[st]! << 1) | emits[st]!;
    trans[2 * st + 1] = checkArr[st]!;
  }
  return {
    trans,
    fail,
    outFirst,
    dictLink,
    patternNext,
    stateCount: firstChild.length,
  };
}
