-- The `tests` schema: pgTAP helpers installed only into test databases
-- (by tests/tools/prepare_test_db.py), never by a migration.
--
-- tests.as_request() reproduces what PostgREST does at the start of every request
-- transaction: a transaction-local role, `request.jwt.claims` (all claims plus the role),
-- `request.method`, `request.path`, `request.headers` (lower-cased keys) and
-- `request.cookies`. Everything is set with is_local = true, so it ends with the
-- transaction (pgTAP files ROLLBACK). authenticate_as(), authenticate_as_service_role()
-- and clear_authentication() are the usual shorthands (supabase-test-helpers' names).

create schema if not exists tests;
comment on schema tests is 'pgTAP helpers for Collab test databases (never installed by migrations).';

-- pgTAP keeps its plan and results in temporary tables created by plan(), owned by the
-- session user. Once a test switches to anon/authenticated/service_role those roles must be
-- able to record results, so the helpers share the session's temporary tables with them.
create or replace function tests.share_pgtap_state() returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
  if exists (select 1 from pg_namespace where oid = pg_my_temp_schema()) then
    execute format('grant all on all tables in schema %I to anon, authenticated, service_role',
                   (select nspname from pg_namespace where oid = pg_my_temp_schema()));
    execute format('grant all on all sequences in schema %I to anon, authenticated, service_role',
                   (select nspname from pg_namespace where oid = pg_my_temp_schema()));
  end if;
end
$$;
comment on function tests.share_pgtap_state() is
  'Let the API roles write pgTAP''s temporary plan/result tables of this session.';

create or replace function tests.as_request(
  role text,
  claims jsonb default '{}',
  method text default 'POST',
  path text default '/',
  headers jsonb default '{}'
) returns void
language plpgsql as $$
begin
  perform tests.share_pgtap_state();
  -- the same transaction-local settings as PostgREST, in the same order
  perform set_config('role', as_request.role, true);
  perform set_config('request.jwt.claims',
                     (coalesce(as_request.claims, '{}'::jsonb)
                      || jsonb_build_object('role', as_request.role))::text, true);
  perform set_config('request.method', upper(as_request.method), true);
  perform set_config('request.path', as_request.path, true);
  perform set_config('request.headers',
                     coalesce((select jsonb_object_agg(lower(key), value)
                                 from jsonb_each(coalesce(as_request.headers, '{}'::jsonb))),
                              '{}'::jsonb)::text, true);
  perform set_config('request.cookies', '{}', true);
end
$$;
comment on function tests.as_request(text, jsonb, text, text, jsonb) is
  'Set role and request.* for the rest of the transaction exactly as PostgREST does per request.';

create or replace function tests.authenticate_as(user_id uuid, claims jsonb default '{}')
returns void
language plpgsql as $$
begin
  perform tests.as_request(
    'authenticated',
    coalesce(authenticate_as.claims, '{}'::jsonb)
      || jsonb_build_object('sub', authenticate_as.user_id::text),
    'POST', '/', '{}'::jsonb);
end
$$;
comment on function tests.authenticate_as(uuid, jsonb) is
  'Act as the signed-in user user_id (role authenticated, sub claim) for the rest of the transaction.';

create or replace function tests.authenticate_as_service_role() returns void
language plpgsql as $$
begin
  perform tests.as_request('service_role', '{}'::jsonb, 'POST', '/', '{}'::jsonb);
end
$$;
comment on function tests.authenticate_as_service_role() is
  'Act as the service role (bypasses RLS) for the rest of the transaction.';

create or replace function tests.clear_authentication() returns void
language plpgsql as $$
begin
  perform tests.as_request('anon', '{}'::jsonb, 'POST', '/', '{}'::jsonb);
end
$$;
comment on function tests.clear_authentication() is
  'Act as an anonymous caller (role anon, claims {"role":"anon"}) for the rest of the transaction.';

create or replace function tests.rls_enabled(schema_name name) returns text
language plpgsql as $$
declare
  missing text;
begin
  select string_agg(format('%I.%I', n.nspname, c.relname), ', ' order by c.relname)
    into missing
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname = rls_enabled.schema_name
     and c.relkind in ('r', 'p')
     and not c.relrowsecurity;
  return ok(missing is null,
            format('every table in schema %I has row level security enabled', schema_name))
         || case when missing is null then ''
                 else E'\n' || diag('tables without RLS: ' || missing) end;
end
$$;
comment on function tests.rls_enabled(name) is
  'A pgTAP ok() line: every table of the schema has row level security enabled.';

-- The helpers run as whichever role a test switched to.
grant usage on schema tests to public;
grant execute on all functions in schema tests to public;

-- Tenancy fixture: two workspaces and one user per role. Workspace A has a viewer, a member,
-- an admin, an owner and an executor user (a member running executor "exec-a"); workspace B
-- has the outsider (an admin there, running "exec-b"). Each workspace has queue "q" with a
-- queued job, a running job (held by its executor) and a dead job. Call it as the superuser.
create or replace function tests.id(name text) returns uuid
language sql immutable as $$
  select case id.name
    when 'workspace_a' then 'aaaaaaaa-0000-0000-0000-00000000000a'
    when 'workspace_b' then 'bbbbbbbb-0000-0000-0000-00000000000b'
    when 'viewer'      then '11111111-1111-1111-1111-111111111111'
    when 'member'      then '22222222-2222-2222-2222-222222222222'
    when 'admin'       then '33333333-3333-3333-3333-333333333333'
    when 'executor'    then '44444444-4444-4444-4444-444444444444'
    when 'outsider'    then '55555555-5555-5555-5555-555555555555'
    when 'owner'       then '66666666-6666-6666-6666-666666666666'
    when 'exec_a'      then 'eeeeeeee-0000-0000-0000-00000000000a'
    when 'exec_b'      then 'eeeeeeee-0000-0000-0000-00000000000b'
  end::uuid
$$;
comment on function tests.id(text) is 'Fixed ids of the tenancy fixture (workspaces, users, executors).';

create or replace function tests.tenancy_fixture() returns void
language plpgsql as $$
declare
  ws text;
  ex uuid;
  dead_id bigint;
begin
  insert into collab.workspaces (id, name)
  values (tests.id('workspace_a'), 'tenant-a'), (tests.id('workspace_b'), 'tenant-b');
  insert into collab.members (workspace_id, user_id, role) values
    (tests.id('workspace_a'), tests.id('viewer'), 'viewer'),
    (tests.id('workspace_a'), tests.id('member'), 'member'),
    (tests.id('workspace_a'), tests.id('admin'), 'admin'),
    (tests.id('workspace_a'), tests.id('owner'), 'owner'),
    (tests.id('workspace_a'), tests.id('executor'), 'member'),
    (tests.id('workspace_b'), tests.id('outsider'), 'admin');
  insert into collab.executors (id, workspace_id, name, queues, user_id) values
    (tests.id('exec_a'), tests.id('workspace_a'), 'exec-a', '{q}', tests.id('executor')),
    (tests.id('exec_b'), tests.id('workspace_b'), 'exec-b', '{q}', tests.id('outsider'));
  foreach ws in array array['a', 'b'] loop
    ex := tests.id('exec_' || ws);
    -- a superuser session naming a workspace (no role, no sub) acts there
    perform set_config('request.jwt.claims',
                       jsonb_build_object('workspace_id', tests.id('workspace_' || ws))::text, true);
    dead_id := (api.enqueue('q', 'doomed', max_attempts => 1)).id;
    perform api.claim(ex, array['q'], 1, 300);
    perform api.fail(dead_id, (select j.lease_token from collab.jobs j where j.id = dead_id),
                     '{"boom": true}'::jsonb, false);
    perform api.enqueue('q', 'running');
    perform api.claim(ex, array['q'], 1, 300);
    perform api.enqueue('q', 'queued');
  end loop;
  perform set_config('request.jwt.claims', '', true);
end
$$;
comment on function tests.tenancy_fixture() is
  'Two workspaces (A: viewer, member, admin, owner, executor user; B: outsider) each with queue q and a queued, a running and a dead job.';

-- Every job wherever it lives: collab.jobs (queued, running) and collab.job_history
-- (finished), with the columns of collab.jobs. Tests read jobs through it; tests that poke
-- the hot table (direct UPDATEs) still name collab.jobs. security_invoker: read as the
-- caller, so row level security applies as on the tables.
create or replace view tests.all_jobs with (security_invoker = true) as
  select * from collab.jobs
  union all
  select * from collab.job_history;
grant select on tests.all_jobs to public;

-- The job of a fixture workspace ('a' or 'b') of the given type: doomed (dead), running, queued.
create or replace function tests.job(ws text, job_type text) returns bigint
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
  select j.id from tests.all_jobs j
   where j.workspace_id = tests.id('workspace_' || job.ws) and j.type = job.job_type
$$;
create or replace function tests.token(ws text, job_type text) returns uuid
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
  select j.lease_token from tests.all_jobs j
   where j.workspace_id = tests.id('workspace_' || token.ws) and j.type = token.job_type
$$;

-- The SQLSTATE and DETAIL of a statement run as the current role ('ok' when it succeeds).
create or replace function tests.outcome(statement text) returns jsonb
language plpgsql as $$
declare
  state text;
  detail text;
begin
  execute outcome.statement;
  return '{"sqlstate": "ok"}'::jsonb;
exception when others then
  get stacked diagnostics state = returned_sqlstate, detail = pg_exception_detail;
  return coalesce(case when detail like '{%' then detail::jsonb end, '{}'::jsonb)
         || jsonb_build_object('sqlstate', state);
end
$$;
comment on function tests.outcome(text) is
  'Run a statement; {"sqlstate": "ok"} or its SQLSTATE with the DETAIL JSON keys (reason, field, ...).';

-- collab.* is not executable by the API roles; these probes call it the way an api function
-- does (security definer, so `role` and the claims stay the caller's).
create or replace function tests.current_workspace() returns uuid
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
  select collab.current_workspace()
$$;
create or replace function tests.require_role(min text) returns uuid
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
  select collab.require_role(require_role.min)
$$;

grant execute on all functions in schema tests to public;

-- The lines of EXPLAIN VERBOSE for a statement: tests that a SQL function is inlined look
-- for its name (a call) or for the expression it stands for.
create or replace function tests.plan_lines(statement text) returns setof text
language plpgsql as $$
declare
  line text;
begin
  for line in execute 'explain verbose ' || statement loop
    return next line;
  end loop;
end
$$;

-- Index entries this transaction read from the indexes of collab.jobs other than its primary
-- key: tests that a call finds its rows by primary key (or by one narrow range) count them.
create or replace function tests.side_reads() returns bigint
language sql as $$
  select coalesce(sum(pg_stat_get_xact_tuples_returned(i.indexrelid)), 0)::bigint
    from pg_index i
   where i.indrelid = 'collab.jobs'::regclass and i.indexrelid <> 'collab.jobs_pkey'::regclass
$$;

-- Worker wake-ups only leave at a commit, and pgTAP files roll back: this replaces
-- collab.notify_jobs, for the rest of the transaction, by one that records each call (its
-- workspace and queues) in the temporary table woken, for tests of who calls it with what.
create or replace function tests.record_wakeups() returns void
language plpgsql as $$
begin
  create temp table woken (workspace_id uuid, queues text[]);
  create or replace function collab.notify_jobs(workspace_id uuid, queues text[]) returns void
  language sql volatile as $f$ insert into pg_temp.woken values ($1, $2) $f$;
end
$$;
