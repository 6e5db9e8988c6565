// GET /docs (Swagger UI, served from the binary), /docs/json (the OpenAPI 3.1 document) and
// /docs/assets/*. None of them is listed in the document itself.
import { Elysia, t } from "elysia";
import { AppError } from "../errors";
import { DOCS_ASSETS, DOCS_ASSETS_VERSION, DOCS_CSP, docsPage } from "./docs-assets";
import { buildOpenApiDocument, type RouteInfo } from "./openapi/generate";

const SPEC_PATH = "/docs/json";

const SECURITY_HEADERS = {
  "Content-Security-Policy": DOCS_CSP,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};

/** The docs routes; `routes()` lists the app's routes when the document is first asked for. */
export function docsRoutes(opts: { version: string; routes: () => readonly RouteInfo[] }) {
  let spec: string | null = null;
  const specJson = () => (spec ??= JSON.stringify(buildOpenApiDocument(opts.routes(), { version: opts.version })));
  const page = () => new Response(docsPage(SPEC_PATH), { headers: { ...SECURITY_HEADERS, "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache" } });

  return new Elysia()
    .get("/docs", page, { detail: { hide: true } })
    .get("/docs/", page, { detail: { hide: true } })
    .get(SPEC_PATH, () => new Response(specJson(), { headers: { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-cache" } }), { detail: { hide: true } })
    .get(
      "/docs/assets/:name",
      ({ params, request }) => {
        const asset = Object.hasOwn(DOCS_ASSETS, params.name) ? DOCS_ASSETS[params.name] : undefined;
        if (!asset) throw new AppError("not_found", `no docs asset ${params.name}`);
        const etag = `"${DOCS_ASSETS_VERSION}-${params.name}"`;
        const versioned = new URL(request.url).searchParams.get("v") === DOCS_ASSETS_VERSION;
        const headers: Record<string, string> = {
          ...SECURITY_HEADERS,
          "Content-Type": asset.type,
          ETag: etag,
          Vary: "Accept-Encoding",
          "Cache-Control": versioned ? "public, max-age=31536000, immutable" : "no-cache",
        };
        if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
        if (/\bgzip\b/.test(request.headers.get("accept-encoding") ?? "") && asset.body.length > 16_384) {
          asset.gzip ??= Bun.gzipSync(asset.body) as Uint8Array<ArrayBuffer>;
          return new Response(asset.gzip, { headers: { ...headers, "Content-Encoding": "gzip" } });
        }
        return new Response(asset.body, { headers });
      },
      { params: t.Object({ name: t.String({ maxLength: 64 }) }), detail: { hide: true } },
    );
}
