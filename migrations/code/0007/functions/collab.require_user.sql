-- The signed-in caller's user id (collab.caller_id), or PT403 forbidden for anon and for a
-- caller without a `sub` claim. `what` names the call in the message ("this call",
-- "accepting an invitation"); required_role goes to the DETAIL.
create or replace function collab.require_user(what text, required_role text default 'authenticated')
returns uuid
language plpgsql
stable
as $$
declare
  uid uuid := collab.caller_id();
begin
  if uid is null or coalesce(current_setting('role', true), 'none') = 'anon' then
    perform collab.raise_error('PT403', 'forbidden',
      format('%s needs a signed-in user (a JWT with a sub claim)', require_user.what), null,
      'sign in and send the access token as Authorization: Bearer <jwt>',
      jsonb_build_object('required_role', require_user.required_role));
  end if;
  return uid;
end
$$;
comment on function collab.require_user(text, text) is
  'The caller''s user id; PT403 forbidden (required_role in DETAIL) for anon or a caller without a sub claim.';
