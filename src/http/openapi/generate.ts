// Builds the OpenAPI 3.1 document of /docs/json from the mounted routes: their TypeBox schemas
// (JSON Schema 2020-12, the dialect of OpenAPI 3.1), plus operations.ts for operationIds,
// security requirements and examples. Bodies are JSON only (multipart for a route that parses it):
// the server answers 415 to anything else.
import { DeadLetterSchema } from "../dead-letters.routes";
import { MemberSchema, MessageSchema, RoomSchema, RoomSummarySchema } from "../chat-schemas";
import { NotificationSchema, SubscriptionSchema } from "../notify.routes";
import { ErrorSchema, TenantConfigSchema, TenantSchema } from "../schemas";
import { EX_ERROR, EX_METRICS_JSON, EX_PARAMS } from "./examples";
import { OPERATIONS, SECURITY_SCHEMES, securityOf, type OperationDoc } from "./operations";
import { plainSchema, SchemaRefs } from "./schema";

type Json = Record<string, unknown>;

/** A mounted route as Elysia lists it (`app.routes`). */
export interface RouteInfo {
  method: string;
  path: string;
  hooks?: { body?: unknown; params?: unknown; query?: unknown; headers?: unknown; response?: unknown; detail?: Json; parse?: unknown; type?: unknown };
}

// JSON unless the route says it parses multipart (an upload); nothing else is accepted (415).
function bodyMediaType(hooks: NonNullable<RouteInfo["hooks"]>): string {
  const declared = [hooks.type, ...(Array.isArray(hooks.parse) ? hooks.parse : [hooks.parse])].map((p) => (isObj(p) ? p.fn : p));
  return declared.some((p) => p === "formdata" || p === "multipart/form-data") ? "multipart/form-data" : "application/json";
}

const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE"]);
// Credentials are documented as security schemes, not as parameters.
const AUTH_HEADERS = new Set(["x-api-key", "x-user-id", "x-master-key", "authorization"]);
const HEADER_NAMES: Record<string, string> = { "idempotency-key": "Idempotency-Key" };

const STATUS_TEXT: Record<number, string> = {
  101: "Switching Protocols",
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No content",
  400: "Invalid request: a body field, parameter or header failed validation (`details` lists them)",
  401: "Missing or invalid credentials",
  403: "Not allowed for this caller (not a member, role too low, or Origin refused)",
  404: "Not found, or not visible to this tenant or user",
  409: "Conflicts with the current state",
  413: "Request body over MAX_BODY_BYTES",
  415: "Unsupported media type: bodies must be application/json",
  429: "Rate limited: retry after the Retry-After header (seconds)",
  500: "Internal error (the log has the request_id)",
  503: "Unavailable: shutting down or the database does not take writes",
};

export const TAGS = [
  { name: "Operations", description: "Health, metrics and the web console (no credentials)" },
  { name: "Admin: tenants", description: "Tenant management with the master key (X-Master-Key)" },
  { name: "Admin: dead letters", description: "Webhook deliveries that used every attempt, with the tenant key" },
  { name: "Rooms", description: "Rooms, DMs, channels and their members" },
  { name: "Messages", description: "Sending, history, edits, deletes and read positions (acks)" },
  { name: "Notifications", description: "Notifications to users, rooms or topic subscribers, and topic subscriptions" },
  { name: "Realtime", description: "WebSocket tokens, presence, and the /ws upgrade" },
  { name: "Attachments", description: "File uploads and downloads (signed urls)" },
];

