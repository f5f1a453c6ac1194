-- Deleted artifacts leave the search index in the same transaction (issue 16).
create trigger artifacts_search_delete
after delete on collab.artifacts
referencing old table as old_rows
for each statement execute function collab.search_artifacts_deleted();
