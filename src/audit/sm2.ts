/**
 * SM2 digital signatures (GB/T 32918.2-2016) with SM3 on the recommended curve sm2p256v1
 * (GB/T 32918.5), in plain bigint arithmetic. Node's `crypto.sign('sm3', data, ecKey)` on an SM2
 * curve key is ECDSA, and Node cannot set the distinguishing ID, hence this module.
 *
 *   Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A)      ID_A defaults to "1234567812345678"
 *   e   = SM3(Z_A ‖ M)
 *   sign:   k ∈ [1, n-1] random; (x1, y1) = [k]G; r = (e + x1) mod n, retry if r = 0 or r + k = n;
 *           s = (1 + d)^-1 · (k - r·d) mod n, retry if s = 0
 *   verify: r, s ∈ [1, n-1]; t = (r + s) mod n ≠ 0; (x1, y1) = [s]G + [t]P; accept iff (e + x1) mod n = r
 *
 * Unlike ECDSA, (r, n - s) is not a second valid signature (t changes), so there is nothing to
 * normalise; r and s outside [1, n-1], and non-canonical DER, are rejected.
 *
 * Side channels: scalar multiplication is a Montgomery ladder over complete projective addition
 * formulas (Renes–Costello–Batina 2016, Algorithm 1) with masked conditional swaps, so there is no
 * branch or table index on secret bits, and k is drawn with crypto.randomBytes and rejection
 * sampling. JavaScript bigint arithmetic itself is not guaranteed constant-time (its running time
 * may depend on operand sizes); this is "constant-time where practical", not a hardened
 * implementation. Keep the key in an HSM-backed keyring where that matters.
 */
import { createHash, randomBytes } from 'node:crypto';

/** sm2p256v1 (GB/T 32918.5-2017). */
export const SM2_CURVE = Object.freeze({
  p: 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn,
  a: 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn,
  b: 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n,
  n: 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n,
  gx: 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n,
  gy: 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n,
});

/** The default distinguishing ID of GB/T 32918.2 / GM/T 0009 (the bytes of "1234567812345678"). */
export const SM2_DEFAULT_ID: Buffer = Buffer.from('1234567812345678', 'ascii');

const { p: P, a: A, b: B, n: N, gx: GX, gy: GY } = SM2_CURVE;
const B3 = (3n * B) % P;

/** Raised for malformed keys and signature encodings (never for a signature that does not verify). */
export class Sm2Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Sm2Error';
  }
}

// ---------------------------------------------------------------------------------------------
// Field and scalar arithmetic. Operands are kept reduced in [0, m); subtraction adds m first so
// no intermediate is negative and no reduction branches on a value.

const fAdd = (x: bigint, y: bigint): bigint => (x + y) % P;
const fSub = (x: bigint, y: bigint): bigint => (x + P - y) % P;
const fMul = (x: bigint, y: bigint): bigint => (x * y) % P;

/** x^e mod m by square-and-multiply; the exponent is public (m - 2 for inverses). */
function powMod(x: bigint, e: bigint, m: bigint): bigint {
  const base = x % m;
  let result = 1n;
  for (let i = BigInt(e.toString(2).length - 1); i >= 0n; i--) {
    result = (result * result) % m;
    if ((e >> i) & 1n) result = (result * base) % m;
  }
  return result;
}

/** Inverse modulo a prime by Fermat's little theorem (no data-dependent loop as in extended Euclid). */
const invMod = (x: bigint, m: bigint): bigint => powMod(x, m - 2n, m);

// ---------------------------------------------------------------------------------------------
// Points in homogeneous projective coordinates (X : Y : Z); the identity is (0 : 1 : 0).

interface Point {
  x: bigint;
  y: bigint;
  z: bigint;
}

const IDENTITY: Point = { x: 0n, y: 1n, z: 0n };
const G: Point = { x: GX, y: GY, z: 1n };

/**
 * P + Q with the complete formulas of Renes, Costello and Batina ("Complete addition formulas for
 * prime order elliptic curves", 2016, Algorithm 1, any a): valid for every input including the
 * identity and P = Q, so doubling uses the same code and nothing branches.
 */
