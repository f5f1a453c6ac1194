-- collab.session_note_fresh reads a claim session's note, '<epoch>|<key>|<seconds>' (api.claim's
-- collab.leases_checked and collab.claim_contended): fresh only for its key, within its seconds
-- before the time given; anything else is not fresh, and it never raises. It is inlined into
-- api.claim's expressions: the claim path makes no call of it.
BEGIN;
select plan(12);

select ok(collab.session_note_fresh('1000|ws/a,b|1', 'ws/a,b', timestamptz 'epoch' + interval '1000.5 seconds'),
  'fresh: its key, half a second after it was written, within its second');
select ok(collab.session_note_fresh('1000.25|ws/a|30', 'ws/a', timestamptz 'epoch' + interval '1029 seconds'),
  'fresh: a fractional time, within its 30 seconds');
select ok(not collab.session_note_fresh('1000|ws/a|1', 'ws/a', timestamptz 'epoch' + interval '1001.5 seconds'),
  'not fresh: past its seconds');
select ok(not collab.session_note_fresh('1000|ws/a|1', 'ws/a', timestamptz 'epoch' + interval '999 seconds'),
  'not fresh: the clock moved back before it');
select ok(not collab.session_note_fresh('1000|ws/b|1', 'ws/a', timestamptz 'epoch' + interval '1000 seconds'),
  'not fresh: another key');
select ok(not collab.session_note_fresh(null, 'ws/a', now()), 'not fresh: no note');
select ok(not collab.session_note_fresh('soon|ws/a|1', 'ws/a', now())
          and not collab.session_note_fresh('1000|ws/a|x', 'ws/a', now())
          and not collab.session_note_fresh('1000|ws/a', 'ws/a', now()),
  'not fresh, and no error: malformed notes');

-- collab.session_note writes the form collab.session_note_fresh reads.
select is(collab.session_note('ws/a,b', timestamptz 'epoch' + interval '1000.25 seconds', 30), '1000.250000|ws/a,b|30',
  'a note: the time in epoch seconds, the key, the seconds');
select ok(collab.session_note_fresh(collab.session_note('ws/a', now(), 1), 'ws/a', now()),
  'a note just written is fresh for its key');

-- api.claim reads both of its notes through it without a call: the function is inlined.
set local track_functions = 'all';
select api.register_executor('note-probe', array['note-a', 'note-b']) as ex \gset
select api.enqueue(q, 't') from unnest(array['note-a', 'note-b']) q;
select is((select count(*)::integer from api.claim(:'ex', array['note-a', 'note-b'], 1, 60)), 1,
  'a claim from two queues (both notes read)');
select is(pg_stat_get_xact_function_calls('collab.session_note_fresh(text, text, timestamptz)'::regprocedure), null,
  'and no call of collab.session_note_fresh was counted: inlined');
select is(pg_stat_get_xact_function_calls('collab.session_note(text, timestamptz, integer)'::regprocedure), null,
  'nor of collab.session_note, which wrote the leases note');

select * from finish();
ROLLBACK;
