// Collab's live dashboard. State comes from the api (list_queues, list_jobs, get_job,
// list_executors, metrics_summary), then the event stream keeps it live: events are queued as
// they arrive and applied once per animation frame (a burst of thousands of events is one
// render), and the lists they change are read again at most a few times a second.
import './style.css'
import uPlot from 'uplot'
import { Api, ApiError, loadConfig } from './api.js'
import { EventStream } from './stream.js'

const STATE_OF = {
  enqueued: 'queued',
  requeued: 'queued',
  retry_scheduled: 'queued',
  lease_expired: 'queued',
  lease_released: 'queued',
  claimed: 'running',
  succeeded: 'succeeded',
  dead: 'dead',
  cancelled: 'cancelled'
}
const STATUSES = ['queued', 'running', 'succeeded', 'dead', 'cancelled']
const PERIODS = { '': 'any time', '15 minutes': 'last 15 min', '1 hour': 'last hour', '1 day': 'last day', '7 days': 'last 7 days' }
const PAGE = 50
const SAMPLE_MS = 2000
const KEEP_SAMPLES = 900 // 30 minutes at one sample every 2 s

let api
const app = {
  who: null, // {role, workspace_id, user_id}
  features: {},
  connection: 'connecting',
  eventsReceived: 0,
  startCursor: null,
  lastCursor: null,
  receivedIds: [], // the last 10,000 event ids, in order (the browser tests compare them)
  feed: [],
  queues: [],
  metrics: null,
  samples: [],
  jobs: { rows: [], next: null, pages: [null], page: 0, filters: {} },
  dead: { rows: [], next: null, selected: new Set() },
  executors: [],
  heldBy: {},
  job: null,
  view: null,
  stream: null,
  charts: []
}

// -- helpers ----------------------------------------------------------------------------------
const $ = (selector, root = document) => root.querySelector(selector)
const esc = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]))
const time = (value) => value ? new Date(value).toLocaleTimeString() : ''
const dateTime = (value) => value ? new Date(value).toLocaleString() : ''
const ms = (seconds) => seconds == null ? '–' : `${(seconds * 1000).toFixed(seconds < 1 ? 1 : 0)} ms`
const isAdmin = () => ['admin', 'owner', 'service'].includes(app.who?.role)
const statusCell = (status) => `<span class="status status-${esc(status)}">${esc(status)}</span>`

const timers = {}
// Run fn at most once per `every` ms, soon after the first call of a burst.
function throttle (key, every, fn) {
  if (timers[key]) return
  const last = timers[`${key}:last`] || 0
  const delay = Math.max(50, last + every - Date.now())
  timers[key] = setTimeout(async () => {
    timers[`${key}:last`] = Date.now()
    try { await fn() } catch (err) { showError(err) } finally { timers[key] = null }
  }, delay)
}

function showError (err) {
  const box = $('#errors')
  if (!box) return
  box.textContent = err instanceof ApiError ? `${err.message} (${err.reason})` : String(err.message || err)
}

// -- sign-in ----------------------------------------------------------------------------------
async function signInView () {
  $('#nav').hidden = true
  $('#who').innerHTML = ''
  const main = $('#main')
  if (api.config.mode !== 'local') {
    main.innerHTML = `<h2>Sign in</h2>
      <form id="signin"><p><label>Email <input name="email" type="email" autocomplete="username" required></label></p>
      <p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
      <p><button type="submit">Sign in</button></p><p id="errors" class="error" role="alert"></p></form>`
    $('#signin').addEventListener('submit', async (e) => {
      e.preventDefault()
      const form = new FormData(e.target)
      try { await api.supabaseSignIn(form.get('email'), form.get('password')); await start() } catch (err) { showError(err) }
    })
    return
  }
  if (!api.config.devSignIn) {
    main.innerHTML = '<h2>Sign in</h2><p class="error">Dev sign-in is off on this gateway.</p>'
    return
  }
  const workspaces = await api.devIdentities()
  main.innerHTML = `<h2>Sign in (local stack)</h2>
    <p class="note">Pick a member of a workspace: the dashboard acts with a token minted for them, and the database decides what they may see and do.</p>
    <ul class="signin">${workspaces.map((w, wi) => `<li data-workspace="${esc(w.id)}"><strong>${esc(w.name)}</strong> <span class="note">${esc(w.id)}</span><ul>
      <li><button type="button" data-w="${wi}" data-m="-1">operator (service role)</button></li>
      ${w.members.map((m, mi) => `<li><button type="button" data-w="${wi}" data-m="${mi}">${esc(m.role)} ${esc(m.user_id)}</button></li>`).join('')}
    </ul></li>`).join('')}</ul><p id="errors" class="error" role="alert"></p>`
  main.querySelectorAll('button[data-w]').forEach((button) => button.addEventListener('click', async () => {
    const workspace = workspaces[Number(button.dataset.w)]
    const member = Number(button.dataset.m) < 0 ? null : workspace.members[Number(button.dataset.m)]
    try { await api.devSignIn(workspace, member); await start() } catch (err) { showError(err) }
  }))
}

