/**
 * Tiny but real media files for the emulator and tests, built byte by byte so the repository
 * needs no image or audio tooling. `writeMediaFixtures` writes them to test/fixtures/media; the
 * emulator reads that folder and falls back to building them in memory.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

/** Name, bytes and md5 of one fixture file. */
export interface MediaFixture {
  name: string;
  ext: string;
  bytes: Buffer;
  md5: string;
}

export const FIXTURE_NAMES = [
  'photo.jpg',
  'screenshot.png',
  'thumbsup.gif',
  'voice.amr',
  'voice-silk.amr',
  'clip.mp4',
  'contract.pdf',
] as const;
export type FixtureName = (typeof FIXTURE_NAMES)[number];

/** Default location: <repo>/test/fixtures/media (same depth from src/ and dist/). */
export function defaultFixtureDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/media');
}

const crcTable = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function u32be(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  return Buffer.concat([u32be(data.length), td, u32be(crc32(td))]);
}

/** 16×16 RGB PNG with a colour gradient. */
export function buildPng(): Buffer {
  const w = 16;
  const h = 16;
  const raw = Buffer.alloc(h * (1 + w * 3));
  for (let y = 0; y < h; y++) {
    const row = y * (1 + w * 3);
    raw[row] = 0; // filter: none
    for (let x = 0; x < w; x++) {
      raw[row + 1 + x * 3] = x * 16;
      raw[row + 2 + x * 3] = y * 16;
      raw[row + 3 + x * 3] = 200;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** 2×2 two-colour GIF89a (LZW data hand-encoded for a 2-bit code size). */
export function buildGif(): Buffer {
  return Buffer.concat([
    Buffer.from('GIF89a', 'latin1'),
    Buffer.from([0x02, 0x00, 0x02, 0x00, 0x80, 0x00, 0x00]), // 2×2, global colour table of 2
    Buffer.from([0xff, 0xcc, 0x00, 0x00, 0x66, 0xff]), // amber, blue
    Buffer.from([0x2c, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x02, 0x00, 0x00]), // image descriptor
    // LZW min code size 2; codes clear(4) 0 1 1 then 0 end(5) at 4 bits, packed LSB-first.
    Buffer.from([0x02, 0x03, 0x44, 0x02, 0x05, 0x00]),
    Buffer.from([0x3b]),
  ]);
}

/**
 * 16×16 greyscale baseline JPEG: four flat 8×8 blocks, so every block is a DC value and an
 * end-of-block; the standard DC table and a one-symbol AC table are enough.
 */
export function buildJpeg(): Buffer {
  const w = 16;
  const h = 16;
  const levels = [40, 110, 170, 230];
  const seg = (marker: number, body: Buffer): Buffer => {
    const head = Buffer.alloc(4);
    head[0] = 0xff;
    head[1] = marker;
    head.writeUInt16BE(body.length + 2, 2);
    return Buffer.concat([head, body]);
  };
  const app0 = Buffer.from([0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0, 0]);
  const dqt = Buffer.concat([Buffer.from([0x00]), Buffer.alloc(64, 1)]);
  const sof = Buffer.from([8, 0, h, 0, w, 1, 1, 0x11, 0]);
  const dcBits = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
  const dcVals = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const dhtDc = Buffer.from([0x00, ...dcBits, ...dcVals]);
  const dhtAc = Buffer.from([0x10, 1, ...new Array<number>(15).fill(0), 0x00]); // EOB = "0"
  const sos = Buffer.from([1, 1, 0x00, 0, 63, 0]);
  // Canonical codes of the standard luminance DC table, category → [code, length].
  const dcCodes: Array<[number, number]> = [];
  {
    let code = 0;
    let k = 0;
    for (let len = 1; len <= 16; len++) {
      for (let i = 0; i < dcBits[len - 1]!; i++) dcCodes[dcVals[k++]!] = [code++, len];
      code <<= 1;
    }
  }
  const bits: number[] = [];
  const put = (value: number, len: number): void => {
    for (let i = len - 1; i >= 0; i--) bits.push((value >> i) & 1);
  };
  let prev = 0;
  for (const level of levels) {
    const dc = 8 * (level - 128); // flat block, quantiser 1
    const diff = dc - prev;
    prev = dc;
    const mag = Math.abs(diff);
    const cat = mag === 0 ? 0 : Math.floor(Math.log2(mag)) + 1;
    const [code, len] = dcCodes[cat]!;
    put(code, len);
    if (cat > 0) put(diff > 0 ? diff : diff + (1 << cat) - 1, cat);
    put(0, 1); // EOB
  }
  while (bits.length % 8 !== 0) bits.push(1);
  const scan: number[] = [];
  for (let i = 0; i < bits.length; i += 8) {
    let byte = 0;
    for (let j = 0; j < 8; j++) byte = (byte << 1) | bits[i + j]!;
    scan.push(byte);
    if (byte === 0xff) scan.push(0x00);
  }
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    seg(0xe0, app0),
    seg(0xdb, dqt),
    seg(0xc0, sof),
    seg(0xc4, dhtDc),
    seg(0xc4, dhtAc),
    seg(0xda, sos),
    Buffer.from(scan),
    Buffer.from([0xff, 0xd9]),
  ]);
}

/** AMR-NB: "#!AMR\n" then 50 frames (one second) of mode 7 (12.2 kbit/s), 32 bytes each. */
export function buildAmr(): Buffer {
  const frames: Buffer[] = [Buffer.from('#!AMR\n', 'latin1')];
  for (let i = 0; i < 50; i++) {
    const f = Buffer.alloc(32);
    f[0] = 0x3c; // FT=7, Q=1
    for (let j = 1; j < 32; j++) f[j] = (i * 7 + j * 13) & 0xff;
    frames.push(f);
  }
  return Buffer.concat(frames);
}

/** Tencent SILK v3 as WeChat/WeCom store voice: 0x02 "#!SILK_V3", length-prefixed frames, 0xFFFF end. */
export function buildSilk(): Buffer {
  const parts: Buffer[] = [Buffer.from([0x02]), Buffer.from('#!SILK_V3', 'latin1')];
  for (let i = 0; i < 25; i++) {
    const len = 40 + (i % 5);
    const head = Buffer.alloc(2);
    head.writeUInt16LE(len);
    const body = Buffer.alloc(len);
    for (let j = 0; j < len; j++) body[j] = (i * 31 + j * 17 + 5) & 0xff;
    parts.push(head, body);
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}

function box(type: string, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  return Buffer.concat([u32be(body.length + 8), Buffer.from(type, 'latin1'), body]);
}

/** Structurally valid ISO-BMFF (MP4): ftyp, moov/mvhd and an mdat with filler bytes. */
export function buildMp4(): Buffer {
  const ftyp = box(
    'ftyp',
    Buffer.from('isom', 'latin1'),
    u32be(0x200),
    Buffer.from('isomiso2mp41', 'latin1'),
  );
  const mvhd = Buffer.alloc(100);
  mvhd.writeUInt32BE(0, 0); // version + flags
  mvhd.writeUInt32BE(1000, 12); // timescale
  mvhd.writeUInt32BE(1000, 16); // duration: 1 s
  mvhd.writeUInt32BE(0x00010000, 20); // rate 1.0
  mvhd.writeUInt16BE(0x0100, 24); // volume 1.0
  const matrix = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000];
  matrix.forEach((v, i) => mvhd.writeUInt32BE(v, 36 + i * 4));
  mvhd.writeUInt32BE(2, 96); // next track id
  const mdatBody = Buffer.alloc(2048);
  for (let i = 0; i < mdatBody.length; i++) mdatBody[i] = (i * 11) & 0xff; // includes NUL bytes on purpose
  return Buffer.concat([ftyp, box('moov', box('mvhd', mvhd)), box('mdat', mdatBody)]);
}

/** One-page PDF with a correct xref table. */
export function buildPdf(): Buffer {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    null, // content stream, built below
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  const stream = 'BT /F1 12 Tf 20 50 Td (Vigil test contract) Tj ET';
  objects[3] = `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`;
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

const builders: Record<FixtureName, () => Buffer> = {
  'photo.jpg': buildJpeg,
  'screenshot.png': buildPng,
  'thumbsup.gif': buildGif,
  'voice.amr': buildAmr,
  'voice-silk.amr': buildSilk,
  'clip.mp4': buildMp4,
  'contract.pdf': buildPdf,
};

/** md5 hex of a buffer. */
export function md5Hex(b: Buffer): string {
  return createHash('md5').update(b).digest('hex');
}

/** Loads the fixtures from `dir` when present, else builds them in memory. */
export function loadMediaFixtures(dir = defaultFixtureDir()): Map<FixtureName, MediaFixture> {
  const out = new Map<FixtureName, MediaFixture>();
  for (const name of FIXTURE_NAMES) {
    const path = join(dir, name);
    const bytes = existsSync(path) ? readFileSync(path) : builders[name]();
    out.set(name, { name, ext: name.slice(name.lastIndexOf('.') + 1), bytes, md5: md5Hex(bytes) });
  }
  return out;
}

/** Writes the fixture files (used once to create test/fixtures/media; the files are committed). */
export function writeMediaFixtures(dir = defaultFixtureDir()): void {
  mkdirSync(dir, { recursive: true });
  for (const name of FIXTURE_NAMES) writeFileSync(join(dir, name), builders[name]());
}

/** Builds a fixture in memory. */
export function buildFixture(name: FixtureName): Buffer {
  return builders[name]();
}
