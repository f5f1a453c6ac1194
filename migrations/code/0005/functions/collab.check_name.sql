-- Queue and type names: 1-100 characters of letters, digits, '.', '_', '-', ':'.
create or replace function collab.check_name(field text, value text)
returns text
language plpgsql
immutable
as $$
begin
  if value is null or not collab.is_name(value) then
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
