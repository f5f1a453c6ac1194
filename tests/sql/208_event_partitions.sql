-- Revision 0029 (issue 18): collab.job_events is partitioned by ranges of xid.
-- collab.ensure_event_partitions makes the first range (a margin above the next xid: the rows
-- the default partition took stay there), makes none while half a width is left ahead, and
-- refuses a bad span or
-- width; collab.purge_events keeps a range that is not full. What needs the next xid to move
-- (transactions that commit: later ranges, full ranges, a row no range covers, retention
-- dropping ranges and the stream after it), the lock-busy rules and an event waiting for the
-- default partition while a range is made (a second session) are in
-- tests/py/integration/test_event_partitions.py.
BEGIN;
select plan(15);

create function pg_temp.parts() returns table (partition text, from_xid xid8, to_xid xid8, full_at timestamptz, n bigint)
language sql as $$
  select p.partition::text, p.from_xid, p.to_xid, p.full_at,
         (select count(*) from collab.job_events e where e.tableoid = p.partition)
    from collab.event_partitions() p
$$;

delete from collab.job_events;
select is((select array_agg(partition) from pg_temp.parts()), array['collab.job_events_default'],
  'a new database: the default partition only');
select api.enqueue('evp', 't') from generate_series(1, 3);
select is((select n from pg_temp.parts() where partition = 'collab.job_events_default'), 3::bigint,
  'until the first range is made, events go to the default partition');

-- The first range: from a margin above the next xid (width 10: 2), width xids wide; the
-- default's rows stay (their transactions took xids below it).
create temp table before_first as select pg_snapshot_xmax(pg_current_snapshot()) as next_xid;
select is(collab.ensure_event_partitions(width => 10), 1, 'the first call makes a range');
select is((select array_agg(partition order by to_xid is null) from pg_temp.parts()),
          array[(select 'collab.job_events_' || from_xid from pg_temp.parts() where to_xid is not null),
                'collab.job_events_default'],
          'named job_events_<from>, beside the default partition');
-- (at least: another session may take an xid between the two snapshots)
select ok((select from_xid::text::numeric >= (select next_xid::text::numeric from before_first) + 2
                  and to_xid::text::numeric = from_xid::text::numeric + 10
             from pg_temp.parts()
            where to_xid is not null),
          'from 2 xids past the next xid, width xids wide');
select ok((select from_xid > (select max(e.xid) from collab.job_events e) from pg_temp.parts() where to_xid is not null),
          'above every xid of the events written before');
select is((select array_agg(n order by to_xid is null) from pg_temp.parts()), array[0, 3]::bigint[],
          'the default partition keeps its rows');
select ok((select c.relrowsecurity and has_table_privilege('service_role', c.oid, 'insert')
             from pg_class c join pg_temp.parts() p on c.oid = p.partition::regclass where p.to_xid is not null),
          'row level security on and the service role''s grants, as the parent');
select is(collab.ensure_event_partitions(width => 10), 0,
          'more than half the width left ahead: nothing to make');

-- Bad input.
select is(tests.outcome('select collab.ensure_event_partitions(width => 0)') ->> 'field', 'width',
          'width 0: PT400 invalid_input on width');
select is(tests.outcome('select collab.ensure_event_partitions(width => 2147483649)') ->> 'reason', 'invalid_input',
          'width over 2^31: PT400 invalid_input');
select is(tests.outcome($$select collab.ensure_event_partitions(span => interval '30 seconds')$$) ->> 'field', 'span',
          'a span under a minute: PT400 invalid_input on span');
select is(tests.outcome('select collab.ensure_event_partitions(span => null)') ->> 'sqlstate', 'PT400',
          'no span: PT400');

-- Retention: no range is full yet (the next xid, as every snapshot sees it, is below the
-- first range's end while this transaction runs), so nothing is dropped, and with ranges
-- there are no row deletes.
set local collab.clock_offset = '10 days';
update collab.metrics_rollup_state set horizon = '1000000000000';
select is(collab.purge_events('7 days'), 0::bigint, 'a range that is not full is kept');
select is((select count(*) from collab.job_events), 3::bigint, 'and no row of it is deleted');

SELECT * FROM finish();
ROLLBACK;
