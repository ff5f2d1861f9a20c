export interface Me {
  user: { id: string; username: string };
  stage: 'totp' | 'enrol' | 'full';
  totpEnrolled: boolean;
  roles: Array<{ role: string; corpId: number | null; departmentId: number | null }>;
  permissions: string[];
  corps: Array<{ id: number; slug: string; name: string }>;
  csrfToken?: string;
}

export interface ViewedMessage {
  msgid: string;
  msgTime: string;
  msgtype: string;
  action: string;
  senderId: string | null;
  conversationId: string;
  content: { state: 'ok'; raw: string } | { state: 'destroyed' } | { state: 'unreadable'; reason: string };
  highlight: { snippet: string; ranges: Array<{ start: number; end: number }> } | null;
}

export interface Page {
  items: ViewedMessage[];
  next: string | null;
  watermark: string;
}

export interface Alert {
  id: string;
  source: string;
  conversationId: string;
  windowStart: string;
  windowEnd: string;
  category: string;
  severity: 'low' | 'medium' | 'high' | 'critical';
  ruleIds: string[];
  msgids: string[];
  employeeUserids: string[];
  priority: number;
  queueId: string | null;
  status: 'open' | 'in_review' | 'awaiting_second' | 'escalated' | 'closed';
  assigneeId: string | null;
  resolutionDue: string;
  breached: boolean;
  proposedDisposition: string | null;
  proposedBy: string | null;
  disposition: string | null;
}

export interface Hit {
  msgid: string;
  ruleId: string;
  term: string;
  category: string;
  start: number | null;
  end: number | null;
}

export interface Decision {
  id: string;
  reviewerId: string;
  stage: string;
  disposition: string | null;
  comment: string | null;
  createdAt: string;
}

export interface AlertDetail {
  alert: Alert;
  hits: Hit[];
  decisions: Decision[];
  context: ViewedMessage[];
  watermark: string;
}

export interface Grant {
  id: string;
  requesterId: string;
  actions: string[];
  reason: string;
  status: string;
  breakGlass: boolean;
  durationMinutes: number;
  validUntil: string | null;
  requestedAt: string;
}

export interface Notice {
  id: string;
  alertId: string;
  body: string;
  category: string;
  conversationId: string;
  createdAt: string;
  appeal: { id: string; status: string; statement: string; decisionNote: string | null } | null;
}

export interface CaseEvent {
  id: string;
  actorId: string | null;
  kind: string;
  body: string | null;
  createdAt: string;
}

export interface Case {
  id: string;
  title: string;
  status: 'open' | 'closed';
  legalHold: boolean;
  createdBy: string;
  createdAt: string;
  closedAt: string | null;
  alertIds: string[];
  participants: Array<{ userId: string; role: string }>;
  timeline: CaseEvent[];
}

export interface AuditEvent {
  seq: string;
  kind: 'event' | 'anchor';
  corpId: number | null;
  occurredAt: string;
  actor: string;
  actorIp: string | null;
  action: string;
  resourceType: string | null;
  resourceIds: string[];
  reason: string | null;
  result: 'allowed' | 'denied' | 'failed';
  details: Record<string, unknown>;
}

export interface AuditProblem {
  seq: string;
  kind: string;
  message: string;
}

export interface AuditVerification {
  ok: boolean;
  checked: number;
  first: string | null;
  last: string | null;
  treeSize: number | null;
  rootHash: string | null;
  checkpointsChecked: number;
  checkpointsSkipped: number;
  firstProblem?: AuditProblem;
  problems: AuditProblem[];
}

export interface AuditCheckpoint {
  id: string;
  treeSize: number;
  note: string;
  createdAt: string;
  verifierKey: string;
}

export interface CaptureHealth {
  corpId: number;
  wecomCorpId: string;
  enabled: boolean;
  status: 'ok' | 'warning' | 'critical' | 'not_started';
  cursor: {
    seq: string;
    pulledTotal: number;
    lastPullAt: string | null;
    lastNewAt: string | null;
    lastError: string | null;
    lastErrorAt: string | null;
  };
  windowRemainingSeconds: number | null;
  newestMessageAt: string | null;
  envelopes: { pending: number; archived: number; held_key: number; quarantined: number };
  decryptProblemsByKeyVersion: Array<{ publickeyVer: number | null; held: number; quarantined: number }>;
  media: { pending: number; stored: number; failed: number; expired: number };
  unknownTypes: number;
}

export interface QuarantinedEnvelope {
  msgid: string;
  seq: string;
  state: 'held_key' | 'quarantined';
  reason: string | null;
  publickey_ver: number | null;
}

export interface RoleAssignment {
  id: string;
  role: string;
  corpId: number | null;
  departmentId: number | null;
}

export interface UserAccount {
  id: string;
  username: string;
  displayName: string | null;
  corpId: number | null;
  employeeUserid: string | null;
  totpEnrolled: boolean;
  disabled: boolean;
  locked: boolean;
  createdAt: string;
  roles: RoleAssignment[];
}

export interface ReviewQueue {
  id: string;
  name: string;
  position: number;
  policyIds: number[] | null;
  categories: string[] | null;
  departmentIds: number[] | null;
  severities: Array<Alert['severity']> | null;
  sources: Array<'detection' | 'sampling' | 'recheck'> | null;
  firstActionHours: number;
  resolutionHours: number;
  remindBeforeHours: number;
  confirmNeedsSecond: boolean;
  dualReviewSeverities: Array<Alert['severity']>;
}
