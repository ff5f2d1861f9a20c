import { FOLD_SLOW, M_HOMOPHONE, M_NOISE, M_REPEAT, foldTables } from '../normalize/fold.js';
import {
  C_BOUNDARY,
  C_INVISIBLE,
  C_NOISE,
  C_OTHER,
  FIRST_CLASS,
  type CompiledAutomaton,
} from './automaton.js';
import { charMethod, codePointStartBefore, tokenAt, type Token } from './tokens.js';

/**
 * Verified pattern occurrences of the last scan, as parallel arrays (no per-match objects):
 * occurrence i is pattern[i] over [start[i], end[i]) of the original text with M_* bits methods[i].
 */
export class Candidates {
  count = 0;
  pattern: Int32Array = new Int32Array(256);
  start: Int32Array = new Int32Array(256);
  end: Int32Array = new Int32Array(256);
  methods: Int32Array = new Int32Array(256);

  push(p: number, s: number, e: number, m: number): void {
    if (this.count === this.pattern.length) {
      const grow = (a: Int32Array): Int32Array => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.pattern = grow(this.pattern);
      this.start = grow(this.start);
      this.end = grow(this.end);
      this.methods = grow(this.methods);
    }
    const i = this.count++;
    this.pattern[i] = p;
    this.start[i] = s;
    this.end[i] = e;
    this.methods[i] = m;
  }
}

export interface ScanLimits {
  /** Noise characters tolerated between two pattern characters. */
  maxGap: number;
  /** Occurrences kept per scan; later ones are dropped and `truncated` is set. */
  maxCandidates: number;
}

export const DEFAULT_LIMITS: ScanLimits = { maxGap: 8, maxCandidates: 10_000 };

/**
 * Runs one automaton over text. The loop reads UTF-16 units, maps them to classes through one
 * table lookup (normalisation is fused into that table), collapses repeated classes, skips noise
 * up to maxGap and resets on boundaries. For each stream position (a run of one class) three ring
 * buffers remember where the run started, where its last character is and how long it is, so an
 * emitted pattern can be verified against the original text without re-scanning.
 */
export class Scanner {
  // Read and written by scanTwo (fused-scan.ts) too, which drives two scanners in one loop.
  readonly ringStart: Int32Array;
  readonly ringLastEnd: Int32Array;
  readonly ringCount: Int32Array;
  readonly mask: number;
  readonly candidates = new Candidates();
  truncated = false;
  text = '';
  private readonly fold = foldTables().fold;
  private readonly foldMethod = foldTables().method;

  /**
   * @param requiredMethods candidates lacking all of these bits are dropped at once (the homophone
   *   automaton only wants spans that are not plain character matches).
   */
  constructor(
    readonly ac: CompiledAutomaton,
    readonly limits: ScanLimits = DEFAULT_LIMITS,
    private readonly requiredMethods = 0,
  ) {
    let size = 16;
    while (size <= ac.maxRuns + 1) size *= 2;
    this.ringStart = new Int32Array(size);
    this.ringLastEnd = new Int32Array(size);
    this.ringCount = new Int32Array(size);
    this.mask = size - 1;
  }

