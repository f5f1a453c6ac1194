-- A claim session's note, '<epoch>|<key>|<seconds>': that key was seen at this time and the
-- note holds for that many seconds. api.claim writes it into a session setting
-- (collab.leases_checked, collab.claim_contended) and reads it back with
-- collab.session_note_fresh, the one other place that knows the form. SQL with no FROM,
-- stable (extract from a timestamptz is), so it is inlined into the caller's expression: no
-- call on the claim path (tests/sql/563).
create or replace function collab.session_note(key text, at timestamptz, seconds integer)
returns text
language sql
stable
parallel safe
as $$
  select concat_ws('|', extract(epoch from at), key, seconds)
$$;
comment on function collab.session_note(text, timestamptz, integer) is
  'A claim session note ''<epoch>|<key>|<seconds>'' (collab.session_note_fresh reads it).';
revoke all on function collab.session_note(text, timestamptz, integer) from public;
