import { useQuery } from '@tanstack/react-query';
import { get } from './client.js';

/** A conversation in a list (GET /corps/:corp/conversations): no content, names as the access service shows them. */
export interface ConversationSummary {
  id: string;
  kind: 'internal' | 'external' | 'group';
  title: string | null;
  lastMessageAt: string;
  memberCount: number;
  counterparts: Array<{ id: string; kind: 'employee' | 'external' | 'robot'; name: string | null }>;
}

export interface ConversationList {
  items: ConversationSummary[];
  next: string | null;
  watermark: string;
}

/** One published version of the monitoring notice (PIPL 告知); never changed once published. */
export interface PrivacyNotice {
  version: number;
  title: string;
  body: string;
  titleEn: string | null;
  bodyEn: string | null;
  effectiveOn: string;
  digest: string;
  publishedBy: string;
  publishedAt: string;
}

export interface Acknowledgement {
  id: string;
  version: number;
  employeeUserid: string;
  userId: string;
  acknowledgedAt: string;
  ip: string | null;
  userAgent: string | null;
}

export interface MyNoticeState {
  notice: PrivacyNotice | null;
  acknowledgement: Acknowledgement | null;
  employeeUserid: string | null;
}

export interface Coverage {
  version: number | null;
  effectiveOn: string | null;
  employees: number;
  acknowledged: number;
  pending: number;
  missing: Array<{ userid: string; name: string; department: string | null; hasAccount: boolean }>;
  truncated: boolean;
}

export const myNoticeKey = (corp: string) => ['privacy-notice', corp];

/** The notice in force and the signed-in person's acknowledgement of it (shared by the page and the banner). */
export function useMyNotice(corp: string, enabled = true) {
  return useQuery({
    queryKey: myNoticeKey(corp),
    queryFn: () => get<MyNoticeState>(`/api/v1/corps/${corp}/me/privacy-notice`),
    enabled: enabled && corp !== '',
  });
}

/** The notice in the console's language: English when chosen and published, else the binding Chinese text. */
export function noticeText(notice: PrivacyNotice, language: string): { title: string; body: string } {
  if (language === 'en' && notice.bodyEn !== null)
    return { title: notice.titleEn ?? notice.title, body: notice.bodyEn };
  return { title: notice.title, body: notice.body };
}
