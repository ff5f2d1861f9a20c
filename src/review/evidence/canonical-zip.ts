import { unzipSync, zipSync, type ZipOptions } from 'fflate';

/**
 * The one byte layout an evidence package may have: entries stored (no compression, because
 * deflate streams are not canonical and recompressing would tie verification to one deflate
 * implementation), DOS time 1980-01-01 00:00, no extra fields, no comments, no attributes.
 * fflate reads the DOS time from local-time getters, so a local-time Date gives the same bytes
 * in every time zone.
 */
const ENTRY_OPTIONS: ZipOptions = { level: 0, mtime: new Date(1980, 0, 1, 0, 0, 0), os: 0, attrs: 0 };

export type ZipEntries = ReadonlyArray<readonly [path: string, data: Uint8Array]>;

/** The canonical ZIP of these entries, in this order. */
export function writeCanonicalZip(entries: ZipEntries): Buffer {
  const files: Record<string, [Uint8Array, ZipOptions]> = {};
  for (const [path, data] of entries) {
    // fflate walks the object in key order; integer-like keys would be reordered.
    if (/^(0|[1-9]\d*)$/.test(path)) throw new RangeError(`entry name ${path} is not allowed`);
    if (path in files) throw new RangeError(`duplicate entry ${path}`);
    files[path] = [data, ENTRY_OPTIONS];
  }
  const zip = zipSync(files);
  return Buffer.from(zip.buffer, zip.byteOffset, zip.byteLength);
}

export interface ReadZip {
  /** Entries in central-directory order. */
  entries: Array<{ path: string; data: Uint8Array }>;
  /** Entries the reader refused to expand (not stored, or a duplicate name). */
  refused: string[];
}

/** Reads entries without inflating anything: canonical packages only hold stored entries. */
export function readZip(zip: Uint8Array): ReadZip {
  const refused: string[] = [];
  const names = new Set<string>();
  const files = unzipSync(zip, {
    filter: (file) => {
      if (names.has(file.name)) refused.push(`${file.name}: duplicate entry`);
      names.add(file.name);
      if (file.compression === 0) return true;
      refused.push(`${file.name}: compressed (method ${file.compression}); entries must be stored`);
      return false;
    },
  });
  const entries = Object.entries(files).map(([path, data]) => ({ path, data }));
  return { entries, refused };
}

/**
 * Names the part of a canonical ZIP that holds byte `offset` (for "differs at byte N" messages).
 * Walks the layout writeCanonicalZip produces: local headers with data, central directory, end record.
 */
export function describeZipOffset(canonical: Uint8Array, offset: number): string {
  const view = Buffer.from(canonical.buffer, canonical.byteOffset, canonical.byteLength);
  if (offset >= view.length) return 'bytes after the end of the archive';
  const eocd = view.length - 22;
  if (offset >= eocd) return 'end-of-central-directory record';
  const centralStart = view.readUInt32LE(eocd + 16);
  let at = offset < centralStart ? 0 : centralStart;
  while (at < eocd) {
    const central = at >= centralStart;
    const nameLength = view.readUInt16LE(at + (central ? 28 : 26));
    const headerLength = central ? 46 : 30;
    const name = view.subarray(at + headerLength, at + headerLength + nameLength).toString('utf8');
    const dataLength = central ? 0 : view.readUInt32LE(at + 18);
    const end = at + headerLength + nameLength + dataLength;
    if (offset < end) {
      if (central) return `central directory entry of ${name}`;
      if (offset < at + headerLength) return `local header of ${name}`;
      if (offset < at + headerLength + nameLength) return `local file name of ${name}`;
      return `data of ${name}`;
    }
    at = end;
  }
  return 'central directory';
}