// -- start --------------------------------------------------------------------------------------
async function start () {
  if (!(await api.signedIn())) return signInView()
  try {
    app.who = await api.rpc('whoami')
  } catch (err) {
    await api.signOut()
    await signInView()
    showError(err)
    return
  }
  app.features = await api.functions()
  $('#nav').hidden = false
  $('#nav-routing').hidden = !app.features.routing_snapshot
  renderWho()
  if (app.stream) app.stream.stop()
  app.stream = new EventStream(api, {
    onEvents: receive,
    onState: (state) => { app.connection = state; renderWho() },
    onReady: (ready) => { app.lastCursor = ready.cursor; renderWho() },
    onError: (err) => { app.connection = 'stopped'; renderWho(); showError(err) }
  })
  // Follow from the live end, then read the state: an event already reflected may come
  // again (applied idempotently); none is missed (api.events_head).
  const head = await api.rpc('events_head')
  app.startCursor = head
  app.stream.start(head)
  sample()
  setInterval(sample, SAMPLE_MS)
  window.addEventListener('hashchange', route)
  route()
}

function renderWho () {
  const who = $('#who')
  if (!app.who) return
  const label = api.identity?.label || app.who.user_id || ''
  who.innerHTML = `<span>Workspace <strong>${esc(api.identity?.workspace_name || '')}</strong> <span class="note">${esc(app.who.workspace_id)}</span></span>
    <span>as <strong id="role">${esc(app.who.role)}</strong> ${esc(label.startsWith(app.who.role) ? label.slice(app.who.role.length) : label)}</span>
    <span id="connection" class="${app.connection === 'live' ? 'conn-live' : 'conn-down'}">stream: ${esc(app.connection)}</span>
    <span>events: <strong id="events-received">${app.eventsReceived}</strong></span>
    <button type="button" id="signout">Sign out</button>`
  $('#signout').addEventListener('click', async () => { if (app.stream) app.stream.stop(); await api.signOut(); window.location.hash = '#/'; window.location.reload() })
}

// -- events: queued, applied once per frame ---------------------------------------------------
let pending = []
let frame = 0
function receive (events) {
  pending.push(...events)
  if (!frame) frame = requestAnimationFrame(flush)
}

function flush () {
  frame = 0
  const batch = pending
  pending = []
  if (!batch.length) return
  app.eventsReceived += batch.length
  app.lastCursor = batch[batch.length - 1].cursor
  for (const event of batch) app.receivedIds.push(event.id)
  if (app.receivedIds.length > 10000) app.receivedIds.splice(0, app.receivedIds.length - 10000)
  app.feed = app.feed.concat(batch.slice(-30)).slice(-30)
  let jobsChanged = false
  let newJobs = false
  let executorsChanged = false
  let deadChanged = false
  let currentJob = false
  const byId = new Map(app.jobs.rows.map((j) => [j.id, j]))
  for (const event of batch) {
    if (event.job_id == null) { executorsChanged = true; continue }
    const status = STATE_OF[event.type]
    const row = byId.get(event.job_id)
    if (row && status) {
      row.status = status
      if (event.type === 'claimed') { row.executor_id = event.executor_id; row.attempt = event.attempt }
      jobsChanged = true
    }
    if (event.type === 'enqueued' || event.type === 'requeued') newJobs = true
    if (event.type === 'dead' || event.type === 'requeued') deadChanged = true
    if (event.type === 'claimed' || status === 'succeeded' || status === 'dead') executorsChanged = true
    if (app.job && event.job_id === app.job.id) currentJob = true
  }
  const counter = $('#events-received')
  if (counter) counter.textContent = String(app.eventsReceived)
  renderFeed()
  if (app.view === 'jobs') {
    if (jobsChanged) renderJobRows()
    // status filters and new rows: read the page again (few times a second at most)
    if ((newJobs && app.jobs.page === 0) || (jobsChanged && app.jobs.filters.status)) throttle('jobs', 300, loadJobs)
  }
  if (app.view === 'queues') throttle('queues', 1000, loadQueues)
  if (app.view === 'dlq' && deadChanged) throttle('dlq', 300, loadDead)
  if (app.view === 'executors' && executorsChanged) throttle('executors', 1000, loadExecutors)
  if (app.view === 'job' && currentJob) throttle('job', 300, loadJob)
}

