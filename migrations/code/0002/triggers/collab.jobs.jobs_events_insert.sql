-- Every new job gets its `enqueued` event in the same transaction.
create trigger jobs_events_insert
after insert on collab.jobs
referencing new table as new_jobs
for each statement execute function collab.jobs_after_insert();
