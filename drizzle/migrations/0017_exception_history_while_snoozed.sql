-- A change to an exception that stays snoozed (its severity re-rated by age or by a new policy, an
-- assignee set) was recorded as 'snoozed' again, because the action looked only at the new status.
-- 'snoozed' is now the snooze itself (or a new snooze time) and 'woke' its end; anything else while
-- snoozed is recorded as what it is. The rest of the function is unchanged from 0011.
CREATE OR REPLACE FUNCTION exceptions_history() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  actor_id uuid := nullif(current_setting('app.user_id', true), '')::uuid;
  actor text := coalesce(nullif(current_setting('app.actor', true), ''), 'system');
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO exception_events (org_id, exception_id, action, actor_user_id, actor_label, data)
    SELECT n.org_id, n.id, 'raised', actor_id, actor, jsonb_build_object('severity', n.severity, 'kind', n.kind) || CASE WHEN n.assignee_id IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('assignee', n.assignee_id) END
    FROM new_rows n;
    INSERT INTO exception_counts AS c (org_id, status, severity, occurred_on, n)
    SELECT org_id, status, severity, occurred_on, count(*) FROM new_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (org_id, status, severity, occurred_on) DO UPDATE SET n = c.n + excluded.n;
  ELSE
    INSERT INTO exception_events (org_id, exception_id, action, actor_user_id, actor_label, data)
    SELECT n.org_id, n.id,
      CASE WHEN n.status = 'resolved' AND o.status <> 'resolved' THEN 'resolved'
           WHEN o.status = 'resolved' AND n.status <> 'resolved' THEN 'reopened'
           WHEN n.status = 'snoozed' AND (o.status <> 'snoozed' OR n.snoozed_until IS DISTINCT FROM o.snoozed_until) THEN 'snoozed'
           WHEN o.status = 'snoozed' AND n.status <> 'snoozed' THEN 'woke'
           WHEN n.assignee_id IS DISTINCT FROM o.assignee_id THEN 'assigned'
           ELSE 'severity_changed' END,
      actor_id, actor,
      jsonb_strip_nulls(jsonb_build_object(
        'status', CASE WHEN n.status <> o.status THEN jsonb_build_object('from', o.status, 'to', n.status) END,
        'severity', CASE WHEN n.severity <> o.severity THEN jsonb_build_object('from', o.severity, 'to', n.severity) END,
        'assignee', CASE WHEN n.assignee_id IS DISTINCT FROM o.assignee_id THEN jsonb_build_object('from', o.assignee_id, 'to', n.assignee_id) END,
        'snoozedUntil', CASE WHEN n.snoozed_until IS DISTINCT FROM o.snoozed_until THEN n.snoozed_until END,
        'resolution', CASE WHEN n.status = 'resolved' AND o.status <> 'resolved' THEN n.resolution END,
        'reasonCode', CASE WHEN n.status = 'resolved' AND o.status <> 'resolved' THEN n.reason_code END,
        'note', CASE WHEN n.resolution_note IS DISTINCT FROM o.resolution_note THEN n.resolution_note END))
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.status <> o.status OR n.severity <> o.severity OR n.assignee_id IS DISTINCT FROM o.assignee_id OR n.snoozed_until IS DISTINCT FROM o.snoozed_until;
    INSERT INTO exception_counts AS c (org_id, status, severity, occurred_on, n)
    SELECT org_id, status, severity, occurred_on, sum(d) FROM (
      SELECT n.org_id, n.status, n.severity, n.occurred_on, 1 AS d FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.status, n.severity, n.occurred_on) IS DISTINCT FROM (o.status, o.severity, o.occurred_on)
      UNION ALL
      SELECT o.org_id, o.status, o.severity, o.occurred_on, -1 FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.status, n.severity, n.occurred_on) IS DISTINCT FROM (o.status, o.severity, o.occurred_on)
    ) d GROUP BY 1, 2, 3, 4 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT (org_id, status, severity, occurred_on) DO UPDATE SET n = c.n + excluded.n;
  END IF;
  RETURN NULL;
END $$;
