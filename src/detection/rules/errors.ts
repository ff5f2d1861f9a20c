/** One problem in a policy document, located by rule (or lexicon) id and path. */
export interface PolicyIssue {
  /** "rule bribery.kickback", "lexicon kickback" or "policy set". */
  where: string;
  path: string;
  message: string;
}

/** Thrown when a policy document is invalid; the message lists every issue found. */
export class PolicyError extends Error {
  constructor(readonly issues: PolicyIssue[]) {
    super(
      `invalid policy:\n` +
        issues.map((i) => `  - ${i.where}${i.path ? ` at ${i.path}` : ''}: ${i.message}`).join('\n'),
    );
    this.name = 'PolicyError';
  }
}
