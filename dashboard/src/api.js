// Every read and action is a call of an `api` function under the signed-in user's own JWT,
// through supabase-js: the gateway of a local `collab stack`, or a Supabase project.
import { createClient } from '@supabase/supabase-js'

export class ApiError extends Error {
  constructor (error, status) {
    super(error?.message || `HTTP ${status}`)
    this.status = status
    this.code = error?.code
    this.hint = error?.hint
    let details = null
    try { details = error?.details ? JSON.parse(error.details) : null } catch { details = null }
    this.reason = details?.reason || error?.code || 'error'
  }
}

// config: {mode: 'local' | 'supabase', url, anonKey, devSignIn, eventStream}
export async function loadConfig () {
  const answer = await fetch('./config.json', { cache: 'no-store' })
  if (!answer.ok) throw new Error(`config.json: HTTP ${answer.status}`)
  const config = await answer.json()
  config.url = (config.url || window.location.origin).replace(/\/$/, '')
  return config
}

const SESSION_KEY = 'collab.dashboard.identity'

export class Api {
  constructor (config) {
    this.config = config
    this.identity = null // local: {access_token, workspace_id, user_id, label}
    this.supabase = null
    this.openapi = null
    this.connect()
  }

  connect () {
    const local = this.config.mode === 'local'
    const headers = local && this.identity ? { Authorization: `Bearer ${this.identity.access_token}` } : {}
    this.supabase = createClient(this.config.url, this.config.anonKey, {
      db: { schema: 'api' },
      auth: { persistSession: !local, autoRefreshToken: !local, detectSessionInUrl: !local },
      global: { headers }
    })
  }

  // -- sign-in ------------------------------------------------------------------------------
  restore () {
    if (this.config.mode !== 'local') return
    try { this.identity = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null') } catch { this.identity = null }
    this.connect()
  }

  async devIdentities () {
    const answer = await fetch(`${this.config.url}/api/dashboard/dev/identities`)
    if (!answer.ok) throw new ApiError(await answer.json().catch(() => null), answer.status)
    return (await answer.json()).workspaces
  }

  async devSignIn (workspace, member) {
    const answer = await fetch(`${this.config.url}/api/dashboard/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ workspace_id: workspace.id, user_id: member ? member.user_id : null })
    })
    if (!answer.ok) throw new ApiError(await answer.json().catch(() => null), answer.status)
    const { access_token: token } = await answer.json()
    this.identity = {
      access_token: token,
      workspace_id: workspace.id,
      user_id: member ? member.user_id : null,
      label: member ? `${member.role} ${member.user_id.slice(0, 8)}` : 'operator (service role)',
      workspace_name: workspace.name
    }
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(this.identity))
    this.connect()
  }

  async supabaseSignIn (email, password) {
    const { error } = await this.supabase.auth.signInWithPassword({ email, password })
    if (error) throw new ApiError(error, error.status)
  }

  async signedIn () {
    if (this.config.mode === 'local') return this.identity !== null
    const { data } = await this.supabase.auth.getSession()
    return data.session !== null
  }

  async signOut () {
    if (this.config.mode === 'local') {
      sessionStorage.removeItem(SESSION_KEY)
      this.identity = null
      this.connect()
    } else {
      await this.supabase.auth.signOut()
    }
  }

  // The bearer the event stream sends (the same JWT every call sends).
  async accessToken () {
    if (this.config.mode === 'local') return this.identity?.access_token
    const { data } = await this.supabase.auth.getSession()
    return data.session?.access_token
  }

  // A local dev token expires after an hour: sign in again as the same identity.
  async renew () {
    if (this.config.mode !== 'local' || !this.identity) return false
    const { workspace_id: id, workspace_name: name, user_id: userId } = this.identity
    const member = userId ? { user_id: userId, role: this.identity.label.split(' ')[0] } : null
    await this.devSignIn({ id, name }, member)
    return true
  }

  // -- calls --------------------------------------------------------------------------------
  async rpc (name, args = {}, retried = false) {
    const { data, error, status } = await this.supabase.rpc(name, args)
    if (error) {
      if (status === 401 && !retried && await this.renew()) return this.rpc(name, args, true)
      throw new ApiError(error, status)
    }
    return data
  }

  // Which api functions the caller may call (PostgREST's OpenAPI document lists those only):
  // the artifacts and routing panels appear only where their functions exist.
  async functions () {
    if (this.openapi) return this.openapi
    const token = await this.accessToken()
    const answer = await fetch(`${this.config.url}/rest/v1/`, {
      headers: { apikey: this.config.anonKey, Authorization: `Bearer ${token}`, 'Accept-Profile': 'api' }
    })
    const found = {}
    if (answer.ok) {
      const doc = await answer.json()
      for (const [path, item] of Object.entries(doc.paths || {})) {
        const match = path.match(/^\/rpc\/(.+)$/)
        if (!match) continue
        const op = item.post || item.get
        const body = (op?.parameters || []).find((p) => p.in === 'body')
        found[match[1]] = Object.keys(body?.schema?.properties || {})
      }
    }
    this.openapi = found
    return found
  }
}
