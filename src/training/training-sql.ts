import type { Queryable } from '../platform/db/pool.js';

/**
 * SQL references for the training condition: positional parameters (`$3`, `$3::bigint`) or
 * column references (`g.corp_id`) of the surrounding query. Only these shapes are accepted, so a
 * fragment can never carry injected SQL.
 */
export interface TrainingSqlRefs {
  corpId: string;
  userId: string;
  course: string;
}

const SQL_REF = /^(\$\d{1,4}(::[a-z]+)?|[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?)$/;

function ref(value: string, name: string): string {
  if (!SQL_REF.test(value))
    throw new RangeError(`training SQL: ${name} must be $n or a column, got ${value}`);
  return value;
}

/**
 * Completions that belong to a user in a corp, over the `training_completions` alias `tc`: those
 * recorded for the account, and those recorded for the WeCom employee the account is linked to
 * in that corp.
 */
export function personCompletionsSql(refs: Omit<TrainingSqlRefs, 'course'>, tc = 'tc'): string {
  const corp = ref(refs.corpId, 'corpId');
  const user = ref(refs.userId, 'userId');
  return `${tc}.corp_id = ${corp} AND (${tc}.user_id = ${user} OR ${tc}.employee_userid = (
      SELECT training_u.employee_userid FROM users training_u WHERE training_u.id = ${user} AND training_u.corp_id = ${corp}))`;
}

/** A completion is valid now: completed, and not expired (no expiry, or expiring in the future). */
export const VALID_NOW_SQL = (tc = 'tc'): string =>
  `${tc}.completed_at <= now() AND (${tc}.expires_at IS NULL OR ${tc}.expires_at > now())`;

/**
 * The one definition of "holds valid training": an `EXISTS (…)` condition to embed in any query,
 * e.g. the access service's scope queries:
 *
 *   `… AND ${validTrainingSql({ corpId: '$1', userId: '$2', course: 'c.required_course' })}`
 *
 * True when the user (or the employee linked to the account in that corp) has a completion of
 * `course` in the corp that is completed and not expired at the statement's `now()`.
 */
export function validTrainingSql(refs: TrainingSqlRefs): string {
  const course = ref(refs.course, 'course');
  return `EXISTS (SELECT 1 FROM training_completions training_tc
    WHERE ${personCompletionsSql(refs, 'training_tc')} AND training_tc.course = ${course}
      AND ${VALID_NOW_SQL('training_tc')})`;
}

/** Whether a user holds valid training for a course in a corp (the same condition, on its own). */
export async function holdsValidTraining(
  db: Queryable,
  corpId: number,
  userId: string,
  course: string,
): Promise<boolean> {
  const { rows } = await db.query<{ ok: boolean }>(
    `SELECT ${validTrainingSql({ corpId: '$1::integer', userId: '$2::bigint', course: '$3::text' })} AS ok`,
    [corpId, userId, course],
  );
  return rows[0]!.ok;
}
