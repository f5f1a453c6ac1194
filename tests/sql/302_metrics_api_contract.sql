-- The metrics api: `since` takes an interval, a timestamp or 'all' and names itself when
-- wrong (PT400 invalid_input); the functions are granted to authenticated and service_role
-- only; the metrics tables have RLS on and are not granted to anon or authenticated.
BEGIN;
select plan(11);

select throws_ok($$select api.metrics_summary('yesterday-ish')$$, 'PT400', null, 'a bad since is PT400');
select is((select (api.metrics_summary('2 hours') ->> 'since')::timestamptz),
  date_trunc('minute', collab.clock() - interval '2 hours'), 'an interval goes back from now');
select is((select (api.metrics_summary('24h') ->> 'since')::timestamptz),
  date_trunc('minute', collab.clock() - interval '24 hours'), 'short units: 24h');
select is((select (api.metrics_summary('2026-01-01 10:00:30+00') ->> 'since')::timestamptz),
  '2026-01-01 10:00:00+00'::timestamptz, 'a timestamp, rounded down to its minute');
select is((select api.metrics_summary('all') ->> 'since'), '-infinity', 'all: since the first event');
select throws_ok($$select api.metrics_summary(null)$$, 'PT400', null, 'since is required');

select ok(has_function_privilege('authenticated', 'api.metrics_summary(text, text)', 'execute')
          and has_function_privilege('service_role', 'api.metrics_prometheus()', 'execute'),
  'authenticated and service_role may read metrics');
select ok(not has_function_privilege('anon', 'api.metrics_summary(text, text)', 'execute')
          and not has_function_privilege('anon', 'api.metrics_prometheus()', 'execute'),
  'anon may not');
select is_empty($$
  select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname = 'collab' and c.relname like 'metrics\_%' and c.relkind = 'r' and not c.relrowsecurity
$$, 'RLS is on for every metrics table');
select is_empty($$
  select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname = 'collab' and c.relname like 'metrics\_%' and c.relkind = 'r'
     and (has_table_privilege('anon', c.oid, 'select') or has_table_privilege('authenticated', c.oid, 'select'))
$$, 'no metrics table is readable by anon or authenticated');
select alike(api.metrics_prometheus(), '%# TYPE collab_jobs_enqueued_total counter%',
  'the exposition declares its counters');

select * from finish();
ROLLBACK;
