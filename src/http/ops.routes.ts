// Public operational routes: /health and /metrics.
import { Type } from "@sinclair/typebox";
import { Elysia, t } from "elysia";
import type { Metrics } from "../metrics";
import { errorResponses } from "./schemas";

/** What /health needs from the rest of the process. */
export interface HealthDeps {
  version: string;
  metrics: Metrics;
  isShuttingDown: () => boolean;
  dbWritable: () => Promise<boolean>;
  /** Which store this process uses ("sqlite" or "postgres"), reported by /health. */
  storeKind: "sqlite" | "postgres";
  /** The bus between nodes: memory (one process) or redis, and whether it is up. */
  bus?: () => { kind: "memory" | "redis"; connected: boolean };
}

const HealthSchema = t.Object({
  status: t.Union([t.Literal("ok"), t.Literal("error")]),
  service: t.Literal("chatapi"),
  version: t.String(),
  uptime_seconds: Type.Integer(),
  db_writable: t.Boolean(),
  store: t.Object({ kind: t.Union([t.Literal("sqlite"), t.Literal("postgres")]), writable: t.Boolean() }),
  bus: t.Object({ kind: t.Union([t.Literal("memory"), t.Literal("redis")]), connected: t.Boolean() }, { description: "A disconnected bus does not make /health fail: REST keeps working; sockets are refused (503) until it is back" }),
  shutting_down: t.Optional(t.Boolean()),
});

const MetricsJsonSchema = t.Object(
  {
    active_connections: t.Number(),
    messages_sent: t.Number(),
    dropped_broadcasts: t.Number(),
    delivery_attempts: t.Number(),
    delivery_failures: t.Number(),
    uptime_seconds: t.Number(),
  },
  { description: "With ?format=json; otherwise the Prometheus text exposition format (text/plain; version=0.0.4)" },
);
type MetricsJson = typeof MetricsJsonSchema.static;

/** GET /health (real write test) and GET /metrics (Prometheus text or ?format=json). */
export function opsRoutes(deps: HealthDeps) {
  return new Elysia({ tags: ["Operations"] })
    .get(
      "/health",
      async ({ set }) => {
        const shuttingDown = deps.isShuttingDown();
        const writable = !shuttingDown && (await deps.dbWritable());
        const ok = writable && !shuttingDown;
        set.status = ok ? 200 : 503;
        set.headers["cache-control"] = "no-store";
        return {
          status: ok ? ("ok" as const) : ("error" as const),
          service: "chatapi" as const,
          version: deps.version,
          uptime_seconds: deps.metrics.uptimeSeconds(),
          db_writable: writable,
          store: { kind: deps.storeKind, writable },
          bus: deps.bus?.() ?? { kind: "memory" as const, connected: true },
          ...(shuttingDown ? { shutting_down: true } : {}),
        };
      },
      { response: { 200: HealthSchema, 503: HealthSchema }, detail: { summary: "Liveness and readiness: performs a real database write" } },
    )
    .get(
      "/metrics",
      async ({ query }) => {
        if (query.format === "json") return (await deps.metrics.json()) as MetricsJson;
        const text = await deps.metrics.registry.metrics();
        return new Response(text, { headers: { "content-type": deps.metrics.registry.contentType } }) as unknown as MetricsJson;
      },
      {
        query: t.Object({ format: t.Optional(t.Union([t.Literal("json"), t.Literal("prometheus")])) }),
        response: {
          200: MetricsJsonSchema,
          400: errorResponses[400],
        },
        detail: { summary: "Prometheus metrics; ?format=json for the six headline counters" },
      },
    );
}
