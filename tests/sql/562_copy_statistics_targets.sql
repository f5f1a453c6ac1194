-- collab.copy_statistics_targets gives a table the statistics targets set on another's columns
-- of the same names, and leaves alone those at the default; the partition upkeep functions give
-- their new partitions the parent's with it (tests/sql/560 checks the history's partitions).
BEGIN;
select plan(3);

create table pg_temp.source (a integer, b text, c jsonb);
create table pg_temp.copy (a integer, b text, c jsonb);
alter table pg_temp.source alter column a set statistics 10, alter column c set statistics 0;
alter table pg_temp.copy alter column b set statistics 50;

select collab.copy_statistics_targets('pg_temp.source', 'pg_temp.copy');
select is((select string_agg(format('%s=%s', attname, attstattarget), ' ' order by attnum) from pg_attribute
            where attrelid = 'pg_temp.copy'::regclass and attnum > 0),
  'a=10 b=50 c=0',
  'the targets set on the source are set on the copy; a column at the default on the source keeps its own');

create table pg_temp.plain (a integer);
select lives_ok($$select collab.copy_statistics_targets('pg_temp.plain', 'pg_temp.copy')$$,
  'a source with no target set changes nothing');
select is((select attstattarget::integer from pg_attribute where attrelid = 'pg_temp.copy'::regclass and attname = 'a'),
  10, 'and leaves the copy as it was');

select * from finish();
ROLLBACK;
