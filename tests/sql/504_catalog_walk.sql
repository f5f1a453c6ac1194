-- Walk the catalog: every SECURITY DEFINER function of the project pins search_path to
-- `pg_catalog, pg_temp` (pg_temp listed, so searched last: with '' Postgres searches it first
-- for types and tables, and a caller's temporary domain could shadow jsonb; finding 2 of the
-- security review), and the helpers they call do not repeat it,
-- and anon/authenticated reach nothing outside schema api (no table, sequence or function of
-- collab, no USAGE on it). The auth schema is Supabase's (uid, role, jwt) and is left aside.
BEGIN;
select plan(10);

select is(
  (select string_agg(p.oid::regprocedure::text, ', ' order by 1)
     from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname in ('api', 'collab') and p.prosecdef
      and not coalesce('search_path=pg_catalog, pg_temp' = any (p.proconfig), false)),
  null, 'every SECURITY DEFINER function of api and collab sets search_path = pg_catalog, pg_temp');
select is(
  (select string_agg(p.oid::regprocedure::text, ', ' order by 1)
     from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname in ('api', 'collab')
      and exists (select 1 from unnest(p.proconfig) c
                   where c like 'search_path=%' and c <> 'search_path=pg_catalog, pg_temp')),
  null, 'no function of api or collab sets any other search_path (an empty one searches pg_temp first)');
select cmp_ok((select count(*)::integer from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                where n.nspname = 'api' and p.prosecdef), '>=', 25, 'and there are many to check');
-- The helpers of collab run inside those functions, under their empty search_path, and are
-- reachable by no API role (below). A SET clause of their own would cost a GUC save and
-- restore per call (each claim+complete cycle calls a dozen) and keep SQL helpers from being
-- inlined: they have none.
select is(
  (select string_agg(p.oid::regprocedure::text, ', ' order by 1)
     from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'collab' and not p.prosecdef
      and exists (select 1 from unnest(p.proconfig) c where c like 'search_path=%')),
  null, 'no helper of collab (not SECURITY DEFINER) carries its own search_path');
select is(
  (select string_agg(p.oid::regprocedure::text, ', ' order by 1)
     from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'collab'
      and (has_function_privilege('anon', p.oid, 'execute') or has_function_privilege('authenticated', p.oid, 'execute'))),
  null, 'no function of collab is executable by anon or authenticated');
select is(
  (select string_agg(c.oid::regclass::text, ', ' order by 1)
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname in ('collab', 'api') and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
      and (has_table_privilege('anon', c.oid, 'select, insert, update, delete, truncate, references, trigger')
        or has_table_privilege('authenticated', c.oid, 'select, insert, update, delete, truncate, references, trigger'))),
  null, 'no table, view or sequence of collab or api is granted to anon or authenticated');
select ok(not has_schema_privilege('anon', 'collab', 'usage') and not has_schema_privilege('authenticated', 'collab', 'usage'),
          'anon and authenticated have no USAGE on schema collab');
select is(
  (select string_agg(p.oid::regprocedure::text, ', ' order by 1)
     from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'api' and has_function_privilege('anon', p.oid, 'execute')),
  null, 'anon executes no api function (nothing is exposed to anon)');
select is(
  (select string_agg(p.oid::regprocedure::text, ', ' order by 1)
     from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname in ('api', 'collab') and has_function_privilege('public', p.oid, 'execute')),
  null, 'no function of api or collab is executable by PUBLIC');

select ok(not has_database_privilege('public', current_database(), 'temporary'),
          'PUBLIC may not create temporary objects in a database Collab''s migrations own');

select * from finish();
ROLLBACK;