function renderFeed () {
  const feed = $('#feed')
  if (!feed) return
  feed.innerHTML = app.feed.slice().reverse().map((e) =>
    `<li>${esc(time(e.created_at))} ${esc(e.type)} ${e.job_id != null ? `job <a href="#/jobs/${e.job_id}">${e.job_id}</a> ${esc(e.queue)}/${esc(e.job_type)}` : `executor ${esc(e.data?.name)}`}</li>`).join('')
}

// -- routing ----------------------------------------------------------------------------------
function route () {
  const hash = window.location.hash || '#/'
  const [path, query] = hash.slice(1).split('?')
  const params = new URLSearchParams(query || '')
  app.charts.forEach((c) => c.destroy())
  app.charts = []
  app.job = null
  document.querySelectorAll('#nav a').forEach((a) => {
    const target = a.getAttribute('href').slice(1)
    const current = target === '/' ? path === '/' : path.startsWith(target)
    if (current) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current')
  })
  const jobMatch = path.match(/^\/jobs\/(\d+)$/)
  if (jobMatch) return jobView(Number(jobMatch[1]))
  if (path === '/jobs') return jobsView(params)
  if (path === '/dlq') return dlqView()
  if (path === '/executors') return executorsView()
  if (path === '/routing') return routingView()
  return queuesView()
}

// -- queues (overview) ------------------------------------------------------------------------
async function sample () {
  try {
    const summary = await api.rpc('metrics_summary', { since: '5 minutes' })
    app.metrics = summary
    const seconds = Math.max(1, (new Date(summary.until) - new Date(summary.since)) / 1000)
    const gauges = Object.values(summary.gauges.queues || {})
    const sum = (key) => gauges.reduce((n, q) => n + (q[key] || 0), 0)
    const c = summary.totals.counters
    const lat = summary.totals.latency
    app.samples.push([Date.now() / 1000, sum('queued'), sum('running'), summary.gauges.dlq_size,
      c.completed / seconds, c.failed / seconds,
      lat.queue_wait.p50, lat.queue_wait.p95, lat.queue_wait.p99,
      lat.run_time.p50, lat.run_time.p95, lat.run_time.p99,
      lat.end_to_end.p50, lat.end_to_end.p95, lat.end_to_end.p99])
    if (app.samples.length > KEEP_SAMPLES) app.samples.shift()
    if (app.view === 'queues') { drawCharts(); renderQueueRows() }
  } catch (err) {
    if (app.view === 'queues') showError(err)
  }
}

const CHARTS = [
  { title: 'Jobs now (all queues)', label: 'jobs', series: [['queued', 1, '#6b4f00'], ['running', 2, '#0b5cad'], ['dead (DLQ)', 3, '#a0111f']] },
  { title: 'Throughput, last 5 min (jobs/s)', label: 'jobs/s', series: [['completed', 4, '#1a6b2f'], ['failed attempts', 5, '#a0111f']] },
  { title: 'Queue wait, last 5 min (s)', label: 's', series: [['p50', 6, '#1a6b2f'], ['p95', 7, '#6b4f00'], ['p99', 8, '#a0111f']] },
  { title: 'Run time, last 5 min (s)', label: 's', series: [['p50', 9, '#1a6b2f'], ['p95', 10, '#6b4f00'], ['p99', 11, '#a0111f']] },
  { title: 'End to end, last 5 min (s)', label: 's', series: [['p50', 12, '#1a6b2f'], ['p95', 13, '#6b4f00'], ['p99', 14, '#a0111f']] }
]

function drawCharts () {
  const box = $('#charts')
  if (!box) return
  const columns = (index) => app.samples.map((s) => s[index])
  if (!app.charts.length) {
    box.innerHTML = CHARTS.map((c, i) => `<figure class="chart" role="img" aria-label="${esc(c.title)} over time"><h3>${esc(c.title)}</h3><div id="chart-${i}"></div></figure>`).join('')
    CHARTS.forEach((c, i) => {
      const target = $(`#chart-${i}`)
      app.charts.push(new uPlot({
        width: Math.max(300, target.clientWidth),
        height: 180,
        series: [{}, ...c.series.map(([label, , stroke]) => ({ label, stroke, width: 2, spanGaps: true }))],
        axes: [{}, { label: c.label, size: 60 }],
        legend: { live: false }
      }, [columns(0), ...c.series.map(([, index]) => columns(index))], target))
    })
    return
  }
  CHARTS.forEach((c, i) => app.charts[i].setData([columns(0), ...c.series.map(([, index]) => columns(index))]))
}

