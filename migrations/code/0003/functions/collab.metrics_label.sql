-- A Prometheus label value escaped for the text format: backslash, double quote, newline.
create or replace function collab.metrics_label(value text)
returns text
language sql
immutable
parallel safe
as $$
  select replace(replace(replace(coalesce(value, ''), E'\\', E'\\\\'), '"', E'\\"'), E'\n', E'\\n')
$$;
comment on function collab.metrics_label(text) is 'Escapes a Prometheus label value (backslash, double quote, newline).';
