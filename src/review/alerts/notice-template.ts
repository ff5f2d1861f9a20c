import type { Alert } from '../types.js';

const CATEGORY_NAMES: Record<string, string> = {
  bribery: '商业贿赂（回扣、返点）',
  private_deal: '飞单、私单',
  data_leak: '客户信息泄露',
  evidence_destruction: '删除记录（删档）',
  return_promise: '违规承诺收益',
  insider_info: '内幕信息',
  harassment: '骚扰',
  sensitive_behaviour: '敏感行为',
};

/**
 * The notice an employee receives when a finding about them is confirmed (PIPL: people are told
 * what was decided about them and how to object). Chinese first, English after.
 */
export function noticeFor(
  name: string,
  alert: Pick<Alert, 'id' | 'category' | 'windowStart' | 'windowEnd'>,
): string {
  const day = (d: Date) => d.toISOString().slice(0, 10);
  const period =
    day(alert.windowStart) === day(alert.windowEnd)
      ? day(alert.windowStart)
      : `${day(alert.windowStart)} 至 ${day(alert.windowEnd)}`;
  const category = CATEGORY_NAMES[alert.category] ?? alert.category;
  return (
    `${name}，您好：\n经合规部门复核，您在 ${period} 的企业微信会话被确认存在「${category}」合规风险（告警 #${alert.id}）。` +
    `您可以在 Vigil 中查看相关记录；如有异议，请在 15 日内提出申诉，申诉将由未参与本次复核的人员处理。\n\n` +
    `Dear ${name}, compliance review confirmed a "${alert.category}" risk in your WeCom conversations of ${period} ` +
    `(alert #${alert.id}). You can read the records in Vigil and appeal within 15 days; someone who took no part in the review decides the appeal.`
  );
}