async function queuesView () {
  app.view = 'queues'
  $('#main').innerHTML = `<h2>Queues</h2><p id="errors" class="error" role="alert"></p>
    <table><thead><tr><th scope="col">queue</th><th scope="col">state</th><th class="num" scope="col">queued</th><th class="num" scope="col">running</th>
    <th class="num" scope="col">succeeded</th><th class="num" scope="col">dead</th><th class="num" scope="col">oldest due</th>
    <th class="num" scope="col">done/s (5 min)</th>
    ${isAdmin() ? '<th scope="col">action</th>' : ''}</tr></thead><tbody id="queue-rows"></tbody></table>
    <h2>Latency by queue and type, last 5 minutes</h2>
    <table><thead><tr><th scope="col">queue</th><th scope="col">type</th><th class="num" scope="col">jobs done</th>
    <th class="num" scope="col">queue wait p50 / p95 / p99</th><th class="num" scope="col">run time p50 / p95 / p99</th><th class="num" scope="col">end to end p50 / p95 / p99</th></tr></thead>
    <tbody id="latency-rows"></tbody></table>
    <h2>Over time</h2><p class="note">One sample every 2 s since this page opened; latencies are p50/p95/p99 over the last 5 minutes.</p>
    <div class="charts" id="charts"></div>
    <h2>Live events</h2><ol class="feed" id="feed" aria-live="off"></ol>`
  renderFeed()
  await loadQueues()
  drawCharts()
}

async function loadQueues () {
  const rows = await api.rpc('list_queues', { limit: 1000 })
  app.queues = rows
  renderQueueRows()
}

function renderQueueRows () {
  const body = $('#queue-rows')
  if (!body) return
  const done = {}
  const since = app.metrics ? Math.max(1, (new Date(app.metrics.until) - new Date(app.metrics.since)) / 1000) : 1
  const series = app.metrics?.by_queue_type || []
  for (const s of series) done[s.queue] = (done[s.queue] || 0) + (s.counters?.completed || 0)
  const three = (l) => l && l.count ? `${ms(l.p50)} / ${ms(l.p95)} / ${ms(l.p99)}` : '–'
  const latency = $('#latency-rows')
  if (latency) {
    latency.innerHTML = series.filter((s) => s.type && (s.latency.queue_wait.count || s.latency.run_time.count)).map((s) => `<tr>
      <td>${esc(s.queue)}</td><td>${esc(s.type)}</td><td class="num">${(s.counters.completed || 0) + (s.counters.dead || 0)}</td>
      <td class="num">${three(s.latency.queue_wait)}</td><td class="num">${three(s.latency.run_time)}</td><td class="num">${three(s.latency.end_to_end)}</td></tr>`).join('') ||
      '<tr><td colspan="6">No jobs ran in the last 5 minutes.</td></tr>'
  }
  body.innerHTML = app.queues.map((r) => {
    const q = r.queue
    const gauge = app.metrics?.gauges?.queues?.[q.name] || {}
    return `<tr data-queue="${esc(q.name)}"><th scope="row"><a href="#/jobs?queue=${encodeURIComponent(q.name)}">${esc(q.name)}</a></th>
      <td>${q.paused ? '<strong class="status-dead">paused</strong>' : 'active'}</td>
      <td class="num">${r.queued}</td><td class="num">${r.running}</td><td class="num">${r.succeeded}</td><td class="num">${r.dead}</td>
      <td class="num">${gauge.oldest_queued_age_seconds != null ? `${gauge.oldest_queued_age_seconds.toFixed(1)} s` : '–'}</td>
      <td class="num">${((done[q.name] || 0) / since).toFixed(2)}</td>
      ${isAdmin() ? `<td><button type="button" data-action="${q.paused ? 'resume' : 'pause'}" data-queue="${esc(q.name)}">${q.paused ? 'Resume' : 'Pause'} ${esc(q.name)}</button></td>` : ''}</tr>`
  }).join('') || '<tr><td colspan="8">No queues yet.</td></tr>'
  body.querySelectorAll('button[data-action]').forEach((button) => button.addEventListener('click', async () => {
    button.disabled = true
    try {
      await api.rpc(button.dataset.action === 'pause' ? 'pause_queue' : 'resume_queue', { queue: button.dataset.queue })
      await loadQueues()
    } catch (err) { showError(err); button.disabled = false }
  }))
}

