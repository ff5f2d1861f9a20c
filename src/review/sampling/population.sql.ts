/**
 * The conversations with at least one message in [$2, $3) of corp $1, with their employees and
 * those of them on a sensitive post: `employees.sensitive_post`, or a department of theirs or any
 * ancestor of it with `departments.sensitive_post` (walked down from the flagged departments).
 * Employees unknown to the organisation count as ordinary posts.
 */
export const ACTIVE_CONVERSATIONS_SQL = `
  WITH RECURSIVE sensitive_departments AS (
    SELECT id FROM departments WHERE corp_id = $1 AND sensitive_post
    UNION
    SELECT d.id FROM departments d JOIN sensitive_departments s ON d.corp_id = $1 AND d.parent_id = s.id
  ),
  sensitive_employees AS (
    SELECT userid FROM employees
    WHERE corp_id = $1
      AND (sensitive_post OR department_ids && ARRAY(SELECT id FROM sensitive_departments))
  ),
  active AS (
    SELECT DISTINCT conversation_id FROM messages WHERE corp_id = $1 AND msg_time >= $2 AND msg_time < $3
  )
  SELECT a.conversation_id::text AS id,
    array_agg(m.member_id ORDER BY m.member_id) AS employees,
    coalesce(array_agg(m.member_id ORDER BY m.member_id) FILTER (WHERE s.userid IS NOT NULL), '{}') AS sensitive
  FROM active a
  JOIN conversation_members m
    ON m.corp_id = $1 AND m.conversation_id = a.conversation_id AND m.member_kind = 'employee'
  LEFT JOIN sensitive_employees s ON s.userid = m.member_id
  GROUP BY a.conversation_id
  ORDER BY a.conversation_id`;

/** A conversation active in a period, as ACTIVE_CONVERSATIONS_SQL returns it. */
export interface ActiveConversation {
  id: string;
  employees: string[];
  /** The employees on a sensitive post (a subset of `employees`). */
  sensitive: string[];
}

/** In the monthly population: at least one employee on an ordinary post. */
export const involvesOrdinaryPost = (c: ActiveConversation): boolean =>
  c.sensitive.length < c.employees.length;

/** In the weekly full review: at least one employee on a sensitive post. */
export const involvesSensitivePost = (c: ActiveConversation): boolean => c.sensitive.length > 0;
