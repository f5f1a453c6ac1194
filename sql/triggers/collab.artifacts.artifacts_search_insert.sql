-- New text artifacts are indexed for search in the same transaction (issue 16).
create trigger artifacts_search_insert
after insert on collab.artifacts
referencing new table as new_rows
for each statement execute function collab.search_artifacts_inserted();
