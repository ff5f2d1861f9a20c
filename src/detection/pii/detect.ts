import { RE2JS } from 're2js';
import { foldedView } from '../normalize/fold.js';
import {
  isBankCard,
  isEmail,
  isLicencePlate,
  isMobile,
  isPassport,
  isResidentId,
  isUnifiedSocialCreditCode,
} from './validators.js';

export const PII_KINDS = [
  'resident-id',
  'mobile',
  'bank-card',
  'uscc',
  'email',
  'passport',
  'licence-plate',
] as const;
export type PiiKind = (typeof PII_KINDS)[number];

/** A validated identifier found in text; offsets are UTF-16 units into the original. */
export interface PiiHit {
  kind: PiiKind;
  start: number;
  end: number;
  matched: string;
}

/*
 * Candidates are found with linear-time RE2 patterns over the same-length folded view (so
 * full-width, circled and Chinese-numeral digits count), then validated. A candidate glued to a
 * longer run of digits or letters is rejected: part of an order number is not a phone number.
 */

interface Detector {
  kind: PiiKind;
  re: RE2JS;
  /** Characters that must not touch the candidate on either side. */
  glue: RegExp;
  valid: (s: string) => boolean;
  /** Separators allowed inside the candidate, stripped before validation. */
  strip?: RegExp;
}

const DETECTORS: readonly Detector[] = [
  {
    kind: 'resident-id',
    re: RE2JS.compile('[1-8]\\d{16}[\\dXx]'),
    glue: /[0-9A-Za-z]/,
    valid: (s) => isResidentId(s),
  },
  {
    kind: 'mobile',
    re: RE2JS.compile('(?:\\+?86[ -]?)?1[3-9]\\d(?:[ -]?\\d{4}){2}'),
    glue: /[0-9]/,
    valid: (s) => isMobile(s.replace(/^\+?86/, '')),
    strip: /[ -]/g,
  },
  {
    kind: 'bank-card',
    re: RE2JS.compile('\\d{4}(?:[ -]?\\d{4}){3}(?:[ -]?\\d{1,3})?'),
    glue: /[0-9]/,
    valid: isBankCard,
    strip: /[ -]/g,
  },
  {
    kind: 'uscc',
    re: RE2JS.compile('[0-9A-HJ-NPQRTUWXY]{2}\\d{6}[0-9A-HJ-NPQRTUWXY]{10}', RE2JS.CASE_INSENSITIVE),
    glue: /[0-9A-Za-z]/,
    valid: isUnifiedSocialCreditCode,
  },
  {
    kind: 'email',
    re: RE2JS.compile('[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}'),
    glue: /[A-Za-z0-9._%+-]/,
    valid: isEmail,
  },
  { kind: 'passport', re: RE2JS.compile('[EeGg][A-Za-z]?\\d{7,8}'), glue: /[0-9A-Za-z]/, valid: isPassport },
  {
    kind: 'licence-plate',
    re: RE2JS.compile(
      '[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Za-z][·• -]?[A-Za-z0-9]{4,5}[A-Za-z0-9挂学警港澳]',
    ),
    glue: /[0-9A-Za-z]/,
    valid: isLicencePlate,
  },
];

/** Finds validated identifiers of the requested kinds (all kinds when omitted). */
export function detectPii(text: string, kinds: readonly PiiKind[] = PII_KINDS): PiiHit[] {
  const folded = foldedView(text);
  const hits: PiiHit[] = [];
  for (const d of DETECTORS) {
    if (!kinds.includes(d.kind)) continue;
    const m = d.re.matcher(folded);
    while (m.find()) {
      const start = m.start();
      const end = m.end();
      if (start > 0 && d.glue.test(folded[start - 1]!)) continue;
      if (end < folded.length && d.glue.test(folded[end]!)) continue;
      const value = folded.slice(start, end);
      if (!d.valid(d.strip ? value.replace(d.strip, '') : value)) continue;
      hits.push({ kind: d.kind, start, end, matched: text.slice(start, end) });
    }
  }
  // A resident ID is not also a bank card or USCC: keep the most specific kind per span.
  return hits.filter(
    (h) =>
      !hits.some(
        (o) =>
          o !== h &&
          o.kind === 'resident-id' &&
          o.start <= h.start &&
          h.end <= o.end &&
          h.kind !== 'resident-id',
      ),
  );
}
