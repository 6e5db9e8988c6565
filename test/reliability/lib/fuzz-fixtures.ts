// Fixtures of the fuzzers: the routes as /docs/json lists them, a tenant with rooms, messages, a
// notification and a subscription, a victim tenant for the master-key routes, and one valid request
// per route for the mutations to start from.
import { TEST_MASTER_KEY, type TestServer } from "../../helpers";

/** One route of the OpenAPI document. */
export interface FuzzRoute {
  key: string;
  method: string;
  /** Template with `{param}` placeholders. */
  path: string;
  params: string[];
  query: { name: string; required: boolean }[];
  hasBody: boolean;
  bodySchema: any;
  auth: "master" | "tenant" | "none";
}

/** Every route of /docs/json, in document order (new routes are picked up without code changes). */
export async function loadRoutes(baseUrl: string): Promise<FuzzRoute[]> {
  const doc = (await (await fetch(`${baseUrl}/docs/json`)).json()) as { paths: Record<string, Record<string, any>> };
  const out: FuzzRoute[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(ops)) {
      const method = m.toUpperCase();
      const params = (op.parameters ?? []) as { in: string; name: string; required?: boolean }[];
      const auth = path.startsWith("/admin/tenants") ? "master" : path === "/health" || path === "/metrics" || path.startsWith("/docs") ? "none" : "tenant";
      out.push({
        key: `${method} ${path}`,
        method,
        path,
        params: params.filter((p) => p.in === "path").map((p) => p.name),
        query: params.filter((p) => p.in === "query").map((p) => ({ name: p.name, required: !!p.required })),
        hasBody: !!op.requestBody,
        bodySchema: op.requestBody?.content?.["application/json"]?.schema ?? null,
        auth,
      });
    }
  }
  return out;
}

export interface Fixtures {
  tenantId: string;
  key: string;
  victimId: string;
  victimKey: string;
  user: string;
  params: Record<string, string>;
  bodies: Record<string, unknown>;
  queries: Record<string, Record<string, string>>;
  /** A second room of the tenant (for WS frames) and a message `alice` owns there. */
  roomId: string;
  messageIds: string[];
  notificationId: string;
}

async function ok(p: Promise<{ status: number; body: any }>, what: string): Promise<any> {
  const r = await p;
  if (r.status >= 300) throw new Error(`fixture ${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Creates the fixture data; the fuzz tenant's limits are high so 429s do not hide other answers. */
export async function createFixtures(s: TestServer): Promise<Fixtures> {
  const t = await s.createTenant("fuzz", { rate_limit: 1_000_000, user_message_rate: 1_000_000 });
  const victim = await s.createTenant("victim");
  const alice = s.client(t.api_key, "alice");
  const room = await ok(alice.post("/rooms", { type: "group", name: "fuzz", members: ["bob", "carol"] }), "room");
  await ok(alice.post("/rooms", { type: "channel", name: "chan" }), "channel");
  const messageIds: string[] = [];
  for (let i = 0; i < 20; i++) messageIds.push((await ok(alice.post(`/rooms/${room.room_id}/messages`, { content: `fixture ${i}` }), "message")).message_id);
  const n = await ok(s.client(t.api_key).post("/notify", { topic: "t", payload: { x: 1 }, targets: { user_ids: ["alice"] } }), "notify");
  const sub = await ok(alice.post("/subscriptions", { topic: "news" }), "subscription");
  const roomId = room.room_id as string;
  return {
    tenantId: t.tenant_id,
    key: t.api_key,
    victimId: victim.tenant_id,
    victimKey: victim.api_key,
    user: "alice",
    roomId,
    messageIds,
    notificationId: n.notification_id,
    params: { room_id: roomId, message_id: messageIds[0]!, user_id: "bob", notification_id: n.notification_id, id: sub.id, tenant_id: victim.tenant_id },
    bodies: {
      "POST /admin/tenants": { name: "fz", config: { rate_limit: 100 } },
      "PATCH /admin/tenants/{tenant_id}": { name: "victim2", config: { user_message_rate: 5, webhook_url: null } },
      "POST /rooms": { type: "group", name: "g", members: ["bob"] },
      "PATCH /rooms/{room_id}": { name: "renamed", metadata: { a: 1 } },
      "POST /rooms/{room_id}/members": { user_ids: ["dave"] },
      "PATCH /rooms/{room_id}/members/{user_id}": { role: "admin" },
      "POST /rooms/{room_id}/messages": { content: "hello", meta: { k: 1 }, client_msg_id: "c1" },
      "PATCH /rooms/{room_id}/messages/{message_id}": { content: "edited" },
      "POST /acks": { room_id: roomId, seq: 1 },
      "POST /notify": { topic: "t", payload: { x: 1 }, targets: { user_ids: ["alice"] } },
      "POST /subscriptions": { topic: "news" },
    },
    queries: {
      "GET /metrics": { format: "json" },
      "GET /rooms": { limit: "10" },
      "GET /rooms/{room_id}/messages": { after_seq: "0", limit: "10" },
      "GET /presence": { user_ids: "bob,carol" },
      "GET /notifications": { unacked: "true", limit: "5" },
      "GET /admin/dead-letters": { limit: "10" },
    },
  };
}

/** A value satisfying a JSON schema as far as a generic generator can (for routes without a template). */
export function sampleFromSchema(schema: any, depth = 0): unknown {
  if (!schema || depth > 6) return null;
  if (schema.anyOf) return sampleFromSchema(schema.anyOf[0], depth + 1);
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  switch (schema.type) {
    case "object": {
      const o: Record<string, unknown> = {};
      for (const k of schema.required ?? []) o[k] = sampleFromSchema(schema.properties?.[k], depth + 1);
      return o;
    }
    case "array":
      return [];
    case "string":
      return "x".repeat(Math.max(1, schema.minLength ?? 1));
    case "integer":
    case "number":
      return schema.minimum ?? 1;
    case "boolean":
      return true;
    default:
      return null;
  }
}

/** Headers of a valid request on this route. */
export function authHeaders(route: FuzzRoute, fx: Fixtures): Record<string, string> {
  if (route.auth === "master") return { "x-master-key": TEST_MASTER_KEY };
  if (route.auth === "none") return {};
  return { "x-api-key": fx.key, "x-user-id": fx.user };
}