function add(p1: Point, p2: Point): Point {
  const { x: X1, y: Y1, z: Z1 } = p1;
  const { x: X2, y: Y2, z: Z2 } = p2;
  let t0 = fMul(X1, X2);
  let t1 = fMul(Y1, Y2);
  let t2 = fMul(Z1, Z2);
  let t3 = fAdd(X1, Y1);
  let t4 = fAdd(X2, Y2);
  t3 = fMul(t3, t4);
  t4 = fAdd(t0, t1);
  t3 = fSub(t3, t4);
  t4 = fAdd(X1, Z1);
  let t5 = fAdd(X2, Z2);
  t4 = fMul(t4, t5);
  t5 = fAdd(t0, t2);
  t4 = fSub(t4, t5);
  t5 = fAdd(Y1, Z1);
  let X3 = fAdd(Y2, Z2);
  t5 = fMul(t5, X3);
  X3 = fAdd(t1, t2);
  t5 = fSub(t5, X3);
  let Z3 = fMul(A, t4);
  X3 = fMul(B3, t2);
  Z3 = fAdd(X3, Z3);
  X3 = fSub(t1, Z3);
  Z3 = fAdd(t1, Z3);
  let Y3 = fMul(X3, Z3);
  t1 = fAdd(t0, t0);
  t1 = fAdd(t1, t0);
  t2 = fMul(A, t2);
  t4 = fMul(B3, t4);
  t1 = fAdd(t1, t2);
  t2 = fSub(t0, t2);
  t2 = fMul(A, t2);
  t4 = fAdd(t4, t2);
  t0 = fMul(t1, t4);
  Y3 = fAdd(Y3, t0);
  t0 = fMul(t5, t4);
  X3 = fMul(t3, X3);
  X3 = fSub(X3, t0);
  t0 = fMul(t3, t1);
  Z3 = fMul(t5, Z3);
  Z3 = fAdd(Z3, t0);
  return { x: X3, y: Y3, z: Z3 };
}

/** Swaps the two points when bit is 1, by masking (no branch on the bit). */
function cswap(r0: Point, r1: Point, bit: bigint): [Point, Point] {
  const mask = -bit; // 0n or -1n (all ones)
  const dx = (r0.x ^ r1.x) & mask;
  const dy = (r0.y ^ r1.y) & mask;
  const dz = (r0.z ^ r1.z) & mask;
  return [
    { x: r0.x ^ dx, y: r0.y ^ dy, z: r0.z ^ dz },
    { x: r1.x ^ dx, y: r1.y ^ dy, z: r1.z ^ dz },
  ];
}

/** [k]Q by a Montgomery ladder over all 256 bits of k (k < n < 2^256). */
function multiply(k: bigint, q: Point): Point {
  let r0 = IDENTITY;
  let r1 = q;
  for (let i = 255n; i >= 0n; i--) {
    const bit = (k >> i) & 1n;
    [r0, r1] = cswap(r0, r1, bit);
    r1 = add(r0, r1);
    r0 = add(r0, r0);
    [r0, r1] = cswap(r0, r1, bit);
  }
  return r0;
}

/** Affine coordinates, or undefined for the identity. */
function toAffine(q: Point): { x: bigint; y: bigint } | undefined {
  if (q.z === 0n) return undefined;
  const zi = invMod(q.z, P);
  return { x: fMul(q.x, zi), y: fMul(q.y, zi) };
}

function onCurve(x: bigint, y: bigint): boolean {
  if (x < 0n || x >= P || y < 0n || y >= P) return false;
  return fMul(y, y) === fAdd(fAdd(fMul(fMul(x, x), x), fMul(A, x)), B);
}

// ---------------------------------------------------------------------------------------------
// Encodings

const toBigInt = (bytes: Uint8Array): bigint =>
  bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);

function toBytes32(x: bigint): Buffer {
  return Buffer.from(x.toString(16).padStart(64, '0'), 'hex');
}

/** Decodes a 65-byte uncompressed public key (0x04 ‖ x ‖ y) and checks it is a curve point. */
function decodePublicKey(publicKey: Uint8Array): Point {
  if (publicKey.length !== 65 || publicKey[0] !== 0x04)
    throw new Sm2Error('SM2 public key must be 65 bytes, uncompressed (0x04 ‖ x ‖ y)');
  const x = toBigInt(publicKey.subarray(1, 33));
  const y = toBigInt(publicKey.subarray(33));
  // The cofactor is 1, so every curve point other than the identity has order n.
  if (!onCurve(x, y)) throw new Sm2Error('SM2 public key is not a point on sm2p256v1');
  return { x, y, z: 1n };
}

