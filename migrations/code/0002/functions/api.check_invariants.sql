-- Operators' health check (`collab doctor`): see collab.check_invariants.
create or replace function api.check_invariants()
returns table (invariant text, job_id bigint, detail jsonb)
language sql
stable
security definer
set search_path = ''
as $$
  select * from collab.check_invariants()
$$;
comment on function api.check_invariants() is
  'Every violation of Collab''s invariants (empty = healthy). Service role only; scans the tables.';
revoke all on function api.check_invariants() from public;
grant execute on function api.check_invariants() to service_role;
