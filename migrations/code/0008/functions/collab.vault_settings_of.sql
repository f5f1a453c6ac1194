-- The vault settings of a workspace: its collab.vault_settings row, or the defaults
-- (production, 10 versions, 30 days of recovery). PL/pgSQL: its plan is cached per session.
create or replace function collab.vault_settings_of(workspace_id uuid)
returns collab.vault_settings
language plpgsql
stable
as $$
declare
  s collab.vault_settings;
begin
  select * into s from collab.vault_settings x where x.workspace_id = vault_settings_of.workspace_id;
  if not found then
    s := row(vault_settings_of.workspace_id, 'production', 10, 30, null)::collab.vault_settings;
  end if;
  return s;
end
$$;
comment on function collab.vault_settings_of(uuid) is
  'A workspace''s vault settings row, or the defaults (production, 10 versions, 30 recovery days).';
