export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export type AlertSource = 'detection' | 'sampling' | 'recheck';
export type AlertStatus = 'open' | 'in_review' | 'awaiting_second' | 'escalated' | 'closed';

export const DISPOSITIONS = [
  'violation_confirmed',
  'compliant',
  'questionable',
  'false_positive',
  'escalated',
] as const;
export type Disposition = (typeof DISPOSITIONS)[number];

export interface ReviewQueue {
  id: string;
  corpId: number;
  name: string;
  position: number;
  policyIds: number[] | null;
  categories: string[] | null;
  departmentIds: number[] | null;
  severities: Severity[] | null;
  sources: AlertSource[] | null;
  firstActionHours: number;
  resolutionHours: number;
  remindBeforeHours: number;
  confirmNeedsSecond: boolean;
  dualReviewSeverities: Severity[];
}

/** What a new alert is about, before routing gives it a queue and deadlines. */
export interface AlertDraft {
  source: AlertSource;
  conversationId: string;
  windowStart: Date;
  windowEnd: Date;
  category: string;
  severity: Severity;
  ruleIds?: string[];
  policyIds?: number[];
  msgids?: string[];
  /** The employees the alert is about (their departments route it). */
  employeeUserids: string[];
  priority?: number;
  recheckOf?: string | null;
  samplingRunId?: string | null;
}

export interface Alert {
  id: string;
  corpId: number;
  source: AlertSource;
  conversationId: string;
  windowStart: Date;
  windowEnd: Date;
  category: string;
  severity: Severity;
  ruleIds: string[];
  policyIds: number[];
  msgids: string[];
  employeeUserids: string[];
  priority: number;
  queueId: string | null;
  status: AlertStatus;
  assigneeId: string | null;
  firstActionDue: Date;
  resolutionDue: Date;
  firstActionAt: Date | null;
  remindedAt: Date | null;
  escalatedAt: Date | null;
  breached: boolean;
  proposedDisposition: Disposition | null;
  proposedBy: string | null;
  disposition: Disposition | null;
  closedAt: Date | null;
  recheckOf: string | null;
  samplingRunId: string | null;
  duplicateCount: number;
  createdAt: Date;
}
