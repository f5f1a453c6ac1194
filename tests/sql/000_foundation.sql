-- Foundation: the schemas and Supabase roles exist, auth.* reads the request claims the way
-- PostgREST sets them, every collab table has RLS, and nothing in collab or api is
-- executable by PUBLIC (api functions are granted explicitly, role by role).
BEGIN;
select plan(17);

select has_schema('collab', 'the private schema collab exists');
select has_schema('api', 'the public RPC schema api exists');
select has_schema('auth', 'the auth schema exists (Supabase''s, or the shim)');

select has_role('anon', 'role anon exists');
select has_role('authenticated', 'role authenticated exists');
select has_role('service_role', 'role service_role exists');
select ok((select rolbypassrls from pg_roles where rolname = 'service_role'),
          'service_role bypasses RLS');

-- auth.* as an authenticated caller
select tests.authenticate_as('00000000-0000-0000-0000-00000000abcd', '{"email": "ada@example.com"}');
select is(auth.uid(), '00000000-0000-0000-0000-00000000abcd'::uuid,
          'auth.uid() is the sub claim of request.jwt.claims');
select is(auth.role(), 'authenticated', 'auth.role() is the role claim');
select is(auth.jwt() ->> 'email', 'ada@example.com', 'auth.jwt() carries every claim');
select is(current_user::text, 'authenticated', 'authenticate_as switches role like PostgREST');
select is(current_setting('request.method'), 'POST', 'request.method is set');

-- as anon, then as the service role
select tests.clear_authentication();
select ok(auth.uid() is null and auth.role() = 'anon', 'anon: no uid, role anon');
select tests.authenticate_as_service_role();
select is(auth.role(), 'service_role', 'service role claims');
reset role;

select tests.rls_enabled('collab');

select is_empty($$
  select format('%s is executable by PUBLIC', p.oid::regprocedure)
    from pg_proc p
    join pg_namespace n on n.oid = p.pronamespace
   cross join lateral aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
   where n.nspname in ('collab', 'api') and a.grantee = 0 and a.privilege_type = 'EXECUTE'
$$, 'no function in collab or api is executable by PUBLIC');

select is_empty($$
  select format('%s.%s is reachable by %s', n.nspname, c.relname, r.rolname)
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
   cross join (values ('anon'), ('authenticated')) r(rolname)
   where n.nspname = 'collab' and c.relkind in ('r', 'p', 'v', 'm')
     and has_table_privilege(r.rolname, c.oid, 'select,insert,update,delete')
$$, 'no collab table or view is granted to anon or authenticated');

select * from finish();
ROLLBACK;