  /** Scans `text`; results are left in `candidates` (reused between calls). */
  scan(text: string): Candidates {
    this.candidates.count = 0;
    this.truncated = false;
    this.text = text;
    const { classTable } = this.ac;
    const { trans, fail } = this.ac.da;
    const ringStart = this.ringStart;
    const ringLastEnd = this.ringLastEnd;
    const ringCount = this.ringCount;
    const mask = this.mask;
    const maxGap = this.limits.maxGap;
    const n = text.length;
    let s = 0;
    let prev = -1;
    let gap = 0;
    let k = -1;
    for (let i = 0; i < n; i++) {
      let cls = classTable[text.charCodeAt(i)]!;
      if (cls < FIRST_CLASS) {
        if (cls === C_NOISE) {
          if (++gap > maxGap) {
            s = 0;
            prev = -1;
          }
          continue;
        }
        if (cls === C_INVISIBLE) continue;
        if (cls === C_OTHER || cls === C_BOUNDARY) {
          s = 0;
          prev = -1;
          gap = 0;
          continue;
        }
        // C_SLOW: a surrogate pair or a multi-unit fold; feed its classes one by one.
        const tok = tokenAt(text, i);
        const width = tok.end - tok.start;
        if (tok.kind !== 'content') {
          if (tok.kind === 'noise' && ++gap > maxGap) {
            s = 0;
            prev = -1;
          } else if (tok.kind === 'boundary') {
            s = 0;
            prev = -1;
            gap = 0;
          }
          i += width - 1;
          continue;
        }
        for (let q = 0; q < tok.units.length; q++) {
          cls = this.ac.unitClass[tok.units[q]!]!;
          if (cls === 0) {
            s = 0;
            prev = -1;
            gap = 0;
            continue;
          }
          gap = 0;
          if (cls === prev) {
            ringLastEnd[k & mask] = i + width;
            ringCount[k & mask]!++;
            continue;
          }
          prev = cls;
          k++;
          ringStart[k & mask] = i;
          ringLastEnd[k & mask] = i + width;
          ringCount[k & mask] = 1;
          for (;;) {
            const t = (trans[2 * s]! >> 1) + cls;
            if (trans[2 * t + 1] === s) {
              s = t;
              break;
            }
            if (s === 0) break;
            s = fail[s]!;
          }
          if ((trans[2 * s]! & 1) === 1) this.emit(s, k);
        }
        i += width - 1;
        continue;
      }
      gap = 0;
      if (cls === prev) {
        ringLastEnd[k & mask] = i + 1;
        ringCount[k & mask]!++;
        continue;
      }
      prev = cls;
      k++;
      const m = k & mask;
      ringStart[m] = i;
      ringLastEnd[m] = i + 1;
      ringCount[m] = 1;
      for (;;) {
        const t = (trans[2 * s]! >> 1) + cls;
        if (trans[2 * t + 1] === s) {
          s = t;
          break;
        }
        if (s === 0) break;
        s = fail[s]!;
      }
      if ((trans[2 * s]! & 1) === 1) this.emit(s, k);
    }
    this.text = '';
    return this.candidates;
  }

  /** Verifies every pattern the automaton state emits at stream position k. */
  emit(state: number, k: number): void {
    const { outFirst, dictLink, patternNext } = this.ac.da;
    for (let st = outFirst[state]! >= 0 ? state : dictLink[state]!; st !== -1; st = dictLink[st]!) {
      for (let p = outFirst[st]!; p !== -1; p = patternNext[p]!) this.verify(p, k);
    }
  }

  /**
   * emit() for the homophone lane of a fused scan: skips pattern p when the character automaton is
   * in state twin[p] at the same character. That state is the term's own spelling, so the last
   * runs of the text are the term's exact characters; the verifier would find no homophone in
   * them and drop the candidate (requiredMethods) anyway. This removes most of the homophone
   * lane's verification work, as almost every homophone-lane match is the term itself.
   */
  emitExcept(state: number, k: number, twin: Int32Array, charState: number): void {
    const { outFirst, dictLink, patternNext } = this.ac.da;
    for (let st = outFirst[state]! >= 0 ? state : dictLink[state]!; st !== -1; st = dictLink[st]!) {
      for (let p = outFirst[st]!; p !== -1; p = patternNext[p]!) if (twin[p] !== charState) this.verify(p, k);
    }
  }

  private push(pattern: number, start: number, end: number, methods: number): boolean {
    if (this.requiredMethods !== 0 && (methods & this.requiredMethods) === 0) return true;
    if (this.candidates.count >= this.limits.maxCandidates) {
      this.truncated = true;
      return false;
    }
    this.candidates.push(pattern, start, end, methods);
    return true;
  }

  /** Checks run lengths against the pattern and finds the exact span; see the class comment. */
  private verify(p: number, k: number): void {
    const m = this.ac.runCount[p]!;
    const mask = this.mask;
    const text = this.text;
    const a = k - m + 1;
    if (m > 1 && this.ac.simple[p] === 1 && this.verifySimple(p, a, m, text)) return;
    const classes = this.ac.runClasses[p]!;
    const lens = this.ac.runLengths[p]!;
    if (m === 1) {
      this.verifySingleRun(p, this.ringStart[k & mask]!, classes[0]!, lens[0]!);
      return;
    }
    if (this.ringCount[a & mask]! < lens[0]!) return;
    for (let j = 1; j < m - 1; j++) if (this.ringCount[(a + j) & mask]! < lens[j]!) return;
    // First run: its last L1 characters, walking back from the run's end.
    let need = lens[0]!;
    let start = this.ringLastEnd[a & mask]!;
    while (need > 0 && start > 0) {
      const tok = tokenAt(text, codePointStartBefore(text, start));
      start = tok.start;
      if (tok.kind === 'content') need -= tok.units.filter((u) => this.ac.unitClass[u] === classes[0]).length;
    }
    // Last run: its first Lm characters, walking forward (the run may continue past the emit).
    need = lens[m - 1]!;
    let end = this.ringStart[k & mask]!;
    let gap = 0;
    let first = true;
    while (need > 0) {
      if (end >= text.length) return;
      const tok = tokenAt(text, end);
      if (tok.kind === 'boundary') return;
      if (tok.kind === 'noise' && ++gap > this.limits.maxGap) return;
      if (tok.kind === 'content') {
        gap = 0;
        for (const u of tok.units) {
          if (need > 0 && this.ac.unitClass[u] === classes[m - 1]) need--;
          else if (first && need === lens[m - 1])
            continue; // earlier units of a multi-unit character
          else if (need > 0) return;
        }
        first = false;
      }
      end = tok.end;
    }
    this.push(p, start, end, this.methodsOf(p, start, end));
  }

