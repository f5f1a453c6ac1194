-- The first line of every vault function: the caller's workspace, provided the caller is a
-- service caller (only the service role decrypts or manages secrets). API roles other than
-- service_role are refused earlier still: no vault function is granted to them (42501).
create or replace function collab.vault_service_workspace()
returns uuid
language plpgsql
stable
as $$
begin
  if not collab.is_service_caller() then
    perform collab.raise_error('PT403', 'forbidden', 'the key vault is reachable by the service role only',
      null, 'call the vault with the service_role key, from a trusted server',
      jsonb_build_object('required_role', 'service_role'));
  end if;
  return collab.current_workspace();
end
$$;
comment on function collab.vault_service_workspace() is
  'The caller''s workspace if the caller is a service caller, else PT403 forbidden (required_role service_role).';
