/** Deterministic benchmark data: a 10,000-term business lexicon and chat-like text. */
import { HARD_NEGATIVES, NEGATIVES, POSITIVES } from '../../src/detection/corpus/phrases.js';
import { prng } from '../../test/support/prng.js';

/** Two-character morphemes from procurement, sales, finance and office chat. */
const MORPHEMES = (
  '客户 合同 项目 采购 招标 投标 回扣 返点 报价 底价 订单 货款 发票 账户 转账 现金 红包 佣金 提成 费用 ' +
  '审批 领导 经理 老板 财务 销售 渠道 代理 供应 厂家 仓库 物流 样品 质量 售后 退款 折扣 优惠 活动 会员 ' +
  '理财 基金 股票 收益 利息 本金 保险 贷款 信用 额度 风险 资金 账期 结算 对账 预算 成本 利润 税务 审计 ' +
  '名单 资料 信息 数据 电话 微信 邮箱 地址 身份 证件 银行 卡号 密码 系统 后台 权限 记录 聊天 截图 文件 ' +
  '会议 培训 考核 绩效 工资 奖金 福利 加班 请假 出差 报销 印章 公章 合规 风控 法务 监管 检查 整改 处罚 ' +
  '私下 内部 公开 公告 停牌 重组 并购 收购 业绩 财报 年报 股价 涨停 市场 行业 竞争 品牌 广告 推广 直播'
).split(' ');

/** 10,000 distinct 2–6 character terms: morphemes and compounds of two or three of them. */
export function buildLexicon(size = 10_000, seed = 1): string[] {
  const rand = prng(seed);
  const terms = new Set<string>(MORPHEMES);
  const pick = (): string => MORPHEMES[Math.floor(rand() * MORPHEMES.length)]!;
  while (terms.size < size) {
    const r = rand();
    if (r < 0.7) terms.add(pick() + pick());
    else if (r < 0.85) terms.add(pick() + pick().slice(0, 1));
    else terms.add(pick() + pick() + pick().slice(0, 1));
  }
  return [...terms];
}

const LINES = [
  ...NEGATIVES,
  ...HARD_NEGATIVES,
  ...Object.values(POSITIVES)
    .flat()
    .map((l) => l.replace(/[[\]]/g, '')),
];

/** Chat messages of about `mb` MB of UTF-8, returned as chunks of roughly 64 KB of text. */
export function buildText(mb: number, seed = 2): { chunks: string[]; bytes: number } {
  const rand = prng(seed);
  const target = mb * 1024 * 1024;
  const chunks: string[] = [];
  let bytes = 0;
  let lines: string[] = [];
  let chunkLen = 0;
  while (bytes < target) {
    let line = LINES[Math.floor(rand() * LINES.length)]!;
    if (rand() < 0.5)
      line +=
        MORPHEMES[Math.floor(rand() * MORPHEMES.length)]! +
        '的事' +
        MORPHEMES[Math.floor(rand() * MORPHEMES.length)]!;
    lines.push(line);
    chunkLen += line.length + 1;
    bytes += Buffer.byteLength(line) + 1;
    if (chunkLen >= 32_000) {
      chunks.push(lines.join('\n'));
      lines = [];
      chunkLen = 0;
    }
  }
  if (lines.length > 0) chunks.push(lines.join('\n'));
  return { chunks, bytes };
}