// -- jobs ---------------------------------------------------------------------------------------
function jobArgs (filters, after) {
  const args = { limit: PAGE }
  for (const key of ['status', 'queue', 'type', 'executor_id']) if (filters[key]) args[key] = filters[key]
  if (filters.period) args.created_after = new Date(Date.now() - periodMs(filters.period)).toISOString()
  if (after) args.after = after
  return args
}
function periodMs (period) {
  const [n, unit] = period.split(' ')
  return Number(n) * { minutes: 60e3, hour: 3600e3, day: 86400e3, days: 86400e3 }[unit]
}

async function jobsView (params) {
  app.view = 'jobs'
  const filters = {
    status: params.get('status') || '',
    queue: params.get('queue') || '',
    type: params.get('type') || '',
    executor_id: params.get('executor') || '',
    period: params.get('period') || ''
  }
  app.jobs = { rows: [], next: null, pages: [null], page: 0, filters }
  const option = (value, label, current) => `<option value="${esc(value)}"${value === current ? ' selected' : ''}>${esc(label)}</option>`
  $('#main').innerHTML = `<h2>Jobs</h2>
    <form class="filters" id="job-filters" aria-label="Job filters">
      <label>Status <select name="status">${option('', 'any', filters.status)}${STATUSES.map((s) => option(s, s, filters.status)).join('')}</select></label>
      <label>Queue <input name="queue" value="${esc(filters.queue)}" size="12"></label>
      <label>Type <input name="type" value="${esc(filters.type)}" size="12"></label>
      <label>Executor <select name="executor">${option('', 'any', filters.executor_id)}${app.executors.map((e) => option(e.id, e.name, filters.executor_id)).join('')}</select></label>
      <label>Period <select name="period">${Object.entries(PERIODS).map(([v, l]) => option(v, l, filters.period)).join('')}</select></label>
      <button type="submit">Apply</button>
    </form><p id="errors" class="error" role="alert"></p>
    <table><thead><tr><th scope="col">id</th><th scope="col">queue</th><th scope="col">type</th><th scope="col">status</th><th class="num" scope="col">attempt</th>
    <th class="num" scope="col">priority</th><th scope="col">executor</th><th scope="col">created</th></tr></thead><tbody id="job-rows"></tbody></table>
    <div class="pager"><button type="button" id="first">First page</button><button type="button" id="prev">Previous</button>
    <span id="page-label"></span><button type="button" id="next">Next</button></div>`
  $('#job-filters').addEventListener('submit', (e) => {
    e.preventDefault()
    const form = new FormData(e.target)
    const query = new URLSearchParams()
    for (const [k, v] of form.entries()) if (v) query.set(k, v)
    window.location.hash = `#/jobs?${query}`
  })
  $('#first').addEventListener('click', () => { app.jobs.page = 0; loadJobs().catch(showError) })
  $('#prev').addEventListener('click', () => { app.jobs.page = Math.max(0, app.jobs.page - 1); loadJobs().catch(showError) })
  $('#next').addEventListener('click', () => {
    if (!app.jobs.next) return
    app.jobs.pages[app.jobs.page + 1] = app.jobs.next
    app.jobs.page += 1
    loadJobs().catch(showError)
  })
  if (!app.executors.length) loadExecutorList().catch(() => {})
  await loadJobs().catch(showError)
}

async function loadExecutorList () {
  app.executors = await api.rpc('list_executors')
}

async function loadJobs () {
  const rows = await api.rpc('list_jobs', jobArgs(app.jobs.filters, app.jobs.pages[app.jobs.page]))
  app.jobs.rows = rows.map((r) => r.job)
  app.jobs.next = rows.length === PAGE ? rows[rows.length - 1].cursor : null
  renderJobRows()
}

function executorName (id) {
  if (!id) return ''
  const e = app.executors.find((x) => x.id === id)
  return e ? e.name : id.slice(0, 8)
}

