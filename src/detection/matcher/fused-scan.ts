import {
  C_BOUNDARY,
  C_INVISIBLE,
  C_NOISE,
  C_OTHER,
  FIRST_CLASS,
  type CompiledAutomaton,
} from './automaton.js';
import type { Scanner } from './scanner.js';
import { tokenAt } from './tokens.js';

/**
 * Both automata's class tables in one: low 16 bits the character class, high 16 bits the sound
 * class. Noise, invisible, boundary and slow codes come from the same fold table, so they are equal
 * in both halves and one test on the low half classifies a unit for both automata.
 */
export function pairClassTable(a: CompiledAutomaton, b: CompiledAutomaton): Uint32Array {
  const table = new Uint32Array(65536);
  for (let u = 0; u < 65536; u++) {
    const ca = a.classTable[u]!;
    const cb = b.classTable[u]!;
    if (ca < FIRST_CLASS && ca !== C_OTHER && ca !== cb)
      throw new Error('class tables disagree on special codes');
    table[u] = ca | (cb << 16);
  }
  return table;
}

/**
 * For each homophone pattern, the character automaton's state for the same term's own spelling
 * (the trie node its units lead to), or -1 where Scanner.emitExcept must not skip: single-run
 * patterns, patterns the fast verifier does not handle, and any whose runs differ between the two
 * automata. `charPatternOf[p]` is the character pattern with the same units as homophone pattern p.
 */
export function twinStates(
  a: CompiledAutomaton,
  b: CompiledAutomaton,
  charPatternOf: readonly number[],
): Int32Array {
  const twin = new Int32Array(b.runClasses.length).fill(-1);
  for (let p = 0; p < twin.length; p++) {
    const q = charPatternOf[p] ?? -1;
    if (q < 0 || b.simple[p] !== 1 || b.runCount[p]! < 2 || a.runCount[q] !== b.runCount[p]) continue;
    const ua = a.units[q]!;
    const ub = b.units[p]!;
    if (ua.length !== ub.length || ua.some((u, i) => u !== ub[i])) continue;
    let s = 0;
    for (const c of a.runClasses[q]!) {
      const t = (a.da.trans[2 * s]! >> 1) + c;
      if (a.da.trans[2 * t + 1] !== s) throw new Error('character pattern missing from its automaton');
      s = t;
    }
    twin[p] = s;
  }
  return twin;
}

/**
 * Runs two scanners (the character automaton and the homophone automaton) over `text` in a single
 * pass. Each lane keeps exactly the state its own Scanner.scan would (automaton state, last class
 * for repeat collapsing, stream position, ring buffers), so the candidates of each are identical
 * to two separate scans; what is shared is the text read, the table lookup and the noise gap
 * (noise, boundaries and content reset it the same way for both lanes). Fusing the passes saved
 * about a quarter of the homophone lane's cost: the two automata cannot be merged into one trie,
 * because a unit belongs to a character class and a sound class at once (a product automaton).
 */
