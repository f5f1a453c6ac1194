-- collab.backoff_delay(attempt, base, max, jitter) stays within
-- [min(max, base*2^(attempt-1)) * (1 - jitter), min(max, base*2^(attempt-1))], over many draws.
BEGIN;
select plan(8);

create temp table draws as
  select a.attempt, extract(epoch from collab.backoff_delay(a.attempt, 2, 100, 0.25)) as seconds,
         least(100, 2 * power(2, a.attempt - 1)) as nominal
    from generate_series(1, 10) a(attempt), generate_series(1, 200) n;

select ok((select bool_and(seconds <= nominal + 1e-6) from draws), 'never above min(max, base*2^(attempt-1))');
select ok((select bool_and(seconds >= nominal * 0.75 - 1e-6) from draws), 'never below it minus the jitter fraction');
select ok((select max(seconds) - min(seconds) > 0 from draws where attempt = 3), 'the jitter spreads the delays');
select ok((select bool_and(seconds <= 100 + 1e-6) from draws where attempt >= 7), 'from attempt 7 the max caps it');
select is(collab.backoff_delay(1, 2, 100, 0), interval '2 seconds', 'no jitter: attempt 1 waits base');
select is(collab.backoff_delay(4, 2, 100, 0), interval '16 seconds', 'no jitter: attempt 4 waits base*8');
select is(collab.backoff_delay(1000, 2, 100, 0), interval '100 seconds', 'a huge attempt waits the max (no overflow)');
select is(collab.backoff_delay(0, 2, 100, 0), interval '2 seconds', 'attempt 0 is treated as attempt 1');

select * from finish();
ROLLBACK;
