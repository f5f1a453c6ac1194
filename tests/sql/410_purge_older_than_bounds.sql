-- Found by the fuzz suite: an older_than so large that now - older_than leaves the timestamp
-- range made api.purge_dead and api.purge_events fail with 22008 (timestamp out of range), an
-- internal error. Both now refuse it as PT400 invalid_input naming older_than, and an
-- older_than at the bound still works (it purges nothing that young).
BEGIN;
select plan(6);

select throws_ok($$select api.purge_dead(older_than => interval '100000000 years')$$,
  'PT400', 'older_than must be at most 1000 years',
  'purge_dead refuses an older_than beyond 1000 years');
select throws_ok($$select api.purge_events(older_than => interval '100000000 years')$$,
  'PT400', 'older_than must be at most 1000 years',
  'purge_events refuses an older_than beyond 1000 years');

create function pg_temp.detail_of(statement text) returns jsonb language plpgsql as $$
declare
  detail text;
begin
  execute statement;
  return null;
exception when others then
  get stacked diagnostics detail = pg_exception_detail;
  return detail::jsonb;
end
$$;
select is(pg_temp.detail_of($$select api.purge_dead(older_than => interval '5000 years')$$)
  ->> 'reason', 'invalid_input', 'the reason is invalid_input');
select is(pg_temp.detail_of($$select api.purge_events(older_than => interval '5000 years')$$)
  ->> 'field', 'older_than', 'the field is older_than');

select lives_ok($$select api.purge_dead(older_than => interval '1000 years')$$,
  'purge_dead takes an older_than of exactly 1000 years');
select lives_ok($$select api.purge_events(older_than => interval '1000 years')$$,
  'purge_events takes an older_than of exactly 1000 years');

select * from finish();
ROLLBACK;