export function scanTwo(a: Scanner, b: Scanner, pairs: Uint32Array, twin: Int32Array, text: string): void {
  a.candidates.count = 0;
  b.candidates.count = 0;
  a.truncated = false;
  b.truncated = false;
  a.text = text;
  b.text = text;
  const transA = a.ac.da.trans;
  const failA = a.ac.da.fail;
  const startA = a.ringStart;
  const lastEndA = a.ringLastEnd;
  const countA = a.ringCount;
  const maskA = a.mask;
  const transB = b.ac.da.trans;
  const failB = b.ac.da.fail;
  const startB = b.ringStart;
  const lastEndB = b.ringLastEnd;
  const countB = b.ringCount;
  const maskB = b.mask;
  const maxGap = a.limits.maxGap;
  const n = text.length;
  let sA = 0;
  let prevA = -1;
  let kA = -1;
  let sB = 0;
  let prevB = -1;
  let kB = -1;
  let gap = 0;
  for (let i = 0; i < n; i++) {
    const pair = pairs[text.charCodeAt(i)]!;
    let cA = pair & 0xffff;
    if (cA < FIRST_CLASS && cA !== C_OTHER) {
      if (cA === C_NOISE) {
        if (++gap > maxGap) {
          sA = sB = 0;
          prevA = prevB = -1;
        }
        continue;
      }
      if (cA === C_INVISIBLE) continue;
      if (cA === C_BOUNDARY) {
        sA = sB = 0;
        prevA = prevB = -1;
        gap = 0;
        continue;
      }
      // C_SLOW: a surrogate pair or a multi-unit fold; feed its units to both lanes one by one.
      const tok = tokenAt(text, i);
      const width = tok.end - tok.start;
      if (tok.kind !== 'content') {
        if (tok.kind === 'noise' && ++gap > maxGap) {
          sA = sB = 0;
          prevA = prevB = -1;
        } else if (tok.kind === 'boundary') {
          sA = sB = 0;
          prevA = prevB = -1;
          gap = 0;
        }
        i += width - 1;
        continue;
      }
      if (tok.units.length > 0) gap = 0;
      for (let q = 0; q < tok.units.length; q++) {
        const unit = tok.units[q]!;
        cA = a.ac.unitClass[unit]!;
        if (cA === 0) {
          sA = 0;
          prevA = -1;
        } else if (cA === prevA) {
          lastEndA[kA & maskA] = i + width;
          countA[kA & maskA]!++;
        } else {
          prevA = cA;
          kA++;
          startA[kA & maskA] = i;
          lastEndA[kA & maskA] = i + width;
          countA[kA & maskA] = 1;
          for (;;) {
            const t = (transA[2 * sA]! >> 1) + cA;
            if (transA[2 * t + 1] === sA) {
              sA = t;
              break;
            }
            if (sA === 0) break;
            sA = failA[sA]!;
          }
          if ((transA[2 * sA]! & 1) === 1) a.emit(sA, kA);
        }
        const cB = b.ac.unitClass[unit]!;
        if (cB === 0) {
          sB = 0;
          prevB = -1;
        } else if (cB === prevB) {
          lastEndB[kB & maskB] = i + width;
          countB[kB & maskB]!++;
        } else {
          prevB = cB;
          kB++;
          startB[kB & maskB] = i;
          lastEndB[kB & maskB] = i + width;
          countB[kB & maskB] = 1;
          for (;;) {
            const t = (transB[2 * sB]! >> 1) + cB;
            if (transB[2 * t + 1] === sB) {
              sB = t;
              break;
            }
            if (sB === 0) break;
            sB = failB[sB]!;
          }
          if ((transB[2 * sB]! & 1) === 1) b.emitExcept(sB, kB, twin, sA);
        }
      }
      i += width - 1;
      continue;
    }
    gap = 0;
    if (cA === C_OTHER) {
      sA = 0;
      prevA = -1;
    } else if (cA === prevA) {
      lastEndA[kA & maskA] = i + 1;
      countA[kA & maskA]!++;
    } else {
      prevA = cA;
      kA++;
      const m = kA & maskA;
      startA[m] = i;
      lastEndA[m] = i + 1;
      countA[m] = 1;
      for (;;) {
        const t = (transA[2 * sA]! >> 1) + cA;
        if (transA[2 * t + 1] === sA) {
          sA = t;
          break;
        }
        if (sA === 0) break;
        sA = failA[sA]!;
      }
      if ((transA[2 * sA]! & 1) === 1) a.emit(sA, kA);
    }
    const cB = pair >>> 16;
    if (cB === C_OTHER) {
      sB = 0;
      prevB = -1;
    } else if (cB === prevB) {
      lastEndB[kB & maskB] = i + 1;
      countB[kB & maskB]!++;
    } else {
      prevB = cB;
      kB++;
      const m = kB & maskB;
      startB[m] = i;
      lastEndB[m] = i + 1;
      countB[m] = 1;
      for (;;) {
        const t = (transB[2 * sB]! >> 1) + cB;
        if (transB[2 * t + 1] === sB) {
          sB = t;
          break;
        }
        if (sB === 0) break;
        sB = failB[sB]!;
      }
      if ((transB[2 * sB]! & 1) === 1) b.emitExcept(sB, kB, twin, sA);
    }
  }
  a.text = '';
  b.text = '';
}
