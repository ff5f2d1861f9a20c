/*
 * The invisible mark (溯源) the console adds to text copied from a message view: the viewer's
 * user id and the minute, as zero-width characters, so a leaked snippet can be traced back to who
 * copied it. Pure TypeScript: the console and `vigil trace` share it.
 */

const ZERO = '\u200b';
const ONE = '\u200c';
const FRAME = '\u2060';

export interface Mark {
  userId: string;
  /** Minutes since the epoch when the text was copied. */
  minute: number;
}

function checksum(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) & 0xff;
  return h;
}

/** The mark as invisible characters. */
export function encodeMark(mark: Mark): string {
  const payload = `${mark.userId}.${mark.minute}`;
  const bytes = [...new TextEncoder().encode(payload), checksum(payload)];
  const bits = bytes.map((b) => b.toString(2).padStart(8, '0')).join('');
  return FRAME + [...bits].map((b) => (b === '1' ? ONE : ZERO)).join('') + FRAME;
}

/** Copied text with the mark after its first character (a mark at either end is easily trimmed). */
export function markText(text: string, mark: Mark): string {
  if (text.length === 0) return text;
  const first = String.fromCodePoint(text.codePointAt(0)!);
  return first + encodeMark(mark) + text.slice(first.length);
}

/** Every intact mark found in a text (a snippet may carry several, or a damaged one). */
export function decodeMarks(text: string): Mark[] {
  const marks: Mark[] = [];
  const pattern = new RegExp(`${FRAME}([${ZERO}${ONE}]+)${FRAME}`, 'g');
  for (const m of text.matchAll(pattern)) {
    const bits = [...m[1]!].map((c) => (c === ONE ? '1' : '0')).join('');
    if (bits.length % 8 !== 0 || bits.length < 16) continue;
    const bytes = bits.match(/.{8}/g)!.map((b) => parseInt(b, 2));
    const sum = bytes.pop()!;
    const payload = new TextDecoder().decode(new Uint8Array(bytes));
    const parsed = /^(\d+)\.(\d+)$/.exec(payload);
    if (!parsed || checksum(payload) !== sum) continue;
    marks.push({ userId: parsed[1]!, minute: Number(parsed[2]) });
  }
  return marks;
}