function renderJobRows () {
  const body = $('#job-rows')
  if (!body) return
  body.innerHTML = app.jobs.rows.map((j) => `<tr data-job-id="${j.id}"><td><a href="#/jobs/${j.id}">${j.id}</a></td><td>${esc(j.queue)}</td><td>${esc(j.type)}</td>
    <td data-status="${esc(j.status)}">${statusCell(j.status)}</td><td class="num">${j.attempt}/${j.max_attempts}</td><td class="num">${j.priority}</td>
    <td>${esc(executorName(j.executor_id))}</td><td>${esc(dateTime(j.created_at))}</td></tr>`).join('') ||
    '<tr><td colspan="8">No jobs match.</td></tr>'
  $('#page-label').textContent = `page ${app.jobs.page + 1}`
  $('#prev').disabled = app.jobs.page === 0
  $('#first').disabled = app.jobs.page === 0
  $('#next').disabled = !app.jobs.next
}

// -- one job --------------------------------------------------------------------------------------
async function jobView (id) {
  app.view = 'job'
  app.job = { id }
  $('#main').innerHTML = `<p><a href="#/jobs">← Jobs</a></p><h2>Job ${id}</h2><p id="errors" class="error" role="alert"></p><div id="job"></div>`
  await loadJob().catch(showError)
}

async function loadJob () {
  if (!app.job) return
  const job = await api.rpc('get_job', { job_id: app.job.id })
  app.job = job
  const dead = job.status === 'dead'
  $('#job').innerHTML = `<table><tbody>
      <tr><th scope="row">status</th><td id="job-status" data-status="${esc(job.status)}">${statusCell(job.status)}</td></tr>
      <tr><th scope="row">queue / type</th><td>${esc(job.queue)} / ${esc(job.type)}</td></tr>
      <tr><th scope="row">attempt</th><td>${job.attempt} of ${job.max_attempts}</td></tr>
      <tr><th scope="row">executor</th><td>${esc(executorName(job.executor_id))}</td></tr>
      <tr><th scope="row">progress</th><td>${job.progress != null ? `<progress max="1" value="${job.progress}" aria-label="progress">${job.progress}</progress> ${Math.round(job.progress * 100)} % ${esc(job.progress_message || '')}` : '–'}</td></tr>
      <tr><th scope="row">created / claimed / finished</th><td>${esc(dateTime(job.created_at))} / ${esc(dateTime(job.claimed_at))} / ${esc(dateTime(job.finished_at))}</td></tr>
    </tbody></table>
    ${dead && isAdmin() ? `<p><button type="button" id="requeue-job">Requeue job ${job.id}</button></p>` : ''}
    ${job.result != null ? `<h3>Result</h3><pre>${esc(JSON.stringify(job.result, null, 2))}</pre>` : ''}
    ${job.last_error != null ? `<h3>Last error</h3><pre>${esc(JSON.stringify(job.last_error, null, 2))}</pre>` : ''}
    <h3>Payload</h3><pre>${esc(JSON.stringify(job.payload, null, 2))}</pre>
    <div id="artifacts"></div>
    <h3>Timeline</h3><ol class="timeline">${job.events.map((e) => `<li>${esc(dateTime(e.created_at))} <strong>${esc(e.type)}</strong> attempt ${e.attempt ?? ''} ${e.executor_id ? `by ${esc(executorName(e.executor_id))}` : ''} ${Object.keys(e.data || {}).length ? `<code>${esc(JSON.stringify(e.data))}</code>` : ''}</li>`).join('')}</ol>`
  const requeue = $('#requeue-job')
  if (requeue) requeue.addEventListener('click', () => requeueJobs([job.id]).then(loadJob).catch(showError))
  if (app.features.list_artifacts) loadArtifacts(job.id).catch(() => {})
}

// Artifacts (when api.list_artifacts / api.sign_artifact exist): signed links, made on click.
async function loadArtifacts (jobId) {
  const params = app.features.list_artifacts
  const rows = await api.rpc('list_artifacts', params.includes('job_id') ? { job_id: jobId } : {})
  const list = Array.isArray(rows) ? rows : (rows?.artifacts || [])
  const box = $('#artifacts')
  if (!box) return
  box.innerHTML = `<h3>Artifacts</h3>${list.length ? `<ul>${list.map((a, i) => `<li><a href="#" data-i="${i}">${esc(a.name || a.path || a.id)}</a> <span class="note">${esc(a.media_type || '')} ${a.size ?? ''} bytes</span></li>`).join('')}</ul>` : '<p class="note">none</p>'}`
  box.querySelectorAll('a[data-i]').forEach((link) => link.addEventListener('click', async (e) => {
    e.preventDefault()
    const artifact = list[Number(link.dataset.i)]
    const names = app.features.sign_artifact || []
    const key = names.includes('artifact_id') ? 'artifact_id' : 'id'
    const signed = await api.rpc('sign_artifact', { [key]: artifact.id, ...(names.includes('expires_in') ? { expires_in: 300 } : {}) })
    const url = typeof signed === 'string' ? signed : (signed.signedURL || signed.signed_url || signed.url)
    window.open(url.startsWith('http') ? url : `${api.config.url}${url}`, '_blank', 'noopener')
  }))
}

