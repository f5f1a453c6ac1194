-- Deleted artifacts leave the search index (issue 16): the delete statement trigger of
-- collab.artifacts calls this; collab.search_unindex keeps the statistics exact.
create or replace function collab.search_artifacts_deleted()
returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid;
  gone text[];
begin
  for ws, gone in select o.workspace_id, array_agg('artifact:' || o.id) from old_rows o group by o.workspace_id loop
    perform collab.search_unindex(ws, 'artifacts', gone);
  end loop;
  return null;
end
$$;
comment on function collab.search_artifacts_deleted() is
  'Delete statement trigger function of collab.artifacts: removes deleted artifacts from the search collection "artifacts".';
revoke all on function collab.search_artifacts_deleted() from public;
