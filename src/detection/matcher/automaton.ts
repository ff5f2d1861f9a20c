import { FOLD_BOUNDARY, FOLD_INVISIBLE, FOLD_NOISE, FOLD_SLOW, foldTables } from '../normalize/fold.js';
import { buildDoubleArray, type DoubleArrayAutomaton } from './double-array.js';

/* Class codes below FIRST_CLASS are handled by the scan loop itself, not by the automaton. */
export const C_OTHER = 0; // content that occurs in no pattern: resets to the root
export const C_NOISE = 1;
export const C_INVISIBLE = 2;
export const C_BOUNDARY = 3;
export const C_SLOW = 4;
export const FIRST_CLASS = 5;

/** A pattern as folded units; `orig` holds the source character behind each unit. */
export interface PatternInput {
  units: readonly number[];
  orig: readonly string[];
  /** Equivalence keys per unit when they depend on context (a term's reading of 行). */
  keys?: readonly (string | number)[];
}

/**
 * A compiled automaton plus everything the scanner needs: the raw-unit → class table (fold fused
 * in), the folded-unit → class table for slow paths, and per-pattern runs for verification.
 */
export interface CompiledAutomaton {
  da: DoubleArrayAutomaton;
  classTable: Uint16Array;
  unitClass: Int32Array;
  classCount: number;
  /** Per pattern: collapsed classes (no two neighbours equal) and the run length of each. */
  runClasses: Int32Array[];
  runLengths: Int32Array[];
  /** Per pattern: folded units and original characters, for method attribution. */
  units: (readonly number[])[];
  orig: (readonly string[])[];
  maxRuns: number;
  /** 1 when every run has length 1 and every unit comes from a one-unit character: fast verify. */
  simple: Uint8Array;
  /**
   * The same per-pattern facts the verifier needs first, flat: a million emits a second touching
   * one small typed array each, instead of a separate array object per pattern, keeps them in cache.
   * runCount[p] is the number of runs; a simple pattern's units and original code units sit at
   * flatUnits/flatOrig[unitOffset[p] …].
   */
  runCount: Int32Array;
  unitOffset: Int32Array;
  flatUnits: Int32Array;
  flatOrig: Int32Array;
}

/**
 * Compiles patterns. `keyOf` maps a folded unit to its equivalence key (the unit itself for
 * character matching, the syllable for homophones); units with the same key share a class.
 */
export function compileAutomaton(
  patterns: readonly PatternInput[],
  keyOf: (unit: number) => string | number,
): CompiledAutomaton {
  const keyClass = new Map<string | number, number>();
  const unitClass = new Int32Array(65536);
  let next = FIRST_CLASS;
  const classOfKey = (key: string | number): number => {
    let c = keyClass.get(key);
    if (c === undefined) {
      c = next++;
      if (c > 0xffff) throw new Error('pattern alphabet exceeds 65,530 distinct characters');
      keyClass.set(key, c);
    }
    return c;
  };
  const runClasses: Int32Array[] = [];
  const runLengths: Int32Array[] = [];
  let maxRuns = 1;
  for (const p of patterns) {
    const classes: number[] = [];
    const lens: number[] = [];
    for (let i = 0; i < p.units.length; i++) {
      const u = p.units[i]!;
      const c = classOfKey(p.keys ? p.keys[i]! : keyOf(u));
      if (!p.keys) unitClass[u] = c;
      if (classes.length > 0 && classes[classes.length - 1] === c) lens[lens.length - 1]!++;
      else {
        classes.push(c);
        lens.push(1);
      }
    }
    runClasses.push(Int32Array.from(classes));
    runLengths.push(Int32Array.from(lens));
    maxRuns = Math.max(maxRuns, classes.length);
  }
  // Units that appear in no pattern but share a key with one (homophones) still get its class.
  if (keyClass.size > 0) {
    for (let u = 0; u < 65536; u++) {
      if (unitClass[u] !== 0) continue;
      const c = keyClass.get(keyOf(u));
      if (c !== undefined) unitClass[u] = c;
    }
  }
  const { fold } = foldTables();
  const classTable = new Uint16Array(65536);
  for (let u = 0; u < 65536; u++) {
    const f = fold[u]!;
    if (f === FOLD_NOISE) classTable[u] = C_NOISE;
    else if (f === FOLD_INVISIBLE) classTable[u] = C_INVISIBLE;
    else if (f === FOLD_BOUNDARY) classTable[u] = C_BOUNDARY;
    else if (f === FOLD_SLOW) classTable[u] = C_SLOW;
    else classTable[u] = unitClass[f]!;
  }
  const da = buildDoubleArray(runClasses, next);
  const unitOffset = new Int32Array(patterns.length + 1);
  patterns.forEach((p, i) => (unitOffset[i + 1] = unitOffset[i]! + p.units.length));
  const flatUnits = new Int32Array(unitOffset[patterns.length]!);
  const flatOrig = new Int32Array(unitOffset[patterns.length]!).fill(-1);
  patterns.forEach((p, i) => {
    flatUnits.set(p.units, unitOffset[i]!);
    p.orig.forEach((o, j) => {
      if (o.length === 1 && j < p.units.length) flatOrig[unitOffset[i]! + j] = o.charCodeAt(0);
    });
  });
  return {
    da,
    classTable,
    unitClass,
    classCount: next,
    runClasses,
    runLengths,
    units: patterns.map((p) => p.units),
    orig: patterns.map((p) => p.orig),
    maxRuns,
    simple: Uint8Array.from(
      patterns.map((p, i) =>
        runLengths[i]!.every((l) => l === 1) &&
        p.orig.every((o) => o.length === 1) &&
        p.orig.length === p.units.length
          ? 1
          : 0,
      ),
    ),
    runCount: Int32Array.from(runClasses, (c) => c.length),
    unitOffset,
    flatUnits,
    flatOrig,
  };
}
