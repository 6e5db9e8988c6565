// Route schemas (TypeBox, JSON Schema 2020-12) as OpenAPI 3.1 schemas: plain JSON, Elysia's
// query-string coercions folded back to the type they coerce to, and shared objects as $refs.

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

// Elysia's t.Integer/t.Numeric/t.Boolean for query strings are `anyOf [string with format, real type]`.
const COERCION_FORMATS = new Set(["integer", "numeric", "boolean", "date-time", "ObjectString", "ArrayString"]);

/** A deep JSON copy of a schema (drops TypeBox's symbol keys), with Elysia's coercions folded. */
export function plainSchema(schema: unknown): Json {
  const copy = JSON.parse(JSON.stringify(schema ?? {})) as Json;
  return fold(copy) as Json;
}

function fold(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(fold);
  if (!isObj(node)) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) out[k] = fold(v);
  if (Array.isArray(out.anyOf)) {
    const kept = (out.anyOf as unknown[]).filter((b) => !(isObj(b) && b.type === "string" && typeof b.format === "string" && COERCION_FORMATS.has(b.format)));
    if (kept.length === 1 && kept.length < (out.anyOf as unknown[]).length) {
      const { anyOf: _drop, ...rest } = out;
      return { ...rest, ...(kept[0] as Json) };
    }
    out.anyOf = kept;
  }
  return out;
}

/** Replaces every sub-schema equal to a named one with a $ref (except the named schema itself). */
export class SchemaRefs {
  private readonly byJson = new Map<string, string>();
  readonly components: Record<string, Json> = {};

  constructor(named: [name: string, schema: unknown][]) {
    for (const [name, schema] of named) this.byJson.set(JSON.stringify(plainSchema(schema)), name);
    for (const [name, schema] of named) this.components[name] = this.refify(plainSchema(schema), name);
  }

  /** `schema` with named sub-schemas replaced by `{ $ref }`; `self` is never replaced by itself. */
  refify(schema: Json, self?: string): Json {
    const name = this.byJson.get(JSON.stringify(schema));
    if (name !== undefined && name !== self) {
      // Keep a description that says more than the shared object does (e.g. on a property).
      return { $ref: `#/components/schemas/${name}` };
    }
    const out: Json = {};
    for (const [k, v] of Object.entries(schema)) {
      if (k === "properties" || k === "patternProperties" || k === "$defs") {
        out[k] = Object.fromEntries(Object.entries(v as Json).map(([p, s]) => [p, isObj(s) ? this.refify(s) : s]));
      } else if ((k === "anyOf" || k === "oneOf" || k === "allOf" || k === "prefixItems") && Array.isArray(v)) {
        out[k] = v.map((s) => (isObj(s) ? this.refify(s) : s));
      } else if ((k === "items" || k === "additionalProperties" || k === "not") && isObj(v)) {
        out[k] = this.refify(v);
      } else {
        out[k] = v;
      }
    }
    return out;
  }
}
