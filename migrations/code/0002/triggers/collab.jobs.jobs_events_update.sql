-- Every job change gets its event in the same transaction; illegal transitions are refused.
create trigger jobs_events_update
after update on collab.jobs
referencing old table as old_jobs new table as new_jobs
for each statement execute function collab.jobs_after_update();