// -- dead letters ---------------------------------------------------------------------------------
function errorText (error) {
  if (!error) return ''
  const inner = error.error && typeof error.error === 'object' ? error.error : {}
  const message = error.message || inner.message || (error.error && typeof error.error !== 'object' ? error.error : '')
  const reasons = [error.reason, inner.reason].filter(Boolean).join(': ')
  return `<strong>${esc(reasons)}</strong> ${esc(message)}`
}

async function requeueJobs (ids) {
  for (let i = 0; i < ids.length; i += 10000) await api.rpc('requeue', { job_ids: ids.slice(i, i + 10000) })
}

async function dlqView () {
  app.view = 'dlq'
  app.dead = { rows: [], next: null, selected: new Set() }
  const admin = isAdmin()
  $('#main').innerHTML = `<h2>Dead letters</h2><p id="errors" class="error" role="alert"></p>
    ${admin ? `<p class="actions"><button type="button" id="requeue-selected">Requeue selected</button>
      <button type="button" id="requeue-all">Requeue all</button>
      <button type="button" class="danger" id="purge-all">Purge all dead jobs</button></p>` : ''}
    <table><thead><tr>${admin ? '<th scope="col"><span class="note">select</span></th>' : ''}<th scope="col">id</th><th scope="col">queue</th><th scope="col">type</th>
    <th class="num" scope="col">attempts</th><th scope="col">error</th><th scope="col">died</th>${admin ? '<th scope="col">action</th>' : ''}</tr></thead><tbody id="dead-rows"></tbody></table>
    <div class="pager"><button type="button" id="dead-more">Load more</button></div>`
  if (admin) {
    $('#requeue-selected').addEventListener('click', () => requeueJobs([...app.dead.selected]).then(loadDead).catch(showError))
    $('#requeue-all').addEventListener('click', async () => {
      try {
        const ids = []
        let after = null
        for (;;) {
          const page = await api.rpc('list_jobs', { status: 'dead', limit: 1000, ...(after ? { after } : {}) })
          ids.push(...page.map((r) => r.job.id))
          if (page.length < 1000) break
          after = page[page.length - 1].cursor
        }
        if (ids.length) await requeueJobs(ids)
        await loadDead()
      } catch (err) { showError(err) }
    })
    $('#purge-all').addEventListener('click', async () => {
      if (!window.confirm('Delete every dead job of this workspace for good?')) return
      try { await api.rpc('purge_dead', {}); await loadDead() } catch (err) { showError(err) }
    })
  }
  $('#dead-more').addEventListener('click', () => loadDead(true).catch(showError))
  await loadDead().catch(showError)
}

async function loadDead (more = false) {
  const page = await api.rpc('list_jobs', { status: 'dead', limit: PAGE, ...(more && app.dead.next ? { after: app.dead.next } : {}) })
  const jobs = page.map((r) => r.job)
  app.dead.rows = more ? app.dead.rows.concat(jobs) : jobs
  app.dead.next = page.length === PAGE ? page[page.length - 1].cursor : null
  if (!more) app.dead.selected = new Set([...app.dead.selected].filter((id) => jobs.some((j) => j.id === id)))
  const admin = isAdmin()
  $('#dead-rows').innerHTML = app.dead.rows.map((j) => `<tr data-job-id="${j.id}">
    ${admin ? `<td><input type="checkbox" data-id="${j.id}" aria-label="select job ${j.id}"${app.dead.selected.has(j.id) ? ' checked' : ''}></td>` : ''}
    <td><a href="#/jobs/${j.id}">${j.id}</a></td><td>${esc(j.queue)}</td><td>${esc(j.type)}</td><td class="num">${j.attempt}/${j.max_attempts}</td>
    <td>${errorText(j.last_error)}</td><td>${esc(dateTime(j.finished_at))}</td>
    ${admin ? `<td><button type="button" data-requeue="${j.id}">Requeue job ${j.id}</button></td>` : ''}</tr>`).join('') ||
    '<tr><td colspan="8">The dead-letter queue is empty.</td></tr>'
  $('#dead-more').disabled = !app.dead.next
  document.querySelectorAll('#dead-rows input[data-id]').forEach((box) => box.addEventListener('change', () => {
    const id = Number(box.dataset.id)
    if (box.checked) app.dead.selected.add(id); else app.dead.selected.delete(id)
  }))
  document.querySelectorAll('#dead-rows button[data-requeue]').forEach((button) => button.addEventListener('click', async () => {
    button.disabled = true
    try { await requeueJobs([Number(button.dataset.requeue)]); await loadDead() } catch (err) { showError(err); button.disabled = false }
  }))
}

