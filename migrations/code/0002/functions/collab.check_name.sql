-- Queue and type names: 1-100 characters of letters, digits, '.', '_', '-', ':'.
create or replace function collab.check_name(field text, value text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
  if value is null or value !~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$' then
    perform collab.raise_error('PT400', 'invalid_input',
      format('%s must be 1-100 characters of letters, digits, ".", "_", "-" or ":" (got %s)',
             field, coalesce(quote_literal(left(value, 40)), 'null')),
      field);
  end if;
  return value;
end
$$;
comment on function collab.check_name(text, text) is
  'Validates a queue or type name; raises PT400 invalid_input naming the field.';
