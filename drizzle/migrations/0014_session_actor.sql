-- Who is behind a browser session, and in which organisations, in one statement: every request
-- asks this before it knows an organisation, so it cannot run under row-level security, and as
-- two queries plus a transaction it cost five round trips a request. It hands out exactly what
-- the session's own user may see: their name and their memberships; nothing for a revoked
-- session or a disabled user. A user without memberships gets one row with a null organisation.
CREATE FUNCTION session_actor(p_session_id uuid)
  RETURNS TABLE (user_id uuid, email text, name text, org_id uuid, org_name text, role public.member_role)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
  SELECT u.id, u.email, u.name, m.org_id, o.name, m.role
  FROM public.auth_sessions s
  JOIN public.users u ON u.id = s.user_id AND u.disabled_at IS NULL
  LEFT JOIN public.memberships m ON m.user_id = u.id
  LEFT JOIN public.organisations o ON o.id = m.org_id
  WHERE s.id = p_session_id AND s.revoked_at IS NULL
  ORDER BY o.name, m.org_id
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION session_actor(uuid) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION session_actor(uuid) TO tieout_app;
