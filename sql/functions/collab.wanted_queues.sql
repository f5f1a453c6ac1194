-- The queues a claim (api.claim) or a wait for a turn (api.wait_turn) is for: the names
-- given, else the executor's registered ones; at least one, at most 100, each given name valid
-- (PT400 invalid_input on queues). The registered names were validated by
-- api.register_executor, so only given names are checked, in a loop of simple expressions (no
-- executor start-up on the claim's path).
create or replace function collab.wanted_queues(given text[], registered text[])
returns text[]
language plpgsql
immutable
as $$
declare
  wanted text[] := coalesce(given, registered);
  name_ text;
begin
  if wanted is null or cardinality(wanted) = 0 then
    perform collab.raise_error('PT400', 'invalid_input',
      'queues is required (or register the executor with its queues)', 'queues');
  end if;
  if cardinality(wanted) > 100 then
    perform collab.raise_error('PT400', 'invalid_input',
      format('queues holds %s names; at most 100 per call', cardinality(wanted)), 'queues');
  end if;
  if given is not null then
    foreach name_ in array wanted loop
      if not coalesce(collab.is_name(name_), false) then
        perform collab.check_name('queues', name_);
      end if;
    end loop;
  end if;
  return wanted;
end
$$;
comment on function collab.wanted_queues(text[], text[]) is
  'The queues of a claim or a turn: given, else registered; 1-100 names, each given one valid (else PT400 invalid_input on queues).';
