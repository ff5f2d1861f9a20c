import type { Queryable } from '../platform/db/pool.js';
import type { Corp, Department, Employee } from './types.js';

interface CorpRow {
  id: number;
  slug: string;
  name: string;
  wecom_corp_id: string | null;
  timezone: string;
  created_at: Date;
}

const toCorp = (r: CorpRow): Corp => ({
  id: r.id,
  slug: r.slug,
  name: r.name,
  wecomCorpId: r.wecom_corp_id,
  timezone: r.timezone,
  createdAt: r.created_at,
});

/** SQL for corps, departments and employees. */
export class OrgRepository {
  constructor(private readonly db: Queryable) {}

  async listCorps(): Promise<Corp[]> {
    const { rows } = await this.db.query<CorpRow>('SELECT * FROM corps ORDER BY id');
    return rows.map(toCorp);
  }

  async findCorp(idOrSlug: string | number): Promise<Corp | undefined> {
    const { rows } = await this.db.query<CorpRow>(
      'SELECT * FROM corps WHERE slug = $1::text OR id::text = $1::text',
      [String(idOrSlug)],
    );
    return rows[0] ? toCorp(rows[0]) : undefined;
  }

  /** Creates a corp, or returns the existing one with that slug. */
  async ensureCorp(slug: string, name: string, wecomCorpId: string | null): Promise<Corp> {
    return (await this.ensureCorpCreated(slug, name, wecomCorpId)).corp;
  }

  /** Like ensureCorp, also saying whether this call created it. */
  async ensureCorpCreated(
    slug: string,
    name: string,
    wecomCorpId: string | null,
  ): Promise<{ corp: Corp; created: boolean }> {
    const { rows } = await this.db.query<CorpRow & { created: boolean }>(
      `INSERT INTO corps (slug, name, wecom_corp_id) VALUES ($1, $2, $3)
       ON CONFLICT (slug) DO UPDATE SET slug = EXCLUDED.slug RETURNING *, (xmax = 0) AS created`,
      [slug, name, wecomCorpId],
    );
    return { corp: toCorp(rows[0]!), created: rows[0]!.created };
  }

  async upsertDepartments(departments: Department[]): Promise<void> {
    if (departments.length === 0) return;
    await this.db.query(
      `INSERT INTO departments (corp_id, id, parent_id, name, name_en, sort_order, sensitive_post, categories)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS d(corp_id int, id bigint, parent_id bigint, name text,
         name_en text, sort_order bigint, sensitive_post boolean, categories text[])
       ON CONFLICT (corp_id, id) DO UPDATE SET parent_id = EXCLUDED.parent_id, name = EXCLUDED.name,
         name_en = EXCLUDED.name_en, sort_order = EXCLUDED.sort_order, updated_at = now()`,
      [
        JSON.stringify(
          departments.map((d) => ({
            corp_id: d.corpId,
            id: d.id,
            parent_id: d.parentId,
            name: d.name,
            name_en: d.nameEn ?? null,
            sort_order: d.sortOrder ?? 0,
            sensitive_post: d.sensitivePost ?? false,
            categories: d.categories ?? [],
          })),
        ),
      ],
    );
  }

  async upsertEmployees(employees: Employee[]): Promise<void> {
    if (employees.length === 0) return;
    await this.db.query(
      `INSERT INTO employees (corp_id, userid, name, department_ids, main_department, leader_of, position, status, sensitive_post)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS e(corp_id int, userid text, name text, department_ids bigint[],
         main_department bigint, leader_of bigint[], position text, status smallint, sensitive_post boolean)
       ON CONFLICT (corp_id, userid) DO UPDATE SET name = EXCLUDED.name, department_ids = EXCLUDED.department_ids,
         main_department = EXCLUDED.main_department, leader_of = EXCLUDED.leader_of, position = EXCLUDED.position,
         status = EXCLUDED.status, updated_at = now()`,
      [
        JSON.stringify(
          employees.map((e) => ({
            corp_id: e.corpId,
            userid: e.userid,
            name: e.name,
            department_ids: e.departmentIds,
            main_department: e.mainDepartment,
            leader_of: e.leaderOf,
            position: e.position,
            status: e.status,
            sensitive_post: e.sensitivePost,
          })),
        ),
      ],
    );
  }

  async countEmployees(corpId: number): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(
      'SELECT count(*) AS n FROM employees WHERE corp_id = $1',
      [corpId],
    );
    return Number(rows[0]!.n);
  }

  async listDepartments(corpId: number): Promise<Department[]> {
    const { rows } = await this.db.query<{
      corp_id: number;
      id: string;
      parent_id: string | null;
      name: string;
      sensitive_post: boolean;
      categories: string[];
    }>(
      'SELECT corp_id, id, parent_id, name, sensitive_post, categories FROM departments WHERE corp_id = $1 ORDER BY sort_order, id',
      [corpId],
    );
    return rows.map((r) => ({
      corpId: r.corp_id,
      id: Number(r.id),
      parentId: r.parent_id === null ? null : Number(r.parent_id),
      name: r.name,
      sensitivePost: r.sensitive_post,
      categories: r.categories,
    }));
  }
}
