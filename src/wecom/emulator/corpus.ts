/** Word lists and sentence templates for the synthetic corp (Chinese business chat). */

// prettier-ignore
export const SURNAMES: ReadonlyArray<readonly [string, string]> = [
  ['王', 'Wang'], ['李', 'Li'], ['张', 'Zhang'], ['刘', 'Liu'], ['陈', 'Chen'], ['杨', 'Yang'],
  ['赵', 'Zhao'], ['黄', 'Huang'], ['周', 'Zhou'], ['吴', 'Wu'], ['徐', 'Xu'], ['孙', 'Sun'],
  ['胡', 'Hu'], ['朱', 'Zhu'], ['高', 'Gao'], ['林', 'Lin'], ['何', 'He'], ['郭', 'Guo'],
  ['马', 'Ma'], ['罗', 'Luo'], ['梁', 'Liang'], ['宋', 'Song'], ['郑', 'Zheng'], ['谢', 'Xie'],
];

// prettier-ignore
export const GIVEN_NAMES: ReadonlyArray<readonly [string, string]> = [
  ['伟', 'Wei'], ['芳', 'Fang'], ['娜', 'Na'], ['敏', 'Min'], ['静', 'Jing'], ['磊', 'Lei'],
  ['洋', 'Yang'], ['艳', 'Yan'], ['勇', 'Yong'], ['军', 'Jun'], ['杰', 'Jie'], ['娟', 'Juan'],
  ['涛', 'Tao'], ['明', 'Ming'], ['超', 'Chao'], ['秀兰', 'XiuLan'], ['霞', 'Xia'], ['平', 'Ping'],
  ['刚', 'Gang'], ['桂英', 'GuiYing'], ['建华', 'JianHua'], ['晓东', 'XiaoDong'], ['海燕', 'HaiYan'],
  ['志强', 'ZhiQiang'], ['丽华', 'LiHua'], ['文博', 'WenBo'], ['思远', 'SiYuan'], ['雨桐', 'YuTong'],
];

/** [name, name_en, parent index (-1 = root), sensitive post] */
export const DEPARTMENTS: ReadonlyArray<readonly [string, string, number, boolean]> = [
  ['华东智联科技有限公司', 'HuaDong ZhiLian Technology', -1, false],
  ['总经办', 'General Office', 0, false],
  ['销售中心', 'Sales Center', 0, false],
  ['销售一部', 'Sales Dept 1', 2, false],
  ['销售二部', 'Sales Dept 2', 2, false],
  ['大客户部', 'Key Accounts', 2, false],
  ['财务部', 'Finance', 0, true],
  ['采购部', 'Procurement', 0, true],
  ['人力资源部', 'Human Resources', 0, false],
  ['技术部', 'Engineering', 0, false],
  ['客户服务部', 'Customer Service', 0, false],
  ['法务合规部', 'Legal & Compliance', 0, false],
];

export const POSITIONS: Record<string, readonly string[]> = {
  总经办: ['总经理', '副总经理', '总经理助理'],
  销售中心: ['销售总监'],
  销售一部: ['销售经理', '销售代表', '高级销售代表'],
  销售二部: ['销售经理', '销售代表', '高级销售代表'],
  大客户部: ['大客户经理', '客户代表'],
  财务部: ['财务经理', '会计', '出纳'],
  采购部: ['采购经理', '采购专员'],
  人力资源部: ['人事经理', '招聘专员', 'HRBP'],
  技术部: ['技术总监', '高级工程师', '实施工程师'],
  客户服务部: ['客服主管', '客服专员'],
  法务合规部: ['合规经理', '法务专员'],
};

// prettier-ignore
export const CUSTOMER_COMPANIES: readonly string[] = [
  '苏州恒信精密', '宁波海天机电', '杭州云帆物流', '上海申联医药', '无锡华光电子', '南京金陵建设',
  '合肥科睿新能源', '常州天宇汽配', '嘉兴禾盛纺织', '温州瑞安阀门', '绍兴越州化工', '扬州广陵食品',
  '南通江海重工', '湖州绿源环保', '徐州徐工配套', '台州东海模具',
];

export const PRODUCTS: readonly string[] = [
  '工业传感器',
  '智能网关',
  '云平台年费',
  '数据采集模块',
  '边缘计算盒子',
  '温湿度监测终端',
  '设备运维服务',
  'MES 系统授权',
];

export const SALES_LINES: readonly string[] = [
  '{cname}您好，我是{org}的{ename}，上次聊的{product}报价已经整理好了。',
  '这批{product}单价{price}元，{qty}台起订，含税含运费。',
  '合同我这边走一下审批，预计{date}前给您盖章版。',
  '发货时间定在{date}，物流单号到了我第一时间发您。',
  '您看下方案，有问题随时找我。',
  '账期我们最多能给到60天，再长需要财务部特批。',
  '上次说的试用装已经寄出，麻烦注意查收。',
  '年底有个老客户返利政策，按公司统一标准执行，合同里会写清楚。',
  '我们的售后工程师明天下午到现场。',
];

