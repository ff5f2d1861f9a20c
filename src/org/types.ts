export interface Corp {
  id: number;
  slug: string;
  name: string;
  wecomCorpId: string | null;
  timezone: string;
  createdAt: Date;
}

export interface Department {
  corpId: number;
  id: number;
  parentId: number | null;
  name: string;
  nameEn?: string | null;
  sortOrder?: number;
  sensitivePost?: boolean;
  categories?: string[];
}

export interface Employee {
  corpId: number;
  userid: string;
  name: string;
  departmentIds: number[];
  mainDepartment: number | null;
  leaderOf: number[];
  position: string | null;
  /** WeCom status: 1 active, 2 disabled, 4 not activated, 5 left. */
  status: number;
  sensitivePost: boolean;
}
