-- api.enqueue_batch answers in input order, new jobs' ids drawn in input order, whether the
-- batch has idempotency keys (the ids drawn first, the answer built from the stored jobs) or
-- not (the jobs returned as its INSERT makes them, the ids drawn by the identity after the
-- INSERT's sort); each answer is the job as stored, and the `enqueued` events follow the ids.
BEGIN;
select plan(9);

-- 300 elements over 7 queues (the INSERT joins the queues by a hash: its input is not in
-- input order until sorted), each payload naming its index.
create temp table plain as
  select row_number() over () - 1 as pos, b.*
    from api.enqueue_batch((select jsonb_agg(jsonb_build_object(
           'queue', 'order-107-' || (g % 7), 'type', 't', 'payload', jsonb_build_object('i', g),
           'priority', g % 3) order by g)
           from generate_series(0, 299) g)) b;

select is((select count(*) filter (where (payload ->> 'i')::bigint = pos) from plain), 300::bigint,
  'without keys: 300 jobs, answered in input order');
select is((select count(*) from (select id, lag(id) over (order by pos) as prev from plain) x
            where x.prev is not null and x.id <= x.prev), 0::bigint,
  'their ids ascend in input order');
select is((select count(*) from plain
            where not duplicate and status = 'queued' and queue = 'order-107-' || (pos % 7)
              and priority = pos % 3), 300::bigint,
  'each new, queued, on its queue with its priority');
select is((select count(*) from plain p join collab.jobs j on j.id = p.id
            where collab.job_row(j) = row(p.id, p.queue, p.type, p.status, p.payload, p.priority,
                    p.attempt, p.max_attempts, p.run_at, p.idempotency_key, p.executor_id,
                    p.lease_expires_at, p.cancel_requested, p.progress, p.progress_message,
                    p.result, p.last_error, p.created_at, p.claimed_at, p.finished_at,
                    p.duplicate)::api.job), 300::bigint,
  'each answer is the job as stored');
select is((select count(*) from (select e.job_id, lag(e.job_id) over (order by e.id) as prev
                                   from collab.job_events e
                                  where e.type = 'enqueued' and e.job_id in (select id from plain)) x
            where x.prev is not null and x.job_id <= x.prev), 0::bigint,
  'the enqueued events follow the ids');

-- With keys: a new key, a repeat of a stored key, an element without a key, and a key twice
-- in the batch.
select api.enqueue('order-107-0', 't', '{"stored": true}', idempotency_key => 'k-107-stored');
create temp table keyed as
  select row_number() over () - 1 as pos, b.*
    from api.enqueue_batch('[{"queue": "order-107-1", "type": "t", "payload": {"i": 0}, "idempotency_key": "k-107-a"},
                             {"queue": "order-107-0", "type": "t", "payload": {"stored": true}, "idempotency_key": "k-107-stored"},
                             {"queue": "order-107-2", "type": "t", "payload": {"i": 2}},
                             {"queue": "order-107-1", "type": "t", "payload": {"i": 0}, "idempotency_key": "k-107-a"},
                             {"queue": "order-107-3", "type": "t", "payload": {"i": 4}, "idempotency_key": "k-107-b"}]') b;
select is(array(select duplicate from keyed order by pos), array[false, true, false, true, false],
  'with keys: answered in input order, repeats marked');
select is((select id from keyed where pos = 1),
          (select job_id from collab.idempotency_keys where key = 'k-107-stored'),
  'a stored key answers its job');
select is((select id from keyed where pos = 3), (select id from keyed where pos = 0),
  'a key twice in the batch answers the first element''s job');
select ok((select id from keyed where pos = 0) < (select id from keyed where pos = 2)
          and (select id from keyed where pos = 2) < (select id from keyed where pos = 4),
  'the new jobs'' ids ascend in input order');

select * from finish();
ROLLBACK;