export const CUSTOMER_LINES: readonly string[] = [
  '好的，我跟领导汇报一下。',
  '价格能不能再优惠一点？别家报价比你们低5%。',
  '收到，方案我们内部评审一下。',
  '上批货有两台{product}读数不准，麻烦安排售后。',
  '发票抬头用我们全称，税号稍后发你。',
  '下周二方便来我们工厂现场看看吗？',
  '这个月的回款已经安排了，财务说周五到账。',
  '行，就按这个数量下单。',
  '好的谢谢。',
];

export const INTERNAL_LINES: readonly string[] = [
  '{ename}，{cname}那边的合同审批到哪一步了？',
  '今天下午三点部门例会，记得带上周报。',
  '财务那边说{cname}这笔回款还没到账，帮忙催一下客户。',
  '采购申请单已提交，麻烦审批一下。',
  '这个月的报销单周五前交到财务部。',
  '客户反馈的问题我已经记录到工单系统了。',
  '{product}的库存不多了，下周要补货。',
  '好的，马上处理。',
  '收到。',
  '晚上加班的同事记得打卡。',
  '扣款明细我核对过了，没问题。',
];

export const GROUP_LINES: readonly string[] = [
  '@所有人 本周销售数据已更新到共享盘，请大家查看。',
  '明天上午九点在三楼会议室开会。',
  '收到',
  '👍',
  '{cname}的项目进度怎么样了？',
  '交付计划调整了，详见群公告。',
  '辛苦大家了！',
  '这个问题我来跟进。',
];

export const CUSTOMER_GROUP_LINES: readonly string[] = [
  '欢迎{cname}的各位加入服务群，有问题随时在群里反馈。',
  '今天系统升级，晚上十点到十二点暂停服务。',
  '设备已经恢复正常，谢谢你们的工程师。',
  '麻烦把最新的操作手册发一下。',
  '好的，已安排。',
];

export type RiskCategory =
  'kickback' | 'side_order' | 'data_exfiltration' | 'evidence_destruction' | 'guaranteed_return';

/** Planted risky lines: text (with {term} placeholder), category, and the spellings to rotate. */
export const RISK_SCRIPTS: Record<
  RiskCategory,
  {
    terms: ReadonlyArray<readonly [string, string | null]>;
    lines: readonly string[];
    reply: readonly string[];
  }
> = {
  kickback: {
    terms: [
      ['回扣', null],
      ['回-扣', 'separator'],
      ['迴扣', 'traditional'],
      ['huikou', 'pinyin'],
      ['返点', null],
      ['回 扣', 'separator'],
      ['HK', 'abbreviation'],
    ],
    lines: [
      '这单签下来，私下给你三个点的{term}，别让你们领导知道。',
      '{term}老规矩，打到你爱人的卡上。',
      '上个月的{term}已经转过去了，你查收一下。',
    ],
    reply: ['放心，我这边价格帮你往上报一点。', '好的，别在这里说了，电话聊。'],
  },
  side_order: {
    terms: [
      ['飞单', null],
      ['私单', null],
      ['走私户', null],
      ['fei单', 'pinyin'],
    ],
    lines: [
      '这单别走公司流程了，做成{term}，价格给你便宜一成。',
      '货从我朋友的厂里直接发，{term}的钱打我个人账户。',
    ],
    reply: ['可以，发票你那边能处理吗？', '行，合同就不签了。'],
  },
  data_exfiltration: {
    terms: [
      ['客户名单', null],
      ['客户资料', null],
      ['客户联系方式', null],
    ],
    lines: ['把咱们的{term}导一份发我，我转给外面的朋友。', '{term}我打包好了，用个人邮箱发你。'],
    reply: ['收到，别用公司邮箱发。', '好的，我周末整理一下。'],
  },
  evidence_destruction: {
    terms: [
      ['删聊天记录', null],
      ['删掉聊天记录', null],
      ['清空记录', null],
      ['shan记录', 'pinyin'],
    ],
    lines: ['聊完记得{term}，这事别留痕。', '你先把刚才那段{term}，公司会查会话存档。'],
    reply: ['知道了，已经删了。', '放心。'],
  },
  guaranteed_return: {
    terms: [
      ['保本稳赚', null],
      ['稳赚不赔', null],
      ['保本保息', null],
      ['bao本', 'pinyin'],
    ],
    lines: ['这个理财产品{term}，年化15%，绝对没风险。', '跟着我们投，{term}，亏了我个人补给你。'],
    reply: ['真的吗？那我先投二十万。', '好，我考虑一下。'],
  },
};

// prettier-ignore
export const FILE_NAMES: readonly string[] = [
  '报价单-2025Q2.pdf', '合同草案.pdf', '产品手册.pdf', '对账单.pdf', '采购订单.pdf', '验收报告.pdf',
];

export const LINK_TITLES: ReadonlyArray<readonly [string, string, string]> = [
  ['工业物联网白皮书2025', '行业趋势与案例', 'https://example.com/iot-whitepaper'],
  ['产品发布会回放', '新一代智能网关', 'https://example.com/launch'],
  ['售后服务流程说明', '报修、派单与回访', 'https://example.com/service'],
];

export const ADDRESSES: ReadonlyArray<readonly [string, string, number, number]> = [
  ['苏州工业园区星湖街328号', '恒信精密一号厂房', 120.7324, 31.2705],
  ['上海市浦东新区张江路88号', '申联医药研发中心', 121.6001, 31.2036],
  ['杭州市余杭区文一西路969号', '云帆物流园', 120.0219, 30.2869],
];
