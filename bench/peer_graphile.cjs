// graphile-worker side of the benchmark; graphile-worker is loaded from the git-ignored
// peers folder given in PEERS_NODE. Usage:
//   node peer_graphile.cjs DSN migrate | enqueue-one N [REPS] | enqueue-batch N [REPS]
//                              | drain N CONCURRENCY [LOCAL_QUEUE] (fills N, then times the drain)
//                              | wake N RATE
//                              | rate SECONDS RATE EVERY_MS WORK_MS CONCURRENCY
//   (rate: a producer adds RATE jobs/s with addJobs, one batch every EVERY_MS, while
//   CONCURRENCY workers run them, each taking WORK_MS; reports completions per second,
//   every job's wait from enqueue to handler start, and the cumulative count sent per batch)
// Prints one JSON object on stdout.
const fs = require("fs");
const path = require("path");
const base = path.join(process.env.PEERS_NODE, "node_modules");
const gw = require(path.join(base, "graphile-worker"));
const { Pool } = require(path.join(base, "pg"));

const [dsn, mode, ...args] = process.argv.slice(2);
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// CPU seconds since boot, every core: [busy, stolen] (/proc/stat's user, nice, system, irq
// and softirq, and steal; CLK_TCK from the caller), as bench/run.py's machine_cpu: the drain
// reports them with its own process's CPU, over its timed interval.
const machineCpu = () => {
  const t = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const hz = Number(process.env.CLK_TCK || 100);
  return [(t[0] + t[1] + t[2] + t[5] + t[6]) / hz, t[7] / hz];
};
const ownCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function main() {
  const utils = await gw.makeWorkerUtils({ connectionString: dsn });
  const pool = new Pool({ connectionString: dsn, max: 1 });
  let out = {};
  try {
    if (mode === "migrate") {
      await utils.migrate();
    } else if (mode === "enqueue-one") {
      const n = Number(args[0]);
      const runs = [];
      for (let r = 0; r < Number(args[1] || 1); r++) {
        const t0 = now();
        for (let i = 0; i < n; i++) await utils.addJob("noop", {});
        runs.push((now() - t0) / 1000);
      }
      out = { jobs: n, runs };
    } else if (mode === "enqueue-batch") {
      const n = Number(args[0]);
      const runs = [];
      for (let r = 0; r < Number(args[1] || 1); r++) {
        const t0 = now();
        for (let s = 0; s < n; s += 1000) {
          const specs = [];
          for (let i = s; i < Math.min(n, s + 1000); i++) specs.push({ identifier: "noop", payload: {} });
          await utils.addJobs(specs);
        }
        runs.push((now() - t0) / 1000);
      }
      out = { jobs: n, runs };
    } else if (mode === "drain") {
      const n = Number(args[0]);
      const concurrency = Number(args[1]);
      const localQueue = Number(args[2] || 0);
      const preset = localQueue ? { worker: { localQueue: { size: localQueue } } } : undefined;
      for (let s = 0; s < n; s += 1000) {
        const specs = [];
        for (let i = s; i < Math.min(n, s + 1000); i++) specs.push({ identifier: "noop", payload: {} });
        await utils.addJobs(specs);
      }
      let ran = 0;
      const t0 = now();
      const m0 = machineCpu();
      const c0 = ownCpu();
      const runner = await gw.run({
        connectionString: dsn,
        concurrency,
        noHandleSignals: true,
        pollInterval: 1000,
        taskList: {
          noop: async () => {
            ran++;
          },
        },
        logger: new gw.Logger(() => () => {}),
        preset,
      });
      // Done when the jobs table is empty (every completion committed). The table is counted
      // only once every handler has run: counted every 5 ms from the start, the harness's own
      // scans took about 2.4 s of the server's time in a 13 s drain (about a sixth of the
      // machine's CPU in the run), slowing the peer it measured.
      for (;;) {
        if (ran >= n) {
          const r = await pool.query("select count(*)::int as c from graphile_worker._private_jobs");
          if (r.rows[0].c === 0) break;
        }
        await sleep(5);
      }
      const seconds = (now() - t0) / 1000;
      const m1 = machineCpu();
      const node_cpu = ownCpu() - c0;
      await runner.stop();
      out = { jobs: n, seconds, machine_cpu: m1[0] - m0[0], stolen_cpu: m1[1] - m0[1], node_cpu };
    } else if (mode === "wake") {
      const n = Number(args[0]);
      const rate = Number(args[1]);
      const lat = [];
      const runner = await gw.run({
        connectionString: dsn,
        concurrency: 4,
        noHandleSignals: true,
        pollInterval: 2000,
        taskList: {
          noop: async (payload) => {
            lat.push(now() - payload.t);
          },
        },
        logger: new gw.Logger(() => () => {}),
      });
      await sleep(500);
      const t0 = now();
      for (let i = 0; i < n; i++) {
        const due = t0 + (i * 1000) / rate;
        const wait = due - now();
        if (wait > 0) await sleep(wait);
        await pool.query("select graphile_worker.add_job('noop', json_build_object('t', $1::float8))", [now()]);
      }
      const deadline = now() + 5000;
      while (lat.length < n && now() < deadline) await sleep(10);
      await runner.stop();
      out = { latencies_ms: lat };
    } else if (mode === "rate") {
      const [seconds, rate, everyMs, workMs, concurrency] = args.map(Number);
      const waits = [];
      const perSecond = new Array(Math.ceil(seconds)).fill(0);
      let t0 = now();
      let done = 0;
      const runner = await gw.run({
        connectionString: dsn,
        concurrency,
        noHandleSignals: true,
        pollInterval: 1000,
        taskList: {
          noop: async (payload) => {
            waits.push(now() - payload.t);
            await sleep(workMs);
            const s = Math.floor((now() - t0) / 1000);
            if (s < perSecond.length) perSecond[s]++;
            done++;
          },
        },
        logger: new gw.Logger(() => () => {}),
      });
      await sleep(500);
      t0 = now();
      done = 0;
      let sent = 0;
      const sends = [];
      for (let tick = 0; ; tick++) {
        const due = t0 + tick * everyMs;
        if (due - t0 >= seconds * 1000) break;
        const wait = due - now();
        if (wait > 0) await sleep(wait);
        const k = Math.floor((rate * (now() - t0)) / 1000) - sent;
        if (k > 0) {
          const t = now();
          const specs = [];
          for (let i = 0; i < k; i++) specs.push({ identifier: "noop", payload: { t } });
          await utils.addJobs(specs);
          sent += k;
          sends.push([(t - t0) / 1000, sent]);
        }
      }
      while (now() - t0 < seconds * 1000) await sleep(5);
      const doneAtEnd = done;
      const waitsAtEnd = waits.slice();
      const end = (now() - t0) / 1000;
      await runner.stop();
      out = { seconds: end, sent, done: doneAtEnd, per_second: perSecond, waits_ms: waitsAtEnd, sends };
    }
  } finally {
    await utils.release();
    await pool.end();
  }
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
