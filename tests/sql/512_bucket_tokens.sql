-- collab.bucket_tokens: the refill of a token bucket, and inlined where take_tokens uses it.
BEGIN;
select plan(5);

select is(collab.bucket_tokens(2, '2026-01-01 00:00:00+00', '2026-01-01 00:00:03+00', 0.5, 10),
          3.5::double precision, '2 tokens + 3 s at 0.5/s = 3.5');
select is(collab.bucket_tokens(9, '2026-01-01 00:00:00+00', '2026-01-01 00:01:00+00', 1, 10),
          10::double precision, 'capped at burst');
select is(collab.bucket_tokens(-1.5, '2026-01-01 00:00:00+00', '2026-01-01 00:00:01+00', 1, 10),
          -0.5::double precision, 'a debt is paid back at the rate');
select is(collab.bucket_tokens(4, '2026-01-01 00:00:10+00', '2026-01-01 00:00:00+00', 1, 10),
          4::double precision, 'a clock that went back refills nothing');

select ok(not exists (select 1 from tests.plan_lines('select collab.bucket_tokens(t, now(), now(), 1, 2) from (values (1.0::float8)) v(t)') line where line like '%bucket_tokens(%'), 'inlined: no call in the plan');

select * from finish();
ROLLBACK;
