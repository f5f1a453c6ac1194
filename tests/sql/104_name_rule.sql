-- collab.is_name: the queue and type name rule, at its edges, and inlined where it is used.
BEGIN;
select plan(13);

select ok(collab.is_name('a'), 'one letter');
select ok(collab.is_name('9'), 'one digit');
select ok(collab.is_name('agents.summarize_v2:fast-lane'), 'letters, digits and . _ - :');
select ok(collab.is_name(repeat('a', 100)), '100 characters');
select ok(not collab.is_name(repeat('a', 101)), 'not 101 characters');
select ok(not collab.is_name(''), 'not empty');
select ok(not collab.is_name('-a'), 'not starting with -');
select ok(not collab.is_name('.a'), 'not starting with .');
select ok(not collab.is_name('a b'), 'no space');
select ok(not collab.is_name(E'a\n'), 'no newline at the end');
select ok(not collab.is_name('é'), 'ASCII letters only');
select is(collab.is_name(null), null, 'null is unknown (callers test for null first)');

select ok(not exists (select 1 from tests.plan_lines('select collab.is_name(x) from (values (''a'')) v(x)') line where line like '%is_name(%'), 'inlined: no call in the plan');

select * from finish();
ROLLBACK;
