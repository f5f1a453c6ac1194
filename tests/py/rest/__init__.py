"""The REST suite: supabase-py through the gateway to the real PostgREST (issue 13)."""
