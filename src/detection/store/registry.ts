import type { Pool } from '../../platform/db/pool.js';
import type { Logger } from '../../platform/logging/logger.js';
import type { TrackerOptions } from '../conversation.js';
import { Engine } from '../engine.js';
import { PolicyError } from '../rules/errors.js';
import { compilePolicySet, type CompiledPolicySet } from '../rules/policy-set.js';
import { PolicyRepository } from './policy.repository.js';

/** Which stored policy version a compiled policy set id came from. */
export interface PolicySource {
  policyId: number;
  version: number;
}

/** A corp's compiled enabled policies, and the engine ingest feeds (its conversation state). */
export interface ActivePolicies {
  corpId: number;
  /** The database stamp the set was compiled at. */
  stamp: string;
  engine: Engine;
  /** policy set id (the document's id) → stored policy and version. */
  sources: ReadonlyMap<string, PolicySource>;
  /** Why the latest compile failed (the previous set stays active), if it did. */
  error?: string;
}

interface Entry {
  active: ActivePolicies;
  checkedAt: number;
  refreshing?: Promise<ActivePolicies>;
}

export interface RegistryOptions {
  /** How often (at most) a corp's stamp is read from the database. */
  checkIntervalMs: number;
  /** Corps kept compiled in memory; the least recently used is dropped first. */
  maxCorps: number;
  /** Conversation state bounds per corp (Engine.process callers; ingest keeps windows in the database). */
  tracker: Partial<TrackerOptions>;
  logger?: Logger;
  now: () => number;
}

const EMPTY_SOURCES: ReadonlyMap<string, PolicySource> = new Map();

/**
 * Compiles each corp's enabled policies (all-corps ones and its own) into one CompiledPolicySet
 * and keeps it per corp with the stamp it was read at. At most every `checkIntervalMs` the stamp
 * is read again; when it changed (any process saved, enabled or disabled a policy), the set is
 * recompiled and swapped into the corp's Engine atomically (`Engine.swap`): a scan in progress
 * finishes with the old set. A set that fails to compile is logged and the previous one stays.
 */
export class PolicyRegistry {
  private readonly entries = new Map<number, Entry>();
  private readonly opts: RegistryOptions;

  constructor(
    private readonly pool: Pool,
    options: Partial<RegistryOptions> = {},
  ) {
    this.opts = {
      checkIntervalMs: 5_000,
      maxCorps: 200,
      tracker: { maxConversations: 20_000, maxEntriesPerConversation: 200 },
      now: Date.now,
      ...options,
    };
  }

  /** The corp's active policies, re-checked against the database at most every checkIntervalMs. */
  async active(corpId: number): Promise<ActivePolicies> {
    const entry = this.entries.get(corpId);
    if (entry) {
      this.entries.delete(corpId); // re-insert: Map order doubles as LRU
      this.entries.set(corpId, entry);
      if (this.opts.now() - entry.checkedAt < this.opts.checkIntervalMs) return entry.active;
      entry.refreshing ??= this.refresh(corpId, entry).finally(() => (entry.refreshing = undefined));
      return entry.refreshing;
    }
    const created: Entry = {
      active: { corpId, stamp: '', engine: new Engine(compilePolicySet([])), sources: EMPTY_SOURCES },
      checkedAt: 0,
    };
    this.entries.set(corpId, created);
    if (this.entries.size > this.opts.maxCorps) this.entries.delete(this.entries.keys().next().value!);
    created.refreshing = this.refresh(corpId, created).finally(() => (created.refreshing = undefined));
    return created.refreshing;
  }

  /** Makes the next `active` call re-read the stamp (this process changed a policy). Null: every corp. */
  invalidate(corpId: number | null): void {
    for (const [id, entry] of this.entries) if (corpId === null || id === corpId) entry.checkedAt = 0;
  }

  /**
   * Compiles the corp's current enabled policies into a fresh set (not swapped anywhere):
   * for rescans and back-tests that need their own engine.
   */
  async compile(
    corpId: number,
  ): Promise<{ policy: CompiledPolicySet; sources: Map<string, PolicySource>; stamp: string }> {
    const repo = new PolicyRepository(this.pool);
    const stamp = await repo.stamp(corpId); // read before the documents: a later change re-triggers
    const docs = await repo.activeDocuments(corpId);
    return {
      policy: compilePolicySet(docs.map((d) => d.document)),
      sources: new Map(docs.map((d) => [d.key, { policyId: d.policyId, version: d.version }])),
      stamp,
    };
  }

  private async refresh(corpId: number, entry: Entry): Promise<ActivePolicies> {
    const stamp = await new PolicyRepository(this.pool).stamp(corpId);
    entry.checkedAt = this.opts.now();
    if (stamp === entry.active.stamp) return entry.active;
    try {
      const next = await this.compile(corpId);
      const engine = entry.active.engine;
      engine.swap(next.policy);
      entry.active = { corpId, stamp: next.stamp, engine, sources: next.sources };
      this.opts.logger?.info(
        { corpId, policies: [...next.sources.keys()], rules: next.policy.rules.length },
        'detection policies compiled',
      );
    } catch (e) {
      if (!(e instanceof PolicyError)) {
        entry.checkedAt = 0; // e.g. a database error: try again on the next call
        throw e;
      }
      this.opts.logger?.error(
        { corpId, err: e.message },
        'detection policies failed to compile; keeping the previous set',
      );
      // Remember the stamp so the same broken set is not recompiled every few seconds.
      entry.active = { ...entry.active, stamp, error: e.message };
    }
    return entry.active;
  }
}
