import type { RE2JS } from 're2js';
import type { PiiKind } from '../pii/detect.js';
import type { CanonicalMessage } from '../types.js';

/** A compiled condition: a small tagged tree the evaluator walks. */
export type CondNode =
  | { k: 'terms'; groups: readonly string[]; label: string }
  | { k: 'regex'; re: RE2JS; source: string; raw: boolean }
  | { k: 'pii'; kinds: readonly PiiKind[] }
  | { k: 'behaviour'; name: string; test: (m: CanonicalMessage) => boolean }
  | { k: 'all' | 'any'; items: readonly CondNode[] }
  | { k: 'not'; item: CondNode }
  | { k: 'near'; items: readonly CondNode[]; within: number };

/** Scope checks that run before any condition. */
export interface CompiledScope {
  corpIds?: ReadonlySet<string>;
  departmentIds?: ReadonlySet<number>;
  employeeIds?: ReadonlySet<string>;
  sensitivePostsOnly?: boolean;
  conversationKinds?: ReadonlySet<string>;
  directions?: ReadonlySet<string>;
  senderKinds?: ReadonlySet<string>;
}

/** A compiled rule: message-level (`when`) or conversation-level (`conversation`). */
export interface CompiledRule {
  id: string;
  name: string;
  category: string;
  severity: 'low' | 'medium' | 'high' | 'critical';
  policySetId: string;
  when?: CondNode;
  conversation?: { messages?: number; minutes?: number; steps: readonly CondNode[] };
  scope?: CompiledScope;
  exclude?: CondNode;
}
