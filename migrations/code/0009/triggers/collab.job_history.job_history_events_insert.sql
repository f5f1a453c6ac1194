-- Every job that finishes (moves into the history) gets its event in the same transaction.
-- Statement-level on the partitioned table: rows written straight into a partition (the
-- backlog move of revision 0009, collab.ensure_job_history_partitions) are not new changes
-- and write no event.
create trigger job_history_events_insert
after insert on collab.job_history
referencing new table as new_jobs
for each statement execute function collab.job_history_after_insert();
