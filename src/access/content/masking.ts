import { detectPii, type PiiHit, type PiiKind } from '../../detection/pii/detect.js';

/*
 * 脱敏: personal identifiers in message text are masked for viewers without `content.unmask`.
 * Masks keep the length (one '*' per UTF-16 unit), so highlight offsets computed on the clear
 * text stay valid on the masked one. What stays visible follows common practice (GB/T 35273
 * examples): enough to tell two numbers apart, not enough to use one.
 */

/** Units left visible at the start and the end of each kind. */
const VISIBLE: Record<PiiKind, [number, number]> = {
  'resident-id': [3, 2],
  mobile: [3, 4],
  'bank-card': [4, 4],
  uscc: [2, 2],
  email: [1, 0],
  passport: [1, 2],
  'licence-plate': [2, 1],
};

function maskHit(hit: PiiHit): string {
  const value = hit.matched;
  const head = VISIBLE[hit.kind][0];
  // E-mail keeps its domain.
  const tail = hit.kind === 'email' ? value.length - value.indexOf('@') : VISIBLE[hit.kind][1];
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const keep = i < head || i >= value.length - tail || /[\s\-@]/.test(value[i]!);
    out += keep ? value[i] : '*';
  }
  return out;
}

/** The text with every detected personal identifier masked; same length as the input. */
export function maskText(text: string): string {
  const hits = detectPii(text).sort((a, b) => a.start - b.start);
  if (hits.length === 0) return text;
  let out = '';
  let at = 0;
  for (const hit of hits) {
    if (hit.start < at) continue; // overlapping kinds: the first one masked it
    out += text.slice(at, hit.start) + maskHit(hit);
    at = hit.end;
  }
  return out + text.slice(at);
}

/** WeCom fields that identify records or people by id, never free text: left as they are. */
const STRUCTURAL_KEYS = new Set([
  'msgid',
  'action',
  'from',
  'tolist',
  'roomid',
  'msgtime',
  'msgtype',
  'sdkfileid',
  'md5sum',
  'filesize',
  'fileext',
  'play_length',
  'voice_size',
  'imagesize',
  'seq',
  'pre_msgid',
  'time',
  'agree_time',
  'userid',
]);

function maskValue(value: unknown, key: string | undefined): unknown {
  if (typeof value === 'string')
    return key !== undefined && STRUCTURAL_KEYS.has(key) ? value : maskText(value);
  if (Array.isArray(value)) return value.map((v) => maskValue(v, key));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskValue(v, k)]));
  return value;
}

/** A WeCom message JSON with personal identifiers masked in every free-text field. */
export function maskWecomJson(raw: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return maskText(raw); // not JSON (imported oddities): mask it as text
  }
  return JSON.stringify(maskValue(parsed, undefined));
}
