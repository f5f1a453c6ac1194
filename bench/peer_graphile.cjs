// graphile-worker side of the benchmark; graphile-worker is loaded from the git-ignored
// peers folder given in PEERS_NODE. Usage:
//   node peer_graphile.cjs DSN migrate | enqueue-one N [REPS] | enqueue-batch N [REPS]
//                              | drain N CONCURRENCY [LOCAL_QUEUE] (fills N, then times the drain)
//                              | wake N RATE
// Prints one JSON object on stdout.
const path = require("path");
const base = path.join(process.env.PEERS_NODE, "node_modules");
const gw = require(path.join(base, "graphile-worker"));
const { Pool } = require(path.join(base, "pg"));

const [dsn, mode, ...args] = process.argv.slice(2);
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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
      const t0 = now();
      const runner = await gw.run({
        connectionString: dsn,
        concurrency,
        noHandleSignals: true,
        pollInterval: 1000,
        taskList: { noop: async () => {} },
        logger: new gw.Logger(() => () => {}),
        preset,
      });
      for (;;) {
        const r = await pool.query("select count(*)::int as c from graphile_worker._private_jobs");
        if (r.rows[0].c === 0) break;
        await sleep(5);
      }
      const seconds = (now() - t0) / 1000;
      await runner.stop();
      out = { jobs: n, seconds };
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