/** `/rooms/:room_id` -> `/rooms/{room_id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)\??/g, "{$1}");
}

function isObj(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parameters(where: "path" | "query" | "header", schema: unknown, doc: OperationDoc | undefined, refs: SchemaRefs): Json[] {
  if (!isObj(schema)) return [];
  const plain = plainSchema(schema);
  const props = isObj(plain.properties) ? plain.properties : {};
  const required = new Set(Array.isArray(plain.required) ? (plain.required as string[]) : []);
  const out: Json[] = [];
  for (const [name, s] of Object.entries(props)) {
    if (where === "header" && AUTH_HEADERS.has(name.toLowerCase())) continue;
    const { description, ...rest } = s as Json;
    const example = doc?.params?.[name] ?? EX_PARAMS[name];
    out.push({
      name: where === "header" ? (HEADER_NAMES[name] ?? name) : name,
      in: where,
      required: where === "path" ? true : required.has(name),
      ...(typeof description === "string" ? { description } : {}),
      schema: refs.refify(rest),
      ...(example !== undefined ? { example } : {}),
    });
  }
  return out;
}

function responses(route: RouteInfo, doc: OperationDoc | undefined, refs: SchemaRefs): Json {
  const declared = isObj(route.hooks?.response) ? route.hooks.response : {};
  const out: Json = {};
  const statuses = Object.keys(declared).map(Number).sort((a, b) => a - b);
  for (const status of statuses) {
    const plain = plainSchema((declared as Json)[String(status)]);
    const raw = doc?.rawContent?.[status];
    const description = doc?.responseDescriptions?.[status] ?? (status < 300 && typeof plain.description === "string" && plain.type === "void" ? plain.description : STATUS_TEXT[status] ?? `HTTP ${status}`);
    if (raw) {
      out[status] = { description, content: Object.fromEntries(Object.entries(raw).map(([type, c]) => [type, { schema: c.schema, example: c.example }])) };
      continue;
    }
    if (plain.type === "void" || status === 204 || status === 101) {
      out[status] = { description };
      continue;
    }
    const schema = refs.refify(plain);
    const example = doc?.responseExamples?.[status] ?? (status >= 400 ? errorExample(status) : doc?.response);
    out[status] = { description, content: { "application/json": { schema, ...(example !== undefined ? { example: JSON.parse(JSON.stringify(example)) } : {}) } } };
  }
  if (statuses.length === 0) out[200] = { description: STATUS_TEXT[200] };
  return out;
}

function errorCodeOf(status: number): string {
  const codes: Record<number, string> = { 400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type", 429: "rate_limit_exceeded", 500: "internal_error", 503: "unavailable" };
  return codes[status] ?? "internal_error";
}

function errorExample(status: number): Json {
  if (status === 400) return EX_ERROR;
  return { error: errorCodeOf(status), message: (STATUS_TEXT[status] ?? "error").split(":")[0]!.toLowerCase(), request_id: EX_ERROR.request_id };
}

/** The document for the given routes; hidden routes (`detail.hide`) and non-REST methods are left out. */
export function buildOpenApiDocument(routes: readonly RouteInfo[], meta: { version: string }): Json {
  const refs = new SchemaRefs([
    ["Error", ErrorSchema],
    ["Tenant", TenantSchema],
    ["TenantConfig", TenantConfigSchema],
    ["Room", RoomSchema],
    ["RoomSummary", RoomSummarySchema],
    ["Member", MemberSchema],
    ["Message", MessageSchema],
    ["Notification", NotificationSchema],
    ["Subscription", SubscriptionSchema],
    ["DeadLetter", DeadLetterSchema],
  ]);
  const paths: Record<string, Json> = {};
  for (const route of routes) {
    const detail = route.hooks?.detail ?? {};
    if (detail.hide === true || !METHODS.has(route.method)) continue;
    const path = openApiPath(route.path);
    const key = `${route.method} ${path}`;
    const doc = OPERATIONS[key];
    const hooks = route.hooks ?? {};
    const params = [...parameters("path", hooks.params, doc, refs), ...parameters("query", hooks.query, doc, refs), ...parameters("header", hooks.headers, doc, refs)];
    // Path parameters the route declares no schema for are still parameters.
    for (const m of path.matchAll(/\{([^}]+)\}/g)) {
      const name = m[1]!;
      if (!params.some((p) => p.in === "path" && p.name === name)) params.unshift({ name, in: "path", required: true, schema: { type: "string" }, ...(EX_PARAMS[name] !== undefined ? { example: EX_PARAMS[name] } : {}) });
    }
    const { hide: _hide, tags, summary, description, ...restDetail } = detail;
    const op: Json = {
      tags: Array.isArray(tags) && tags.length ? tags : ["Operations"],
      summary: typeof summary === "string" ? summary : key,
      ...(typeof description === "string" ? { description } : {}),
      operationId: doc?.operationId ?? `${route.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? "").toUpperCase())}`,
      ...(doc ? { security: securityOf(doc.auth) } : {}),
      ...(params.length ? { parameters: params } : {}),
      ...restDetail,
    };
    if (hooks.body !== undefined && isObj(hooks.body)) {
      op.requestBody = {
        required: true,
        content: { [bodyMediaType(hooks)]: { schema: refs.refify(plainSchema(hooks.body)), ...(doc?.request !== undefined ? { example: doc.request } : {}) } },
      };
    }
    op.responses = responses(route, doc, refs);
    paths[path] = { ...(paths[path] ?? {}), [route.method.toLowerCase()]: op };
  }
  refs.components.MetricsJson = { type: "object", description: "GET /metrics?format=json", required: Object.keys(EX_METRICS_JSON), properties: Object.fromEntries(Object.keys(EX_METRICS_JSON).map((k) => [k, { type: "number" }])) };
  (refs.components.Error as Json).example = EX_ERROR;
  return {
    openapi: "3.1.0",
    jsonSchemaDialect: "https://spec.openapis.org/oas/3.1/dialect/base",
    info: {
      title: "ChatAPI",
      version: meta.version,
      summary: "Multitenant chat backend: REST + WebSocket, one binary.",
      description:
        "REST reference of ChatAPI. Tenant routes take `X-API-Key` (plus `X-User-Id`, or a signed user token as `Authorization: Bearer`, for user-scoped routes); admin tenant routes take `X-Master-Key`. Every request and response body is JSON; errors are `{error, message, request_id, details?}`. The WebSocket protocol of `GET /ws` is described in the WebSocket reference under `docs/`.",
      license: { name: "MIT", identifier: "MIT" },
    },
    servers: [{ url: "/", description: "This server" }],
    tags: TAGS,
    paths,
    components: { schemas: refs.components, securitySchemes: SECURITY_SCHEMES },
  };
}
