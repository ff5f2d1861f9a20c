/**
 * Array parameters in PostgreSQL's binary format (what `array_recv` reads). node-pg sends a Buffer
 * parameter as binary, so a batch insert bound with these skips the text round trip on both
 * sides: no array-literal escaping in Node, no `array_in`, hex `bytea` or `tsvector` text parsing
 * on the server. For the archive's batches that parsing cost more than the inserts themselves.
 *
 * Bind each with a matching cast (`$2::bigint[]`, `$3::text[]`…): the server checks that the
 * element type written here is the one the parameter resolves to.
 */

/** Element type OIDs (fixed for built-in types). */
export const PG_OID = { bool: 16, bytea: 17, int8: 20, text: 25, timestamptz: 1184, tsvector: 3614 } as const;

/** Milliseconds from the Unix epoch to PostgreSQL's (2000-01-01T00:00:00Z). */
const PG_EPOCH_MS = 946_684_800_000;

/**
 * A one-dimensional array of `count` elements: `size(i)` is the encoded length of element i (-1
 * for NULL) and `write(out, offset, i)` writes it.
 */
function encodeArray(
  oid: number,
  count: number,
  size: (i: number) => number,
  write: (out: Buffer, offset: number, i: number) => void,
): Buffer {
  const sizes = new Array<number>(count);
  let total = 20;
  let hasNull = 0;
  for (let i = 0; i < count; i++) {
    const n = size(i);
    sizes[i] = n;
    if (n < 0) hasNull = 1;
    total += 4 + Math.max(n, 0);
  }
  const out = Buffer.allocUnsafe(total);
  out.writeInt32BE(1, 0); // dimensions
  out.writeInt32BE(hasNull, 4);
  out.writeUInt32BE(oid, 8);
  out.writeInt32BE(count, 12); // length of the dimension
  out.writeInt32BE(1, 16); // its lower bound
  let o = 20;
  for (let i = 0; i < count; i++) {
    const n = sizes[i]!;
    o = out.writeInt32BE(n, o);
    if (n < 0) continue;
    write(out, o, i);
    o += n;
  }
  return out;
}

/** text[] (UTF-8, as node-pg would send each string). */
export function textArray(values: ReadonlyArray<string | null | undefined>): Buffer {
  return encodeArray(
    PG_OID.text,
    values.length,
    (i) => (values[i] == null ? -1 : Buffer.byteLength(values[i]!, 'utf8')),
    (out, o, i) => void out.write(values[i]!, o, 'utf8'),
  );
}

/** Array of already-encoded elements: bytea values, or binary tsvectors with PG_OID.tsvector. */
export function bytesArray(
  values: ReadonlyArray<Uint8Array | null | undefined>,
  oid: number = PG_OID.bytea,
): Buffer {
  return encodeArray(
    oid,
    values.length,
    (i) => (values[i] == null ? -1 : values[i]!.length),
    (out, o, i) => void out.set(values[i]!, o),
  );
}

/**
 * Writes a 64-bit integer; safe integers (every id and timestamp in practice) without a BigInt,
 * which would cost an allocation per value.
 */
function writeInt64(out: Buffer, o: number, value: string | number | bigint): void {
  const n = typeof value === 'bigint' ? NaN : Number(value);
  if (Number.isSafeInteger(n)) {
    out.writeInt32BE(Math.floor(n / 2 ** 32), o);
    out.writeUInt32BE(n >>> 0, o + 4);
  } else out.writeBigInt64BE(BigInt(value), o);
}

/** bigint[] from decimal strings (ids as the database returns them) or integers. */
export function int8Array(values: ReadonlyArray<string | number | bigint | null | undefined>): Buffer {
  return encodeArray(
    PG_OID.int8,
    values.length,
    (i) => (values[i] == null ? -1 : 8),
    (out, o, i) => writeInt64(out, o, values[i]!),
  );
}

/** timestamptz[] (microseconds since 2000-01-01 UTC). */
export function timestamptzArray(values: ReadonlyArray<Date | null | undefined>): Buffer {
  return encodeArray(
    PG_OID.timestamptz,
    values.length,
    (i) => (values[i] == null ? -1 : 8),
    (out, o, i) => {
      const ms = values[i]!.getTime();
      if (!Number.isFinite(ms)) throw new RangeError('invalid date in a timestamptz array');
      writeInt64(out, o, (ms - PG_EPOCH_MS) * 1000);
    },
  );
}

/** boolean[]. */
export function boolArray(values: ReadonlyArray<boolean | null | undefined>): Buffer {
  return encodeArray(
    PG_OID.bool,
    values.length,
    (i) => (values[i] == null ? -1 : 1),
    (out, o, i) => void (out[o] = values[i] ? 1 : 0),
  );
}

/** A PostgreSQL array literal of strings (`{"a","b"}`), for a text[] element of a row. */
export function arrayLiteral(values: readonly string[]): string {
  if (values.length === 0) return '{}';
  return `{${values.map((v) => `"${v.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`;
}
