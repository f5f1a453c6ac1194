-- The same rules in fewer CHECK constraints: one a table instead of four on collab.jobs and
-- three on collab.job_history, and CASE on the enum instead of IN lists (which Postgres folds
-- into an array constant each time it prepares the constraint). Measured at 1.034x and 0.972x
-- of the shipped cycle: no gain (docs/bench.md, "A cycle's server time again").
-- Equivalent row by row (tests/py/integration/test_bench_cycle_cost.py refuses the same rows
-- with them as with the shipped ones):
-- collab.jobs: a row is queued or running (jobs_not_finished), so finished_at is null
-- (jobs_finished_iff_terminal); a lease iff running, and a running job has its executor
-- and token (jobs_lease_iff_running); 0 <= attempt <= max_attempts (jobs_attempts_range).
alter table collab.jobs
  drop constraint jobs_attempts_range,
  drop constraint jobs_lease_iff_running,
  drop constraint jobs_finished_iff_terminal,
  drop constraint jobs_not_finished,
  add constraint jobs_row check (
    case status
      when 'queued' then lease_expires_at is null
      when 'running' then lease_expires_at is not null and executor_id is not null
                          and lease_token is not null
      else false
    end
    and finished_at is null
    and attempt between 0 and max_attempts);
alter table collab.job_events
  drop constraint job_events_subject,
  add constraint job_events_subject check (
    case type
      when 'executor_online' then job_id is null and executor_id is not null
      when 'executor_offline' then job_id is null and executor_id is not null
      else job_id is not null and queue is not null and job_type is not null
           and attempt is not null
    end);
alter table collab.job_history
  drop constraint job_history_terminal,
  drop constraint job_history_no_lease,
  drop constraint job_history_attempts_range,
  add constraint job_history_row check (
    case status
      when 'succeeded' then last_event = 'succeeded'
      when 'cancelled' then last_event = 'cancelled'
      when 'dead' then last_event = 'dead'
      else false
    end
    and lease_expires_at is null
    and attempt between 0 and max_attempts);
