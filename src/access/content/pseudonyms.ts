import { createHmac } from 'node:crypto';

/** Which participants a corp shows under pseudonyms (corps.pseudonyms). */
export type PseudonymMode = 'none' | 'external' | 'all';

const EXTERNAL_ID = /^w[mo]/; // external contacts: wm…/wo…; robots (wb…) and employees otherwise

/**
 * Stable pseudonyms: the same person gets the same name in every result for a corp, and only a
 * holder of the corp's pseudonym key can link it back — which Vigil does only under a reveal
 * grant. Free text is not rewritten: names typed into messages stay as written.
 */
export class Pseudonymizer {
  constructor(
    private readonly key: Buffer,
    readonly mode: PseudonymMode,
    /** The viewer's own employee id: people always see themselves by name. */
    private readonly viewerUserid: string | null,
  ) {}

  /** Whether this id is shown under a pseudonym. */
  applies(id: string): boolean {
    if (this.mode === 'none' || id === this.viewerUserid) return false;
    if (id.startsWith('wb')) return false; // robots are not people
    return this.mode === 'all' || EXTERNAL_ID.test(id);
  }

  /** 客户-XXXXXX for external contacts, 员工-XXXXXX for employees. */
  pseudonymOf(id: string): string {
    const digest = createHmac('sha256', this.key).update(id, 'utf8').digest();
    const tag = digest.readUIntBE(0, 5).toString(36).toUpperCase().padStart(8, '0').slice(-8);
    return `${EXTERNAL_ID.test(id) ? '客户' : '员工'}-${tag}`;
  }

  /** The id as the viewer sees it. */
  show(id: string): string;
  show(id: string | null): string | null;
  show(id: string | null): string | null {
    return id !== null && this.applies(id) ? this.pseudonymOf(id) : id;
  }

  /** A WeCom message JSON with `from` and `tolist` pseudonymised. */
  applyToWecomJson(raw: string): string {
    if (this.mode === 'none') return raw;
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return raw;
    }
    if (typeof parsed.from === 'string') parsed.from = this.show(parsed.from);
    if (Array.isArray(parsed.tolist))
      parsed.tolist = parsed.tolist.map((t) => (typeof t === 'string' ? this.show(t) : t));
    return JSON.stringify(parsed);
  }

  /** The id among `candidates` behind a pseudonym, if any. */
  reveal(pseudonym: string, candidates: readonly string[]): string | undefined {
    return candidates.find((c) => this.applies(c) && this.pseudonymOf(c) === pseudonym);
  }
}
