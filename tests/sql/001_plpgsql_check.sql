-- plpgsql_check over every PL/pgSQL function of collab and api: no error-level finding.
-- Trigger functions are checked against a table they are attached to (plpgsql_check needs
-- one to know NEW/OLD); a trigger function attached nowhere cannot be checked and is listed
-- as a failure too, so it gets removed or attached. Transition tables (REFERENCING NEW
-- TABLE AS ...) are passed to the checker by name. Each finding names its function.
BEGIN;
select plan(2);

-- pg_cron lives only in the cluster's cron database; where it is absent, a stub with
-- pg_cron's signatures (rolled back with the file) lets the scheduling helpers be checked.
do $stub$
begin
  if to_regnamespace('cron') is null then
    create schema cron;
    create table cron.job (jobid bigint primary key, schedule text, command text,
                           nodename text, nodeport int, database text, username text,
                           active boolean, jobname text);
    create function cron.schedule(job_name text, schedule text, command text) returns bigint
      language sql as 'select 0::bigint';
    create function cron.unschedule(job_id bigint) returns boolean
      language sql as 'select true';
    create function cron.unschedule(job_name text) returns boolean
      language sql as 'select true';
  end if;
end
$stub$;

create temp table checked_functions as
  select p.oid as fn,
         p.prorettype = 'trigger'::regtype as is_trigger,
         t.tgrelid as relid, t.tgnewtable::text as new_table, t.tgoldtable::text as old_table
    from pg_proc p
    join pg_namespace n on n.oid = p.pronamespace
    join pg_language l on l.oid = p.prolang
    left join lateral (select tg.tgrelid, tg.tgnewtable, tg.tgoldtable
                         from pg_trigger tg where tg.tgfoid = p.oid
                        order by tg.oid limit 1) t on true
   where n.nspname in ('collab', 'api') and l.lanname = 'plpgsql';

select is_empty($$
  select format('%s: trigger function attached to no table', fn::regprocedure)
    from checked_functions
   where is_trigger and relid is null
$$, 'every PL/pgSQL trigger function is attached to a table');

select is_empty($$
  select format('%s line %s: %s%s', c.fn::regprocedure, coalesce(r.lineno::text, '?'), r.message,
                coalesce(' (' || r.query || ')', ''))
    from checked_functions c
   cross join lateral plpgsql_check_function_tb(
           c.fn, coalesce(c.relid, 0::oid)::regclass,
           fatal_errors => false, other_warnings => false, extra_warnings => false,
           newtable => c.new_table, oldtable => c.old_table) r
   where not (c.is_trigger and c.relid is null)
     and r.level = 'error'
$$, 'plpgsql_check finds no error in any collab or api function');

select * from finish();
ROLLBACK;
