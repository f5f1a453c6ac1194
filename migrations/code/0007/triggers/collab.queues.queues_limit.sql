-- New queues stay within the operator's queues limit of their workspace.
create trigger queues_limit
after insert on collab.queues
referencing new table as new_rows
for each statement execute function collab.check_created_limit('queues');