/** Throws Sm2Error unless `publicKey` is a 65-byte uncompressed point on sm2p256v1. */
export function assertSm2PublicKey(publicKey: Uint8Array): void {
  decodePublicKey(publicKey);
}

function decodePrivateKey(privateKey: Uint8Array): bigint {
  if (privateKey.length !== 32) throw new Sm2Error('SM2 private key must be 32 bytes');
  const d = toBigInt(privateKey);
  // d = n - 1 would make 1 + d non-invertible (GB/T 32918.1 §6.1: d ∈ [1, n-2]).
  if (d < 1n || d > N - 2n) throw new Sm2Error('SM2 private key out of range [1, n-2]');
  return d;
}

/** A uniformly random integer in [1, max] from crypto.randomBytes, by rejection sampling. */
function randomScalar(max: bigint): bigint {
  for (;;) {
    const k = toBigInt(randomBytes(32));
    if (k >= 1n && k <= max) return k;
  }
}

/** A new private key: 32 bytes, d uniformly random in [1, n-2]. */
export function generateSm2PrivateKey(): Buffer {
  return toBytes32(randomScalar(N - 2n));
}

/** The 65-byte uncompressed public key [d]G of a private key. */
export function sm2PublicKey(privateKey: Uint8Array): Buffer {
  const point = toAffine(multiply(decodePrivateKey(privateKey), G))!;
  return Buffer.concat([Buffer.from([0x04]), toBytes32(point.x), toBytes32(point.y)]);
}

/** Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A) (GB/T 32918.2 §5.5). */
export function sm2Za(publicKey: Uint8Array, id: Uint8Array = SM2_DEFAULT_ID): Buffer {
  decodePublicKey(publicKey);
  if (id.length >= 8192) throw new Sm2Error('SM2 distinguishing ID must be shorter than 8192 bytes');
  const entl = Buffer.alloc(2);
  entl.writeUInt16BE(id.length * 8);
  return createHash('sm3')
    .update(entl)
    .update(id)
    .update(toBytes32(A))
    .update(toBytes32(B))
    .update(toBytes32(GX))
    .update(toBytes32(GY))
    .update(publicKey.subarray(1))
    .digest();
}

const digestOf = (message: Uint8Array, publicKey: Uint8Array, id: Uint8Array): bigint =>
  toBigInt(createHash('sm3').update(sm2Za(publicKey, id)).update(message).digest());

export interface Sm2Options {
  /** Distinguishing ID; default `1234567812345678`. */
  id?: Uint8Array;
}

/**
 * Signs `message` (the hash e = SM3(Z_A ‖ M) is computed here). Returns the 64-byte r ‖ s
 * (big-endian, 32 bytes each); see sm2SignatureToDer for the ASN.1 form OpenSSL uses.
 * `publicKey` saves a scalar multiplication when the caller already has it.
 */
export function sm2Sign(
  message: Uint8Array,
  privateKey: Uint8Array,
  options: Sm2Options & { publicKey?: Uint8Array } = {},
): Buffer {
  const d = decodePrivateKey(privateKey);
  const publicKey = options.publicKey ?? sm2PublicKey(privateKey);
  const e = digestOf(message, publicKey, options.id ?? SM2_DEFAULT_ID);
  const dInv = invMod(1n + d, N);
  for (;;) {
    const k = randomScalar(N - 1n);
    const x1 = toAffine(multiply(k, G))!.x;
    const r = (e + x1) % N;
    if (r === 0n || r + k === N) continue;
    const s = (dInv * ((k + N - ((r * d) % N)) % N)) % N;
    if (s === 0n) continue;
    return Buffer.concat([toBytes32(r), toBytes32(s)]);
  }
}

/**
 * Verifies a 64-byte r ‖ s signature. False for any invalid signature, including r or s outside
 * [1, n-1]; throws Sm2Error only for a malformed public key.
 */
export function sm2Verify(
  message: Uint8Array,
  signature: Uint8Array,
  publicKey: Uint8Array,
  options: Sm2Options = {},
): boolean {
  const q = decodePublicKey(publicKey);
  if (signature.length !== 64) return false;
  const r = toBigInt(signature.subarray(0, 32));
  const s = toBigInt(signature.subarray(32));
  if (r < 1n || r >= N || s < 1n || s >= N) return false;
  const t = (r + s) % N;
  if (t === 0n) return false;
  const e = digestOf(message, publicKey, options.id ?? SM2_DEFAULT_ID);
  const point = toAffine(add(multiply(s, G), multiply(t, q)));
  if (!point) return false;
  return (e + point.x) % N === r;
}

