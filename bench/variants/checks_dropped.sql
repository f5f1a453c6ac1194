-- Every CHECK constraint of the tables a cycle writes (collab.jobs, collab.job_events,
-- collab.job_history and its partitions) dropped: what the constraints cost a cycle, as an
-- upper bound on any change to them. A measurement, never a schema: the rules they hold would
-- no longer be enforced. Measured at 0.902x and 0.841x of the shipped cycle (docs/bench.md,
-- "A cycle's server time again").
alter table collab.jobs
  drop constraint jobs_attempts_range,
  drop constraint jobs_lease_iff_running,
  drop constraint jobs_finished_iff_terminal,
  drop constraint jobs_not_finished;
alter table collab.job_events drop constraint job_events_subject;
alter table collab.job_history
  drop constraint job_history_terminal,
  drop constraint job_history_no_lease,
  drop constraint job_history_attempts_range;
