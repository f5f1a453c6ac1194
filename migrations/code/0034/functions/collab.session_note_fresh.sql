-- Whether a claim session's note, '<epoch>|<key>|<seconds>' (collab.session_note, written by
-- api.claim into collab.leases_checked and collab.claim_contended), is for this key and was written
-- within its seconds before at. Anything else (no note, another key, a malformed note, a clock
-- moved backwards past it) is not fresh. A CASE, so that the note's parts are cast only once
-- it has the form (the terms of an AND may be evaluated in any order). SQL with no FROM, so it
-- is inlined into the caller's expression: no call on the claim path (tests/sql/563). Stable,
-- not immutable: extract from a timestamptz is stable, and a function declared more constant
-- than its body is not inlined.
create or replace function collab.session_note_fresh(note text, key text, at timestamptz)
returns boolean
language sql
stable
parallel safe
as $$
  select case when note ~ '^[0-9]+(\.[0-9]+)?[|][^|]*[|][0-9]{1,2}$' and split_part(note, '|', 2) = key
              then split_part(note, '|', 1)::numeric
                   between extract(epoch from at) - split_part(note, '|', 3)::integer and extract(epoch from at)
              else false end
$$;
comment on function collab.session_note_fresh(text, text, timestamptz) is
  'Whether a claim session note ''<epoch>|<key>|<seconds>'' is for key and was written within its seconds before at.';
revoke all on function collab.session_note_fresh(text, text, timestamptz) from public;