// ---------------------------------------------------------------------------------------------
// DER: signatures (SEQUENCE { r INTEGER, s INTEGER }), PKCS#8 private keys, SPKI public keys.

const OID_EC_PUBLIC_KEY = Buffer.from('06072a8648ce3d0201', 'hex'); // 1.2.840.10045.2.1
const OID_SM2 = Buffer.from('06082a811ccf5501822d', 'hex'); // 1.2.156.10197.1.301
const SM2_ALGORITHM = der(0x30, Buffer.concat([OID_EC_PUBLIC_KEY, OID_SM2]));

function der(tag: number, content: Uint8Array): Buffer {
  const len = content.length;
  const header =
    len < 0x80
      ? Buffer.from([tag, len])
      : len < 0x100
        ? Buffer.from([tag, 0x81, len])
        : Buffer.from([tag, 0x82, len >> 8, len & 0xff]);
  return Buffer.concat([header, content]);
}

function derUnsigned(x: Uint8Array): Buffer {
  let i = 0;
  while (i < x.length - 1 && x[i] === 0) i++;
  const body = Buffer.from(x.subarray(i));
  return der(0x02, body[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), body]) : body);
}

interface DerItem {
  tag: number;
  content: Buffer;
  rest: Buffer;
}

/** Reads one DER TLV (definite, minimal lengths only). */
function readDer(input: Buffer, what: string): DerItem {
  if (input.length < 2) throw new Sm2Error(`${what}: truncated DER`);
  const tag = input[0]!;
  let len = input[1]!;
  let offset = 2;
  if (len & 0x80) {
    const count = len & 0x7f;
    if (count < 1 || count > 2 || input.length < 2 + count) throw new Sm2Error(`${what}: bad DER length`);
    len = count === 1 ? input[2]! : (input[2]! << 8) | input[3]!;
    if (len < 0x80 || (count === 2 && len < 0x100)) throw new Sm2Error(`${what}: non-minimal DER length`);
    offset += count;
  }
  if (input.length < offset + len) throw new Sm2Error(`${what}: truncated DER`);
  return { tag, content: input.subarray(offset, offset + len), rest: input.subarray(offset + len) };
}

function expectDer(input: Buffer, tag: number, what: string): DerItem {
  const item = readDer(input, what);
  if (item.tag !== tag) throw new Sm2Error(`${what}: unexpected DER tag 0x${item.tag.toString(16)}`);
  return item;
}

/** A DER INTEGER that must be non-negative and minimally encoded, as 32 bytes. */
function readUnsigned32(input: Buffer, what: string): { value: Buffer; rest: Buffer } {
  const { content, rest } = expectDer(input, 0x02, what);
  if (content.length === 0 || content[0]! & 0x80) throw new Sm2Error(`${what}: negative or empty INTEGER`);
  if (content.length > 1 && content[0] === 0 && !(content[1]! & 0x80))
    throw new Sm2Error(`${what}: non-minimal INTEGER`);
  const bytes = content[0] === 0 ? content.subarray(1) : content;
  if (bytes.length > 32) throw new Sm2Error(`${what}: INTEGER longer than 32 bytes`);
  return { value: Buffer.concat([Buffer.alloc(32 - bytes.length), bytes]), rest };
}

/** r ‖ s (64 bytes) → DER SEQUENCE { r, s } as OpenSSL and GM/T 0009 encode SM2 signatures. */
export function sm2SignatureToDer(signature: Uint8Array): Buffer {
  if (signature.length !== 64) throw new Sm2Error('SM2 signature must be 64 bytes (r ‖ s)');
  return der(
    0x30,
    Buffer.concat([derUnsigned(signature.subarray(0, 32)), derUnsigned(signature.subarray(32))]),
  );
}

/** DER SEQUENCE { r, s } → r ‖ s (64 bytes); rejects non-canonical DER and trailing bytes. */
export function sm2SignatureFromDer(signature: Uint8Array): Buffer {
  const what = 'SM2 signature';
  const seq = expectDer(Buffer.from(signature), 0x30, what);
  if (seq.rest.length) throw new Sm2Error(`${what}: trailing bytes`);
  const r = readUnsigned32(seq.content, what);
  const s = readUnsigned32(r.rest, what);
  if (s.rest.length) throw new Sm2Error(`${what}: trailing bytes in SEQUENCE`);
  return Buffer.concat([r.value, s.value]);
}

