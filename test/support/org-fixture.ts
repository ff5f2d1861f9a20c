import type { Department, Employee } from '../../src/org/types.js';

const DEPARTMENTS: Array<
  [id: number, parent: number | null, name: string, nameEn: string, sensitive?: boolean]
> = [
  [1, null, '演示科技有限公司', 'Demo Tech Co., Ltd.'],
  [2, 1, '销售中心', 'Sales'],
  [3, 2, '销售一部', 'Sales Team 1'],
  [4, 2, '销售二部', 'Sales Team 2'],
  [5, 1, '财务部', 'Finance', true],
  [6, 1, '采购部', 'Procurement', true],
  [7, 1, '人力资源部', 'Human Resources'],
  [8, 1, '合规部', 'Compliance'],
  [9, 1, '客户服务部', 'Customer Service'],
];

const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗';
const GIVEN = [
  '伟',
  '芳',
  '娜',
  '敏',
  '静',
  '磊',
  '洋',
  '艳',
  '勇',
  '军',
  '杰',
  '娟',
  '涛',
  '明',
  '超',
  '霞',
  '平',
  '刚',
  '丽',
  '强',
];
const POSITIONS: Record<number, string[]> = {
  3: ['销售经理', '客户经理', '销售代表'],
  4: ['销售经理', '客户经理', '销售代表'],
  5: ['财务经理', '会计', '出纳'],
  6: ['采购经理', '采购专员'],
  7: ['HR经理', '招聘专员'],
  8: ['合规负责人', '合规专员'],
  9: ['客服主管', '客服专员'],
};

/** A test organisation: a department tree and 60 employees, the same on every run. */
export function testOrganisation(corpId: number): { departments: Department[]; employees: Employee[] } {
  const departments = DEPARTMENTS.map(([id, parentId, name, nameEn, sensitive]) => ({
    corpId,
    id,
    parentId,
    name,
    nameEn,
    sortOrder: id,
    sensitivePost: sensitive ?? false,
  }));
  const teams = Object.keys(POSITIONS).map(Number);
  const employees: Employee[] = [];
  for (let i = 0; i < 60; i++) {
    const department = teams[i % teams.length]!;
    const positions = POSITIONS[department]!;
    const isLeader = i < teams.length;
    employees.push({
      corpId,
      userid: `user${String(i + 1).padStart(3, '0')}`,
      name: SURNAMES[i % SURNAMES.length]! + GIVEN[(i * 7) % GIVEN.length]!,
      departmentIds: [department],
      mainDepartment: department,
      leaderOf: isLeader ? [department] : [],
      position: isLeader ? positions[0]! : positions[1 + (i % (positions.length - 1))]!,
      status: 1,
      sensitivePost: department === 5 || department === 6,
    });
  }
  return { departments, employees };
}
