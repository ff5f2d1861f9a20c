import { ConversationTracker, type TrackerOptions } from './conversation.js';
import type { CompiledPolicySet } from './rules/policy-set.js';
import type { CanonicalMessage, Hit } from './types.js';

/**
 * Holds the active policy set. `swap` replaces it with one reference assignment, so a scan in
 * progress keeps the set it started with and the next message sees the new one.
 */
export class Engine {
  private active: { policy: CompiledPolicySet; tracker: ConversationTracker };

  constructor(
    policy: CompiledPolicySet,
    private readonly trackerOptions: Partial<TrackerOptions> = {},
  ) {
    this.active = { policy, tracker: new ConversationTracker(policy, trackerOptions) };
  }

  get policy(): CompiledPolicySet {
    return this.active.policy;
  }

  /** Installs a new policy set and returns the old one; conversation windows restart. */
  swap(policy: CompiledPolicySet): CompiledPolicySet {
    const old = this.active.policy;
    this.active = { policy, tracker: new ConversationTracker(policy, this.trackerOptions) };
    return old;
  }

  /** Message-level and conversation-level hits; feed each conversation in time order. */
  process(m: CanonicalMessage): Hit[] {
    return this.active.tracker.push(m);
  }

  /** Message-level hits only, without touching conversation state. */
  scanMessage(m: CanonicalMessage): Hit[] {
    return this.active.policy.scanMessage(m);
  }
}
