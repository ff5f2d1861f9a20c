/**
 * The plaintext sealed in a message's `content`: the WeCom JSON (`raw`) and the text that was
 * indexed. Version 2 frames both in binary (version byte, byte length of raw, then both UTF-8)
 * so archiving does not JSON-escape a JSON document once more; version 1, JSON
 * `{"v":1,"raw":…,"text":…}`, is still read, and still written for strings UTF-8 cannot carry
 * exactly (lone surrogates, which only JSON escapes preserve).
 */
const V2 = 0x02;

export interface MessageContent {
  raw: string;
  text: string;
}

export function encodeContent(raw: string, text: string): Buffer {
  if (!isWellFormed(raw) || !isWellFormed(text)) return Buffer.from(JSON.stringify({ v: 1, raw, text }));
  const rawBytes = Buffer.byteLength(raw, 'utf8');
  const out = Buffer.allocUnsafe(5 + rawBytes + Buffer.byteLength(text, 'utf8'));
  out[0] = V2;
  out.writeUInt32BE(rawBytes, 1);
  out.write(raw, 5, 'utf8');
  out.write(text, 5 + rawBytes, 'utf8');
  return out;
}

export function decodeContent(plain: Buffer): MessageContent {
  if (plain[0] === V2) {
    const end = 5 + plain.readUInt32BE(1);
    if (end > plain.length) throw new Error('content: raw length beyond the end');
    return { raw: plain.toString('utf8', 5, end), text: plain.toString('utf8', end) };
  }
  const v1 = JSON.parse(plain.toString('utf8')) as { v: 1; raw: string; text: string };
  return { raw: v1.raw, text: v1.text };
}

/** String.prototype.isWellFormed (ES2024; Node 20 has it, the ES2023 typings do not). */
function isWellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}