  /**
   * The common case without allocation: one character per run, no noise or repeats inside, every
   * character a single code unit. Returns false to fall back to the general path.
   */
  private verifySimple(p: number, a: number, m: number, text: string): boolean {
    const mask = this.mask;
    const start = this.ringLastEnd[a & mask]! - 1;
    for (let j = 1; j < m; j++) if (this.ringStart[(a + j) & mask] !== start + j) return false;
    const fold = this.fold;
    if (fold[text.charCodeAt(start)]! <= FOLD_SLOW || fold[text.charCodeAt(start + m - 1)]! <= FOLD_SLOW)
      return false;
    const orig = this.ac.flatOrig;
    const units = this.ac.flatUnits;
    const off = this.ac.unitOffset[p]!;
    let methods = 0;
    for (let j = 0; j < m; j++) {
      const u = text.charCodeAt(start + j);
      const o = orig[off + j]!;
      if (u === o) continue;
      if (fold[u] !== units[off + j]) methods |= M_HOMOPHONE;
      else methods |= this.foldMethod[u]! || this.foldMethod[o]!;
    }
    this.push(p, start, start + m, methods);
    return true;
  }

  /** A one-run pattern ("扣", "哈哈"): every window of L characters inside the run is a match. */
  private verifySingleRun(p: number, from: number, cls: number, len: number): void {
    const text = this.text;
    const window: Token[] = [];
    let gap = 0;
    for (let i = from; i < text.length;) {
      const tok = tokenAt(text, i);
      i = tok.end;
      if (tok.kind === 'boundary') break;
      if (tok.kind === 'noise' && ++gap > this.limits.maxGap) break;
      if (tok.kind !== 'content') continue;
      gap = 0;
      const own = tok.units.filter((u) => this.ac.unitClass[u] === cls).length;
      if (own === 0 || (window.length > 0 && own !== tok.units.length)) break;
      window.push(tok);
      if (window.length > len) window.shift();
      if (window.length === len) {
        const start = window[0]!.start;
        const end = window[len - 1]!.end;
        if (!this.push(p, start, end, this.methodsOf(p, start, end))) return;
      }
    }
  }

  /** M_* bits for a verified span: noise inside it, extra repeats and per-character folds. */
  private methodsOf(p: number, start: number, end: number): number {
    const text = this.text;
    const classes = this.ac.runClasses[p]!;
    const lens = this.ac.runLengths[p]!;
    const units = this.ac.units[p]!;
    const orig = this.ac.orig[p]!;
    let methods = 0;
    let run = 0;
    let inRun = 0;
    let unitBase = 0;
    let sawContent = false;
    for (let i = start; i < end;) {
      const tok = tokenAt(text, i);
      i = tok.end;
      if (tok.kind !== 'content') {
        if (sawContent) methods |= M_NOISE;
        continue;
      }
      sawContent = true;
      const ch = text.slice(tok.start, tok.end);
      for (const u of tok.units) {
        const cls = this.ac.unitClass[u];
        if (cls !== classes[run]) {
          if (inRun === 0 || run + 1 >= classes.length) continue;
          unitBase += lens[run]!;
          run++;
          inRun = 0;
        }
        if (inRun >= lens[run]!) methods |= M_REPEAT;
        const q = unitBase + Math.min(inRun, lens[run]! - 1);
        methods |= charMethod(ch, tok.method, u, orig[q] ?? '', units[q] ?? -1);
        inRun++;
      }
    }
    return methods;
  }
}
