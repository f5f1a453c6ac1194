-- The signed-in caller's user id: the JWT's `sub` claim (request.jwt.claim.sub, or the sub key of
-- request.jwt.claims, as auth.uid() reads them), or null without one. Collab keys members by
-- uuid: a `sub` that is no uuid (Clerk's "user_2abc", Auth0's "auth0|123") is refused with
-- PT403 unsupported_subject instead of auth.uid()'s cast error 22P02. A regex, not an
-- exception block: this runs on every call of a signed-in user, and a block would cost a
-- subtransaction each time.
create or replace function collab.caller_id()
returns uuid
language plpgsql
stable
as $$
declare
  sub text := coalesce(nullif(current_setting('request.jwt.claim.sub', true), ''),
                       nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub');
begin
  if sub is null then
    return null;
  end if;
  if sub !~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$' then
    perform collab.raise_error('PT403', 'unsupported_subject',
      format('the JWT''s sub claim %s is not a uuid: Collab identifies users by uuid', quote_literal(left(sub, 60))),
      'sub', 'issue tokens whose sub is the user''s uuid (Supabase Auth does), or map your provider''s ids to uuids');
  end if;
  return sub::uuid;
end
$$;
comment on function collab.caller_id() is
  'The caller''s user id (the JWT sub claim, as auth.uid() reads it), null without one; PT403 unsupported_subject when sub is not a uuid.';