// -- executors ------------------------------------------------------------------------------------
async function executorsView () {
  app.view = 'executors'
  $('#main').innerHTML = `<h2>Executors</h2><p id="errors" class="error" role="alert"></p>
    <table><thead><tr><th scope="col">name</th><th scope="col">presence</th><th scope="col">last heartbeat</th><th class="num" scope="col">silent</th>
    <th scope="col">queues</th><th class="num" scope="col">running</th><th scope="col">jobs held</th></tr></thead><tbody id="executor-rows"></tbody></table>`
  await loadExecutors().catch(showError)
}

async function loadExecutors () {
  const [executors, running] = await Promise.all([api.rpc('list_executors'), api.rpc('list_jobs', { status: 'running', limit: 1000 })])
  app.executors = executors
  const held = {}
  for (const r of running) (held[r.job.executor_id] ||= []).push(r.job.id)
  const body = $('#executor-rows')
  if (!body) return
  body.innerHTML = executors.map((e) => `<tr data-executor="${esc(e.name)}"><th scope="row">${esc(e.name)}</th>
    <td class="presence-${esc(e.status)}">${esc(e.status)}</td><td>${esc(dateTime(e.last_seen_at))}</td><td class="num">${e.silent_seconds.toFixed(0)} s</td>
    <td>${esc((e.queues || []).join(', '))}</td><td class="num">${e.running_jobs}</td>
    <td>${(held[e.id] || []).slice(0, 20).map((id) => `<a href="#/jobs/${id}">${id}</a>`).join(' ')}${(held[e.id] || []).length > 20 ? ` <a href="#/jobs?status=running&executor=${e.id}">all</a>` : ''}</td></tr>`).join('') ||
    '<tr><td colspan="7">No executors have registered.</td></tr>'
}

// -- routing (when api.routing_snapshot exists) -----------------------------------------------------
async function routingView () {
  app.view = 'routing'
  $('#main').innerHTML = `<h2>Routing</h2><form class="filters" id="routing-form"><label>Service <input name="service" value="chat"></label>
    <button type="submit">Show</button></form><p id="errors" class="error" role="alert"></p><div id="routing"></div>`
  const show = async (service) => {
    const snapshot = await api.rpc('routing_snapshot', { service })
    const rows = Array.isArray(snapshot) ? snapshot : (snapshot?.candidates || snapshot?.routes || [])
    const columns = ['rank', 'provider', 'model', 'score', 'cost_estimate', 'latency_estimate_ms', 'error_rate', 'cooldown_until', 'excluded_reason']
      .filter((c) => rows.some((r) => r[c] !== undefined))
    $('#routing').innerHTML = rows.length
      ? `<p class="note">Snapshot ${esc(snapshot?.created_at ? dateTime(snapshot.created_at) : '')}</p><table><thead><tr>${columns.map((c) => `<th scope="col">${esc(c)}</th>`).join('')}</tr></thead>
        <tbody>${rows.map((r) => `<tr>${columns.map((c) => `<td>${esc(typeof r[c] === 'object' ? JSON.stringify(r[c]) : r[c])}</td>`).join('')}</tr>`).join('')}</tbody></table>`
      : '<p class="note">No snapshot for this service yet.</p>'
  }
  $('#routing-form').addEventListener('submit', (e) => { e.preventDefault(); show(new FormData(e.target).get('service')).catch(showError) })
  await show('chat').catch(showError)
}

// -- boot ---------------------------------------------------------------------------------------------
async function boot () {
  try {
    const config = await loadConfig()
    api = new Api(config)
    api.restore()
    window.collabDashboard = app // for the browser tests: counters, the cursor
    await start()
  } catch (err) {
    $('#main').innerHTML = `<p class="error" role="alert">${esc(err.message || err)}</p>`
  }
}

boot()
