/// <reference lib="dom" />
// The operations view: health, live metrics with charts (polled every few seconds while visible),
// and the key-protected panels (tenants with the master key, dead letters with a tenant key).
import { lineChart, sparkline } from "./chart.ts";
import { h, humanDuration, setChildren } from "./dom.ts";
import { describeError } from "./http.ts";
import { deadLettersPanel, tenantsPanel } from "./admin-panels.ts";
import { parsePrometheus } from "./prom.ts";
import { secrets } from "./state.ts";

export const POLL_MS = 3000;
// 60 samples at 3 s: the charts span three minutes.
const CAPACITY = 60;

interface Sample {
  atMs: number;
  connections: number;
  messagesTotal: number;
  messagesPerS: number;
  queue: number;
  dead: number;
  failuresTotal: number;
}

interface Health {
  status: string;
  version: string;
  uptime_seconds: number;
  db_writable: boolean;
  shutting_down?: boolean;
}

/** Builds the view; `setActive(false)` pauses polling while another view is shown. */
export function operationsView(): { el: HTMLElement; setActive(active: boolean): void } {
  const samples: Sample[] = [];
  const master = h("input", { type: "password", class: "master-key", autocomplete: "off", spellcheck: "false", placeholder: "Master key", "aria-label": "Master key" });
  const tenant = h("input", { type: "password", class: "ops-tenant-key", autocomplete: "off", spellcheck: "false", placeholder: "Tenant API key", "aria-label": "Tenant API key" });
  master.addEventListener("input", () => secrets.set("master", master.value));
  tenant.addEventListener("input", () => secrets.set("tenant", tenant.value));

  const healthBody = h("div", { class: "health-body" }, h("p", { class: "muted" }, "Checking…"));
  const tiles = {
    connections: tile("Connections", "Open WebSocket connections"),
    rate: tile("Messages/s", "Messages persisted per second (REST and WebSocket)"),
    queue: tile("Delivery queue", "Webhook deliveries pending"),
    dead: tile("Dead letters", "Webhook deliveries that used every attempt (all tenants)"),
  };
  const chartBox = h("div", { class: "chart-box" });
  const legend = h("div", { class: "legend" });
  const updated = h("span", { class: "muted updated" });
  const tenants = tenantsPanel();
  const dead = deadLettersPanel();

  secrets.onChange(() => {
    if (master.value.trim() !== secrets.masterKey) master.value = secrets.masterKey;
    if (tenant.value.trim() !== secrets.tenantKey) tenant.value = secrets.tenantKey;
    tenants.refresh();
    dead.refresh();
  });

  const pollHealth = async () => {
    try {
      const res = await fetch("/health", { cache: "no-store", credentials: "omit" });
      const body = (await res.json()) as Health;
      const ok = body.status === "ok";
      setChildren(
        healthBody,
        h("div", { class: "health-status" }, h("span", { class: `pill ${ok ? "ok" : "bad"}`, "data-health": body.status }, ok ? "healthy" : "unhealthy"), body.shutting_down ? h("span", { class: "pill warn" }, "shutting down") : null),
        h(
          "dl",
          { class: "kv" },
          h("dt", null, "Version"), h("dd", null, body.version),
          h("dt", null, "Uptime"), h("dd", null, humanDuration(body.uptime_seconds)),
          h("dt", null, "Database"), h("dd", null, body.db_writable ? "writable" : "not writable"),
        ),
      );
    } catch (err) {
      setChildren(healthBody, h("span", { class: "pill bad", "data-health": "unreachable" }, "unreachable"), h("p", { class: "muted" }, describeError(err)));
    }
  };

  const pollMetrics = async () => {
    const text = await (await fetch("/metrics", { cache: "no-store", credentials: "omit" })).text();
    const m = parsePrometheus(text);
    const prev = samples.at(-1);
    const now = performance.now();
    const messagesTotal = m.get("chatapi_messages_sent_total") ?? 0;
    const dt = prev ? (now - prev.atMs) / 1000 : 0;
    const s: Sample = {
      atMs: now,
      connections: m.get("chatapi_active_connections") ?? 0,
      messagesTotal,
      messagesPerS: prev && dt > 0 ? Math.max(0, (messagesTotal - prev.messagesTotal) / dt) : 0,
      queue: m.get("chatapi_outbox_depth") ?? 0,
      dead: m.get("chatapi_dead_letters") ?? 0,
      failuresTotal: m.get("chatapi_delivery_failures_total") ?? 0,
    };
    samples.push(s);
    if (samples.length > CAPACITY) samples.shift();
    const series = (f: (x: Sample) => number) => samples.map(f);
    tiles.connections.set(String(s.connections), series((x) => x.connections));
    tiles.rate.set(s.messagesPerS.toFixed(s.messagesPerS < 10 ? 1 : 0), series((x) => x.messagesPerS));
    tiles.queue.set(String(s.queue), series((x) => x.queue));
    tiles.dead.set(String(s.dead), series((x) => x.dead), `${s.failuresTotal} failed attempt${s.failuresTotal === 1 ? "" : "s"} since start`);
    const ageS = Math.round((now - samples[0]!.atMs) / 1000);
    const span = samples.length < 2 ? "collecting…" : ageS >= 120 ? `${Math.round(ageS / 60)} min ago` : `${ageS} s ago`;
    setChildren(chartBox, lineChart([
      { label: "messages/s", values: series((x) => x.messagesPerS), className: "s-rate" },
      { label: "connections", values: series((x) => x.connections), className: "s-conn" },
      { label: "delivery queue", values: series((x) => x.queue), className: "s-queue" },
    ], chartBox.clientWidth || 640, span));
    setChildren(
      legend,
      h("span", { class: "key s-rate" }, `messages/s ${s.messagesPerS.toFixed(1)}`),
      h("span", { class: "key s-conn" }, `connections ${s.connections}`),
      h("span", { class: "key s-queue" }, `delivery queue ${s.queue}`),
    );
    updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
  };

  let timer: ReturnType<typeof setInterval> | undefined;
  const tick = () => {
    void pollHealth();
    pollMetrics().catch((err) => (updated.textContent = `metrics unavailable: ${describeError(err)}`));
    tenants.refresh();
    dead.refresh();
  };

  const el = h(
    "section",
    { class: "view operations", "data-view": "operations" },
    h(
      "div",
      { class: "card setup keys" },
      h("label", { class: "field grow" }, h("span", null, "Master key (tenants)"), master),
      h("label", { class: "field grow" }, h("span", null, "Tenant API key (dead letters; shared with the playground)"), tenant),
      h("p", { class: "hint muted" }, "Keys stay in this page's memory and are sent only in request headers to this server."),
    ),
    h(
      "div",
      { class: "ops-grid" },
      h("div", { class: "card health" }, h("h2", null, "Health"), healthBody),
      h("div", { class: "tiles" }, tiles.connections.el, tiles.rate.el, tiles.queue.el, tiles.dead.el),
      h("div", { class: "card chart-card" }, h("div", { class: "card-head" }, h("h2", null, "Live metrics"), updated), chartBox, legend),
      tenants.el,
      dead.el,
    ),
  );
  return {
    el,
    setActive(active: boolean) {
      clearInterval(timer);
      timer = undefined;
      if (!active) return;
      tick();
      timer = setInterval(() => {
        if (document.visibilityState === "visible") tick();
      }, POLL_MS);
    },
  };
}

function tile(label: string, help: string) {
  const value = h("span", { class: "tile-value" }, "–");
  const note = h("span", { class: "tile-note muted" });
  const spark = h("div", { class: "tile-spark" });
  const el = h("div", { class: "card tile", title: help, "data-tile": label }, h("span", { class: "tile-label" }, label), value, note, spark);
  return {
    el,
    set(v: string, history: number[], noteText = "") {
      value.textContent = v;
      note.textContent = noteText;
      setChildren(spark, sparkline(history, "s-" + label.toLowerCase().replace(/[^a-z]+/g, "-")));
    },
  };
}
