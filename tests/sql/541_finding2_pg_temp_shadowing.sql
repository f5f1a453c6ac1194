-- Finding 2 of the security review (high): a caller's temporary domain named like a built-in
-- type must not shadow it inside a SECURITY DEFINER function. With search_path = '' Postgres
-- searches pg_temp first for type names, so `create domain pg_temp.jsonb ... check
-- (pg_temp.pwn(value))` ran the caller's code as the functions' owner and made a member of B
-- owner of A. Every definer function now sets search_path = pg_catalog, pg_temp (pg_temp
-- last). TEMP is granted here on purpose: the review's database (and Supabase's) let PUBLIC
-- create temporary objects; where the migrations own the database they revoke that
-- (tests/sql/504; tests/py/integration/test_security_findings.py logs in without it).
BEGIN;
select plan(5);
select tests.tenancy_fixture();

create temp table pwn_calls (who text);
grant insert, select on pwn_calls to public;
do $$ begin execute format('grant temporary on database %I to authenticated', current_database()); end $$;

select tests.authenticate_as(tests.id('outsider'));
create function pg_temp.pwn(v pg_catalog.jsonb) returns boolean language plpgsql as $f$
begin
  insert into pg_temp.pwn_calls values (current_user);
  insert into collab.members (workspace_id, user_id, role)
  values ('aaaaaaaa-0000-0000-0000-00000000000a'::pg_catalog.uuid,
          '55555555-5555-5555-5555-555555555555'::pg_catalog.uuid, 'owner') on conflict do nothing;
  return true;
end $f$;
create domain pg_temp.jsonb as pg_catalog.jsonb check (pg_temp.pwn(value));

select lives_ok($$select count(*) from api.list_queues()$$,
  'an api function runs with the caller''s shadowing domains in pg_temp');
select lives_ok($$select api.enqueue('q', 'after-shadow', '{"a": 1}'::pg_catalog.jsonb)$$,
  'enqueue (casts to jsonb inside) runs too');
select lives_ok($$select * from api.events_since(null, 10)$$, 'and events_since');
select is((select count(*)::integer from pg_temp.pwn_calls), 0,
  'the caller''s CHECK function never ran inside them (as the owner or at all)');

drop domain pg_temp.jsonb;
reset role;
select is((select m.role from collab.members m
            where m.workspace_id = tests.id('workspace_a') and m.user_id = tests.id('outsider')),
          null, 'the outsider is still no member of workspace A');

select * from finish();
ROLLBACK;
