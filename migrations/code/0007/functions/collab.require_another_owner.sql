-- A workspace that has an owner keeps one: before `leaving` stops being an owner of `ws`
-- (demoted, removed, leaving), raise PT409 last_owner when they are its only owner.
-- The owner rows are locked (in user_id order, so concurrent callers queue instead of
-- deadlocking) before they are counted: of two concurrent transactions taking the last two
-- owners away, the second waits for the first, then counts without the row the first changed
-- (re-checked after the wait) and is refused. Callers take no other member row lock before
-- this one. A user who is not (or no longer) an owner passes.
create or replace function collab.require_another_owner(ws uuid, leaving uuid)
returns void
language plpgsql
volatile
as $$
declare
  is_owner boolean;
  others integer;
begin
  select coalesce(bool_or(o.user_id = require_another_owner.leaving), false),
         count(*) filter (where o.user_id <> require_another_owner.leaving)
    into is_owner, others
    from (select m.user_id from collab.members m
           where m.workspace_id = require_another_owner.ws and m.role = 'owner'
           order by m.user_id
             for update) o;
  if is_owner and others = 0 then
    perform collab.raise_error('PT409', 'last_owner',
      format('user %s is the last owner of workspace %s, which would be left without one',
             require_another_owner.leaving, require_another_owner.ws),
      'user_id', 'make another member an owner first (api.add_member with role owner)',
      jsonb_build_object('workspace_id', require_another_owner.ws));
  end if;
end
$$;
comment on function collab.require_another_owner(uuid, uuid) is
  'PT409 last_owner when leaving is the only owner of workspace ws; locks the owner rows first, so concurrent demotions, removals and leaves of the last owners serialize.';
