-- Wakes the stream subscribers of a workspace (`LISTEN "collab_events:<workspace_id>"`, empty
-- payload), at most once per 50 ms per session and workspace (collab.notify_throttled: a
-- notifying transaction takes a cluster-wide lock at commit that serialises it with every
-- other notifying commit, so the hot paths, claim and complete, must not notify on every
-- transaction). Subscribers keep reading for a moment after each wake-up (and poll anyway), so
-- a wake-up skipped here delays nothing but a commit that comes more than that moment after
-- its statement; see docs/realtime.md.
-- The channel and the throttle are per workspace: a tenant learns nothing of another's
-- activity, and on a pooled connection (PostgREST, a transaction pooler) one tenant's call
-- never silences another's wake-up (security review, finding 8 and the pooler note).
-- One expression with no FROM, inlined into the statement that calls it (tests/sql/538), so the
-- window is the one PL/pgSQL call.
create or replace function collab.notify_events(workspace_id uuid)
returns void
language sql
volatile
as $$
  select collab.notify_throttled('collab.events_notified_' || replace(notify_events.workspace_id::text, '-', ''),
                                 'collab_events:' || notify_events.workspace_id::text, '')
$$;
comment on function collab.notify_events(uuid) is
  'Notifies "collab_events:<workspace_id>" (empty payload) unless this session did for that workspace within the last 50 ms.';
