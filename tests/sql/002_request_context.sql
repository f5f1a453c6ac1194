-- The tests helpers reproduce PostgREST's per-request context: role, all claims plus the
-- role, method, path, lower-cased headers and cookies; and rls_enabled() catches a table
-- without row level security.
BEGIN;
select plan(11);

select tests.as_request('authenticated', '{"sub": "00000000-0000-0000-0000-000000000001", "aal": "aal1"}',
                        'get', '/rpc/list_jobs', '{"X-Client-Info": "collab-test", "Prefer": "count=exact"}');
select is(current_user::text, 'authenticated', 'the role is switched for the transaction');
select is(current_setting('request.jwt.claims')::jsonb,
          '{"sub": "00000000-0000-0000-0000-000000000001", "aal": "aal1", "role": "authenticated"}'::jsonb,
          'request.jwt.claims holds every claim plus the role');
select is(current_setting('request.method'), 'GET', 'request.method is upper case');
select is(current_setting('request.path'), '/rpc/list_jobs', 'request.path');
select is(current_setting('request.headers')::jsonb,
          '{"x-client-info": "collab-test", "prefer": "count=exact"}'::jsonb,
          'request.headers has lower-cased keys');
select is(current_setting('request.cookies'), '{}', 'request.cookies is an empty object');

select tests.authenticate_as('00000000-0000-0000-0000-000000000002');
select is(auth.jwt(), '{"sub": "00000000-0000-0000-0000-000000000002", "role": "authenticated"}'::jsonb,
          'authenticate_as sets sub and role');
select tests.clear_authentication();
select is(auth.jwt(), '{"role": "anon"}'::jsonb, 'clear_authentication leaves only the anon role');
select is(current_user::text, 'anon', 'and the anon role');
reset role;

create schema rls_probe;
create table rls_probe.guarded (id int);
alter table rls_probe.guarded enable row level security;
create table rls_probe.loose (id int);
select * from check_test(tests.rls_enabled('rls_probe'), false,
  'rls_enabled on a schema with a table without RLS',
  'every table in schema rls_probe has row level security enabled');

select * from finish();
ROLLBACK;
