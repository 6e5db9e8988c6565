// `bun run bench fairness`: the noisy-neighbour benchmark of issue 13. Tenant B sends and reads at a
// steady rate while tenant A, within its default limits (rate 100/s, burst 200, 10 sends/s per user),
// runs one pattern after another. B's latency per pattern is compared with B alone, in the same run,
// and the data directory's growth per message/notification is measured.
//
//   bun run bench fairness [--seconds S] [--members N]
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const REPO = new URL("../../", import.meta.url).pathname;
const MASTER = "bench-master-key-0123456789abcdef";

function arg(argv: string[], name: string, def: number): number {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : def;
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) {
    const st = statSync(join(dir, f));
    n += st.isDirectory() ? dirBytes(join(dir, f)) : st.size;
  }
  return n;
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs every pattern; prints a markdown table; returns 0. */
export async function runFairness(argv: string[]): Promise<number> {
  const seconds = arg(argv, "--seconds", 8);
  const members = arg(argv, "--members", 10_000);
  // --only 1,3: run only these patterns (0 = B alone, always first); --env K=V: product environment.
  const onlyIdx = argv.indexOf("--only");
  const only = onlyIdx >= 0 ? argv[onlyIdx + 1]!.split(",").map(Number) : null;
  const extraEnv: Record<string, string> = {};
  argv.forEach((a, i) => {
    if (a === "--env") {
      const [k, ...v] = argv[i + 1]!.split("=");
      extraEnv[k!] = v.join("=");
    }
  });
  const dataDir = mkdtempSync(join(tmpdir(), "chatapi-fairness-"));
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const base = `http://127.0.0.1:${port}`;
  const profIdx = argv.indexOf("--profile");
  const profile = profIdx >= 0 ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${argv[profIdx + 1]}`] : ["run"];
  const proc = Bun.spawn(["bun", ...profile, join(REPO, "src/main.ts"), "serve"], {
    env: { ...process.env, LISTEN_ADDR: `127.0.0.1:${port}`, DATA_DIR: dataDir, DATABASE_DSN: "", MASTER_API_KEY: MASTER, LOG_LEVEL: "warn", RETRY_INTERVAL: "1h", ...extraEnv },
    stdout: "ignore",
    stderr: "inherit",
  });
  const sink = Bun.serve({ port: 0, fetch: () => new Response("ok") });
  const onSignal = () => {
    proc.kill();
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${base}/health`)).status === 200) break;
      } catch {}
      if (i > 400) throw new Error("server did not start");
      await sleep(25);
    }
    const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
      const r = await fetch(base + path, { method, headers: body === undefined ? headers : { ...headers, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : null };
    };
    const admin = { "x-master-key": MASTER };
    const mk = async (name: string, config: Record<string, unknown> = {}) => (await call("POST", "/admin/tenants", admin, { name, config })).body;
    // Setup runs with A's limits lifted; the patterns run with A's defaults.
    const A = await mk("noisy-A", { rate_limit: 1_000_000, user_message_rate: 1_000_000 });
    const B = await mk("victim-B");
    const a = (u: string) => ({ "x-api-key": A.api_key, "x-user-id": u });
    const b = (u: string) => ({ "x-api-key": B.api_key, "x-user-id": u });
    const setup0 = performance.now();
    const big = (await call("POST", "/rooms", a("owner"), { type: "channel", name: "big" })).body.room_id;
    for (let i = 1; i < members; i += 1000) {
      const ids = Array.from({ length: Math.min(1000, members - i) }, (_, k) => `m${i + k}`);
      await call("POST", `/rooms/${big}/members`, a("owner"), { user_ids: ids });
    }
    const named = Array.from({ length: 1000 }, (_, k) => `n${k}`);
    // User "many" in 3,000 rooms.
    const manyRooms: string[] = [];
    for (let i = 0; i < 3000; i += 50) {
      const rs = await Promise.all(Array.from({ length: 50 }, () => call("POST", "/rooms", a("many"), { type: "group", name: "r", members: ["peer"] })));
      for (const r of rs) manyRooms.push(r.body.room_id);
    }
    for (let i = 0; i < manyRooms.length; i += 50) await Promise.all(manyRooms.slice(i, i + 50).map((r) => call("POST", `/rooms/${r}/messages`, a("peer"), { content: "x" })));
    // 20,000 unread for "reader".
    const ackRoom = (await call("POST", "/rooms", a("writer"), { type: "group", name: "acks", members: ["reader"] })).body.room_id;
    for (let i = 0; i < 20_000; i += 200) await Promise.all(Array.from({ length: 200 }, () => call("POST", `/rooms/${ackRoom}/messages`, a("writer"), { content: "unread" })));
    const bRoom = (await call("POST", "/rooms", b("b0"), { type: "group", name: "b", members: ["b1", "b2", "b3"] })).body.room_id;
    await call("PATCH", `/admin/tenants/${A.tenant_id}`, admin, { config: { rate_limit: null, user_message_rate: null } });
    const setupS = (performance.now() - setup0) / 1000;
    console.log(`setup ${setupS.toFixed(1)} s (room of ${members}, user in ${manyRooms.length} rooms, 20,000 unread)`);

    // B: 20 sends/s and 20 history reads/s, each timed, in its own process.
    const runB = async (secs: number): Promise<{ p50: number; p99: number; n: number; errors: number }> => {
      const child = Bun.spawn(["bun", join(REPO, "bench/scenarios/fairness-b.ts"), base, B.api_key, bRoom, String(secs)], { stdout: "pipe", stderr: "inherit" });
      const out = await new Response(child.stdout).text();
      await child.exited;
      return JSON.parse(out.trim().split("\n").pop()!);
    };
    // Waits until A's earlier work (fan-out, webhooks) is done, so each pattern is measured alone.
    const settle = async (maxMs: number) => {
      const end = performance.now() + maxMs;
      while (performance.now() < end) {
        const m = await (await fetch(`${base}/metrics`)).text();
        const depth = Number(/chatapi_outbox_depth (\d+)/.exec(m)?.[1] ?? 0);
        if (depth === 0) return true;
        await sleep(250);
      }
      return false;
    };

    type Pattern = { name: string; prepare?: () => Promise<void>; run: (stop: () => boolean) => Promise<string> };
    const typingSocks: WebSocket[] = [];
    const A_RATE_MS = 1000 / 90; // just under A's 100 requests/s
    const paced = async (stop: () => boolean, everyMs: number, fn: (i: number) => Promise<unknown>) => {
      let i = 0;
      const ps: Promise<unknown>[] = [];
      const start = performance.now();
      while (!stop()) {
        const wait = start + i * everyMs - performance.now();
        if (wait > 0) await sleep(wait);
        ps.push(fn(i++).catch(() => {}));
      }
      await Promise.all(ps);
      return i;
    };
    const patterns: Pattern[] = [
      { name: "B alone", run: async (stop) => { while (!stop()) await sleep(50); return "-"; } },
      {
        name: `notify to ${members + 1000} recipients (room + 1,000 named), 2.8/s`,
        run: async (stop) => {
          const before = dirBytes(dataDir);
          const n = await paced(stop, 360, () => call("POST", "/notify", { "x-api-key": A.api_key }, { topic: "big", payload: { text: "p".repeat(1000) }, targets: { room_id: big, user_ids: named } }));
          return `${n} notifies; data dir +${((dirBytes(dataDir) - before) / n / 1024).toFixed(0)} KiB per notify (${(members + 1000).toLocaleString("en-US")} recipient rows each)`;
        },
      },
      {
        name: `messages to the ${members}-member room with a webhook_url, 5/s`,
        run: async (stop) => {
          await call("PATCH", `/admin/tenants/${A.tenant_id}`, admin, { config: { webhook_url: `http://127.0.0.1:${sink.port}/hook` } });
          const before = dirBytes(dataDir);
          const n = await paced(stop, 200, () => call("POST", `/rooms/${big}/messages`, a("owner"), { content: "hello everyone ".repeat(20) }));
          const grown = (dirBytes(dataDir) - before) / n;
          await call("PATCH", `/admin/tenants/${A.tenant_id}`, admin, { config: { webhook_url: null } });
          return `${n} messages; data dir +${(grown / 1024).toFixed(0)} KiB per message (${members - 1} delivery rows each)`;
        },
      },
      {
        name: "reconnects of a user in 3,000 rooms, 20/s",
        run: async (stop) => {
          const n = await paced(stop, 50, () => new Promise<void>((resolve) => {
            const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: a("many") } as any);
            const done = () => { try { ws.close(); } catch {} resolve(); };
            ws.onmessage = (e) => { if (String(e.data).includes('"sync.complete"')) done(); };
            ws.onerror = done as any;
            ws.onclose = () => resolve();
            setTimeout(done, 5000);
          }));
          return `${n} connects`;
        },
      },
      {
        name: `typing in the ${members}-member channel, 80 frames/s (200 members online)`,
        prepare: async () => {
          for (let i = 1; i <= 200; i++) {
            const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: a(`m${i}`) } as any);
            await new Promise((r) => { ws.onmessage = (e) => { if (String(e.data).includes("sync.complete")) r(null); }; });
            typingSocks.push(ws);
            await sleep(12); // A's handshake rate
          }
        },
        run: async (stop) => {
          const socks = typingSocks;
          const n = await paced(stop, 1000 / 80, async (i) => {
            const ws = socks[i % 16]!;
            ws.send(JSON.stringify({ type: i % 32 < 16 ? "typing.start" : "typing.stop", data: { room_id: big } }));
          });
          for (const ws of socks) ws.close();
          return `${n} typing frames`;
        },
      },
      {
        name: "acks over 20,000 unread, 90/s",
        run: async (stop) => `${await paced(stop, A_RATE_MS, () => call("POST", "/acks", a("reader"), { room_id: ackRoom, seq: 0 }))} acks`,
      },
      {
        name: "connection flood up to the cap (handshakes at A's rate)",
        run: async (stop) => {
          const socks: WebSocket[] = [];
          let refused = 0;
          const n = await paced(stop, A_RATE_MS, async (i) => {
            const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: a(`flood${i}`) } as any);
            ws.onerror = () => void refused++;
            socks.push(ws);
          });
          for (const ws of socks) ws.close();
          return `${n} handshakes, ${n - refused} open at the end`;
        },
      },
    ];
    const rows: string[] = [];
    let aloneP99 = NaN;
    const order = only ? [0, ...only, 0] : [0, 1, 3, 4, 5, 6, 2, 0];
    for (const idx of order) {
      const p = patterns[idx]!;
      await settle(30_000);
      await p.prepare?.();
      const end = performance.now() + seconds * 1000;
      const stop = () => performance.now() > end;
      const [bres, note] = await Promise.all([runB(seconds), p.run(stop)]);
      const alone = p.name === "B alone";
      if (alone && Number.isNaN(aloneP99)) aloneP99 = bres.p99;
      const ratio = bres.p99 / aloneP99;
      const label = alone && rows.length > 0 ? "B alone (again, at the end)" : p.name;
      const line = `| ${label} | ${bres.p50.toFixed(1)} | ${bres.p99.toFixed(1)} | ${alone ? "-" : `${ratio.toFixed(2)}x`} | ${alone ? "-" : ratio <= 2 ? "yes" : "no"} | ${note}${bres.errors ? `; B errors ${bres.errors}` : ""} |`;
      console.log(line);
      rows.push(line);
    }
    console.log("\n| A's pattern | B p50 (ms) | B p99 (ms) | B p99 / alone | within 2x | A's work |\n|---|---|---|---|---|---|\n" + rows.join("\n"));
    return 0;
  } finally {
    proc.kill();
    await proc.exited;
    sink.stop(true);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
