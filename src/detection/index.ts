/** Public API of the detection engine (issue #5). */
export type * from './types.js';
export { SEVERITIES } from './types.js';
export { compilePolicySet, CompiledPolicySet, type StepResult } from './rules/policy-set.js';
export { PolicyError, type PolicyIssue } from './rules/errors.js';
export { Engine } from './engine.js';
export { ConversationTracker, type TrackerOptions } from './conversation.js';
export { FindingGrouper, DEFAULT_GROUPER_OPTIONS, type Finding, type GrouperOptions } from './findings.js';
export { fromWecomMessage, WecomMessageError, type WecomContext } from './wecom-message.js';
export { parseCanonicalMessage, canonicalMessageSchema } from './canonical-schema.js';
export {
  scanJsonl,
  loadTemplate,
  listTemplates,
  templateDocument,
  compilePolicyFile,
  toCanonical,
  type ScanSummary,
} from './scan.js';
export { TermMatcher, type TermHit, type TermInput } from './matcher/term-matcher.js';
export type { TermOptions } from './matcher/term-patterns.js';
export { detectPii, PII_KINDS, type PiiHit, type PiiKind } from './pii/detect.js';
export { normalizeText } from './normalize/fold.js';
