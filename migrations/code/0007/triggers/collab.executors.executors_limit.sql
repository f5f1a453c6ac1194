-- New executors stay within the operator's executors limit of their workspace.
create trigger executors_limit
after insert on collab.executors
referencing new table as new_rows
for each statement execute function collab.check_created_limit('executors');
