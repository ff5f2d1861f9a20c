import { prng } from './prng.js';
/**
 * A deterministic generator of Chinese business-chat-like text for search tests and benchmarks:
 * words drawn with a Zipf-like skew from a fixed vocabulary, so some bigrams are very common and
 * most are rare, as in real chat.
 */
const CHARS =
  '的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质报价合同客户返点回扣飞单私下微信转账保本稳赚收益' +
  '销售采购财务合规经理老板项目订单发票报销预算谈判供应商渠道折扣佣金好处费红包优惠底价成本利润风险审批流程邮件文件资料名单电话地址身份证银行卡';

const LATIN = ['ok', 'vip', 'crm', 'pdf', 'excel', 'wechat', 'q3', 'kpi', 'sku', 'po'];

/** Makes `count` chat texts; the same seed always gives the same texts. */
export function* chineseChatTexts(count: number, seed = 42): Generator<string> {
  const random = prng(seed);
  const chars = [...new Set(CHARS)];
  const skewed = () => chars[Math.floor(chars.length * Math.pow(random(), 2.2))]!;
  const vocabulary = Array.from({ length: 3000 }, () => {
    const length = 2 + Math.floor(random() * 3);
    let word = '';
    for (let i = 0; i < length; i++) word += skewed();
    return word;
  });
  for (let n = 0; n < count; n++) {
    const words = 2 + Math.floor(random() * 10);
    let text = '';
    for (let w = 0; w < words; w++) {
      const r = random();
      if (r < 0.05) text += ` ${LATIN[Math.floor(random() * LATIN.length)]} `;
      else if (r < 0.1) text += String(Math.floor(random() * 10000));
      else if (r < 0.2) text += '，';
      else text += vocabulary[Math.floor(vocabulary.length * Math.pow(random(), 1.6))]!;
    }
    yield text;
  }
}
