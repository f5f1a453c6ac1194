-- A resumed queue, or one whose concurrency limit was raised, wakes its workers for the jobs
-- it holds (collab.queues_after_update).
create trigger queues_wake_workers
after update on collab.queues
referencing old table as old_queues new table as new_queues
for each statement execute function collab.queues_after_update();
