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
language plpgsql security definer set search_path = '' as $$
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
