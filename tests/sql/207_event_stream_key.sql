-- Revision 0012 (issue 18, move M4 of the brief): the event stream has one ordering index.
-- The primary key of collab.job_events is the stream's order (xid, id) with workspace_id
-- last, and the only other index is the job's timeline (job_id, id); the separate (xid, id)
-- index and the BRIN on created_at are gone. api.events_since finds a cursor's event by its
-- whole key (xid, id): a cursor naming a real event id under another xid was never handed out,
-- and is judged by its position like any cursor of no event. collab.purge_events deletes by
-- (xid, id): tests/sql/202 holds its behaviour. Since revision 0029 the table is partitioned
-- by xid (tests/sql/208): the indexes are the partitioned table's, each partition has its own.
BEGIN;
select plan(8);

select is((select array_agg(a.attname::text order by k.n)
             from pg_constraint c
             cross join lateral unnest(c.conkey) with ordinality k(attnum, n)
             join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum
            where c.conrelid = 'collab.job_events'::regclass and c.contype = 'p'),
          array['xid', 'id', 'workspace_id'],
          'the primary key of job_events is the stream order (xid, id), then workspace_id');
select is((select array_agg(pg_get_indexdef(i.indexrelid) order by i.indexrelid::regclass::text)
             from pg_index i where i.indrelid = 'collab.job_events'::regclass),
          array['CREATE INDEX job_events_job_idx ON ONLY collab.job_events USING btree (job_id, id)',
                'CREATE UNIQUE INDEX job_events_pkey ON ONLY collab.job_events USING btree (xid, id, workspace_id)'],
          'two indexes: the key and the job''s timeline (no separate stream index, no BRIN)');

-- Three events of three transactions long ended (explicit xids below every snapshot's xmin,
-- so that api.events_since serves them inside this test's transaction).
delete from collab.job_events;
insert into collab.workspaces (id, name) values (tests.id('workspace_a'), 'tenant-a');
insert into collab.job_events (workspace_id, job_id, type, queue, job_type, attempt, xid, created_at)
select tests.id('workspace_a'), n, 'enqueued', 'q', 't', 0, (99 + n)::text::xid8, now() - interval '2 days'
  from generate_series(1, 3) n;
create temp table evs as
  select e.xid, e.id, e.xid::text || ':' || e.id as cursor from collab.job_events e order by e.xid, e.id;
grant select on evs to public;
select set_config('request.jwt.claims', jsonb_build_object('workspace_id', tests.id('workspace_a'))::text, true);

select is((select count(*) from api.events_since((select cursor from evs order by id limit 1)))::integer, 2,
  'a cursor handed out: the events after it');
select is((tests.outcome(format('select * from api.events_since(%L)',
                                '0:' || (select min(id) from evs))) ->> 'reason'),
          'cursor_expired',
  'the first event''s id under an xid it was not written in is no cursor handed out, and lies before the oldest event: cursor_expired');
select is((select count(*) from api.events_since('102:' || (select min(id) from evs)))::integer, 1,
  'the first event''s id under a later xid is a position after the oldest event: the events after it');
select is((select count(*) from api.events_since('102:' || (select max(id) + 1000 from evs)))::integer, 0,
  'a cursor of no event past the newest: nothing after it');

-- Retention deletes the prefix by the key: all but the newest go.
update collab.metrics_rollup_state set horizon = '200'::xid8;
select is(collab.purge_events(interval '1 day'), 2::bigint, 'purge_events deletes the prefix by (xid, id), the newest kept');

-- ANALYZE holds a snapshot while it reads its sample: the stream is analyzed from 3,000 rows
-- (statistics target 10 on every column), not 30,000 (revision 0013, docs/bench.md).
select is((select array_agg(a.attname::text order by a.attnum) from pg_attribute a
            where a.attrelid = 'collab.job_events'::regclass and a.attnum > 0 and not a.attisdropped
              and a.attstattarget is distinct from 10),
          null, 'every column of collab.job_events has statistics target 10');

select * from finish();
ROLLBACK;
