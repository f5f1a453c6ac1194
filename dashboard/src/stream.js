// The live event stream, gap-free: every batch carries the cursor of its last event, and a
// reconnect resumes from the last cursor received (Last-Event-ID), so a dropped connection
// loses nothing and repeats nothing.
//
// * local stack: the gateway's server-sent events route (/api/events/stream), read with fetch
//   (EventSource cannot send the Authorization header);
// * Supabase project: api.events_since from the cursor, woken by the workspace's Realtime
//   broadcast (workspace:<id>:events) and polled every 2 s as the fallback.

const RETRY_MS = [250, 500, 1000, 2000, 4000]

export class EventStream {
  constructor (api, { onEvents, onState, onReady, onError }) {
    this.api = api
    this.onEvents = onEvents
    this.onState = onState
    this.onReady = onReady
    this.onError = onError
    this.cursor = null
    this.stopped = false
    this.failures = 0
    this.reconnects = 0
    this.controller = null
  }

  start (cursor = null) {
    this.cursor = cursor
    if (this.api.config.mode === 'local') this.runSse()
    else this.runSupabase()
  }

  stop () {
    this.stopped = true
    if (this.controller) this.controller.abort()
    if (this.channel) this.api.supabase.removeChannel(this.channel)
  }

  async wait () {
    const delay = RETRY_MS[Math.min(this.failures, RETRY_MS.length - 1)]
    this.failures += 1
    await new Promise((resolve) => setTimeout(resolve, delay))
  }

  // -- local: server-sent events over fetch --------------------------------------------------
  async runSse () {
    while (!this.stopped) {
      this.onState(this.reconnects ? 'reconnecting' : 'connecting')
      try {
        await this.readSse()
      } catch (err) {
        if (this.stopped) return
        if (err && err.fatal) { this.onError(err); return }
      }
      if (this.stopped) return
      this.reconnects += 1
      this.onState('reconnecting')
      await this.wait()
    }
  }

  async readSse () {
    const token = await this.api.accessToken()
    const headers = { apikey: this.api.config.anonKey, Authorization: `Bearer ${token}`, Accept: 'text/event-stream' }
    if (this.cursor) headers['Last-Event-ID'] = this.cursor
    this.controller = new AbortController()
    const answer = await fetch(`${this.api.config.url}${this.api.config.eventStream}`, {
      headers, signal: this.controller.signal, cache: 'no-store'
    })
    if (answer.status === 401 && await this.api.renew()) return
    if (!answer.ok) {
      const body = await answer.json().catch(() => null)
      const err = new Error(body?.message || `event stream: HTTP ${answer.status}`)
      err.fatal = answer.status === 403 || answer.status === 410
      err.status = answer.status
      throw err
    }
    const reader = answer.body.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ''
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      buffer += value
      let end
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        await this.message(block)
      }
    }
  }

  async message (block) {
    let event = 'message'
    let id = null
    const data = []
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue
      const colon = line.indexOf(':')
      const field = colon < 0 ? line : line.slice(0, colon)
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
      if (field === 'event') event = value
      else if (field === 'data') data.push(value)
      else if (field === 'id') id = value
    }
    if (!data.length) return
    const payload = JSON.parse(data.join('\n'))
    if (event === 'ready') {
      this.failures = 0
      this.onState('live')
      this.onReady(payload)
    } else if (event === 'events') {
      this.onEvents(payload)
    } else if (event === 'stream-error') {
      if (payload.status === 401 && await this.api.renew()) throw new Error('token renewed')
      const err = new Error(payload.error?.message || `event stream: HTTP ${payload.status}`)
      err.fatal = payload.status === 410 || payload.status === 403
      throw err
    }
    if (id !== null) this.cursor = id // only after the batch was handed over
  }

  // -- Supabase: events_since, woken by Realtime broadcast -------------------------------------
  async runSupabase () {
    if (!this.cursor) this.cursor = await this.api.rpc('events_head')
    const who = await this.api.rpc('whoami')
    this.onReady({ cursor: this.cursor, workspace_id: who.workspace_id, role: who.role })
    let wake = null
    await this.api.supabase.realtime.setAuth()
    this.channel = this.api.supabase
      .channel(`workspace:${who.workspace_id}:events`, { config: { private: true } })
      .on('broadcast', { event: 'job_events' }, () => { if (wake) wake() })
      .subscribe()
    while (!this.stopped) {
      try {
        const page = await this.api.rpc('events_since', { cursor: this.cursor, limit: 1000 })
        this.failures = 0
        this.onState('live')
        if (page.length) {
          this.onEvents(page)
          this.cursor = page[page.length - 1].cursor
          if (page.length === 1000) continue
        }
      } catch (err) {
        if (err.status === 410 || err.status === 403) { this.onError(err); return }
        this.onState('reconnecting')
        await this.wait()
        continue
      }
      await new Promise((resolve) => { wake = resolve; setTimeout(resolve, 2000) })
      wake = null
    }
  }
}
