/**
 * Envelopes encrypted ahead of the pulls (EmulatedCorp.sealEnvelopes): their JSON texts stored
 * back to back in large buffers, outside the JavaScript heap, so a GetChatData page of up to 1000
 * envelopes is served as a slice instead of being built from strings on every pull.
 */
const COMMA = Buffer.from(',');

export class SealedEnvelopes {
  private readonly chunks: Buffer[] = [];
  private used = 0;
  private readonly chunkOf: Uint32Array;
  private readonly starts: Uint32Array;
  private readonly ends: Uint32Array;
  private size = 0;

  /** `chunkBytes`: the size of each buffer (smaller in tests, to cross chunk boundaries). */
  constructor(
    capacity: number,
    private readonly chunkBytes = 64 * 2 ** 20,
  ) {
    this.chunkOf = new Uint32Array(capacity);
    this.starts = new Uint32Array(capacity);
    this.ends = new Uint32Array(capacity);
  }

  get count(): number {
    return this.size;
  }

  append(envelope: string): void {
    const bytes = Buffer.byteLength(envelope);
    if (this.chunks.length === 0 || this.used + bytes + 1 > this.chunks.at(-1)!.length) {
      this.chunks.push(Buffer.allocUnsafe(Math.max(this.chunkBytes, bytes + 1)));
      this.used = 0;
    }
    const chunk = this.chunks.at(-1)!;
    const i = this.size++;
    this.chunkOf[i] = this.chunks.length - 1;
    this.starts[i] = this.used;
    this.ends[i] = this.used + chunk.write(envelope, this.used);
    chunk[this.ends[i]!] = 0x2c; // ',' after every envelope, so neighbours form a JSON list
    this.used = this.ends[i]! + 1;
  }

  /** Envelopes [start, end) as comma-separated pieces (one per chunk the range crosses). */
  pieces(start: number, end: number): Buffer[] {
    const out: Buffer[] = [];
    let i = start;
    while (i < end) {
      const chunk = this.chunkOf[i]!;
      let last = i;
      while (last + 1 < end && this.chunkOf[last + 1] === chunk) last++;
      if (out.length > 0) out.push(COMMA);
      out.push(this.chunks[chunk]!.subarray(this.starts[i], this.ends[last]));
      i = last + 1;
    }
    return out;
  }
}
