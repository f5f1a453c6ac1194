-- On Supabase (realtime.send exists), state changes are also broadcast per workspace; plain
-- Postgres gets neither the trigger nor its function. See collab.enable_realtime_broadcast.
select collab.enable_realtime_broadcast();