/** PKCS#8 (RFC 5208/5915) DER of an SM2 private key, as `openssl genpkey -algorithm SM2` writes it. */
export function sm2PrivateKeyToPkcs8(privateKey: Uint8Array): Buffer {
  decodePrivateKey(privateKey);
  const ecPrivateKey = der(
    0x30,
    Buffer.concat([
      Buffer.from('020101', 'hex'),
      der(0x04, privateKey),
      der(0xa1, der(0x03, Buffer.concat([Buffer.from([0]), sm2PublicKey(privateKey)]))),
    ]),
  );
  return der(0x30, Buffer.concat([Buffer.from('020100', 'hex'), SM2_ALGORITHM, der(0x04, ecPrivateKey)]));
}

/**
 * The 32-byte private key from PKCS#8 DER (id-ecPublicKey with the SM2 curve). An embedded
 * public key must match the private key.
 */
export function sm2PrivateKeyFromPkcs8(pkcs8: Uint8Array): Buffer {
  const what = 'SM2 PKCS#8 key';
  const outer = expectDer(Buffer.from(pkcs8), 0x30, what);
  if (outer.rest.length) throw new Sm2Error(`${what}: trailing bytes`);
  const version = expectDer(outer.content, 0x02, what);
  if (!version.content.equals(Buffer.from([0])) && !version.content.equals(Buffer.from([1])))
    throw new Sm2Error(`${what}: unsupported version`);
  const alg = expectDer(version.rest, 0x30, what);
  if (!Buffer.concat([OID_EC_PUBLIC_KEY, OID_SM2]).equals(alg.content))
    throw new Sm2Error(`${what}: not an SM2 key (expected id-ecPublicKey with curve 1.2.156.10197.1.301)`);
  const inner = expectDer(expectDer(alg.rest, 0x04, what).content, 0x30, what);
  const ecVersion = expectDer(inner.content, 0x02, what);
  if (!ecVersion.content.equals(Buffer.from([1]))) throw new Sm2Error(`${what}: unsupported ECPrivateKey`);
  const secret = expectDer(ecVersion.rest, 0x04, what);
  if (secret.content.length > 32) throw new Sm2Error(`${what}: private key longer than 32 bytes`);
  const d = Buffer.concat([Buffer.alloc(32 - secret.content.length), secret.content]);
  decodePrivateKey(d);
  let rest = secret.rest;
  while (rest.length) {
    const item = readDer(rest, what);
    if (item.tag === 0xa0 && !item.content.equals(OID_SM2))
      throw new Sm2Error(`${what}: curve parameters are not SM2`);
    if (item.tag === 0xa1) {
      const bits = expectDer(item.content, 0x03, what).content;
      if (bits[0] !== 0 || !bits.subarray(1).equals(sm2PublicKey(d)))
        throw new Sm2Error(`${what}: embedded public key does not match the private key`);
    }
    rest = item.rest;
  }
  return d;
}

/** SubjectPublicKeyInfo DER of a 65-byte SM2 public key (for `openssl pkeyutl -pubin`). */
export function sm2PublicKeyToSpki(publicKey: Uint8Array): Buffer {
  decodePublicKey(publicKey);
  return der(0x30, Buffer.concat([SM2_ALGORITHM, der(0x03, Buffer.concat([Buffer.from([0]), publicKey]))]));
}

/** The 65-byte public key from SubjectPublicKeyInfo DER. */
export function sm2PublicKeyFromSpki(spki: Uint8Array): Buffer {
  const what = 'SM2 public key';
  const outer = expectDer(Buffer.from(spki), 0x30, what);
  if (outer.rest.length) throw new Sm2Error(`${what}: trailing bytes`);
  const alg = expectDer(outer.content, 0x30, what);
  if (!Buffer.concat([OID_EC_PUBLIC_KEY, OID_SM2]).equals(alg.content))
    throw new Sm2Error(`${what}: not an SM2 key`);
  const bits = expectDer(alg.rest, 0x03, what);
  if (bits.rest.length || bits.content[0] !== 0) throw new Sm2Error(`${what}: malformed BIT STRING`);
  const publicKey = Buffer.from(bits.content.subarray(1));
  decodePublicKey(publicKey);
  return publicKey;
}
