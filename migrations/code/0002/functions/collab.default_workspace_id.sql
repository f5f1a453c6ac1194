-- The workspace used when the caller names none (single-tenant installs, psql sessions).
-- No SET clause, so the planner can inline it (names are schema-qualified).
create or replace function collab.default_workspace_id()
returns uuid
language sql
immutable
parallel safe
as $$
  select '00000000-0000-0000-0000-000000000001'::uuid
$$;
comment on function collab.default_workspace_id() is 'Id of the default workspace created by the migrations.';
