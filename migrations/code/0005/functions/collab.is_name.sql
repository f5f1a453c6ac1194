-- The rule for queue and type names: 1-100 characters of letters, digits, '.', '_', '-', ':',
-- starting with a letter or digit. Written with '*' and a length test rather than '{0,99}',
-- which PostgreSQL's regex engine matches about 5x slower (it unrolls the bounded repeat):
-- enqueue_batch tests two names per element. A one-line SQL function, so the planner inlines it.
create or replace function collab.is_name(value text)
returns boolean
language sql
immutable
parallel safe
as $$
  select value ~ '^[A-Za-z0-9][A-Za-z0-9._:-]*$' and length(value) <= 100
$$;
comment on function collab.is_name(text) is
  'True when value is a valid queue or type name (1-100 of letters, digits, ".", "_", "-", ":"; first a letter or digit).';
