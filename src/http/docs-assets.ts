// Swagger UI for /docs, embedded: the swagger-ui-dist files are imported as text, so
// `bun build --compile` puts them in the binary and the page loads nothing from outside.
import swaggerCss from "swagger-ui-dist/swagger-ui.css" with { type: "text" };
import swaggerBundle from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "text" };
import swaggerLicense from "swagger-ui-dist/LICENSE" with { type: "text" };

/** One embedded file as served. */
export interface DocsAsset {
  type: string;
  body: string;
  /** Gzipped body, made on first use (the bundle is 1.7 MB, about a third of that gzipped). */
  gzip?: Uint8Array<ArrayBuffer>;
}

// The page's only script of its own: starts the UI on the document at data-spec-url. No inline
// script (the CSP forbids it), and no validator badge (Swagger UI would call validator.swagger.io).
const INIT_JS = `"use strict";
window.addEventListener("DOMContentLoaded", function () {
  var el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: el.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    docExpansion: "list",
    filter: true,
    displayRequestDuration: true,
    persistAuthorization: false,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
`;

const PAGE_CSS = "body{margin:0;background:#fff}.docs-note{font:14px/1.4 system-ui,sans-serif;margin:0;padding:8px 20px;background:#f4f6fa;border-bottom:1px solid #dde2ea}\n";

// Source-map comments would make devtools ask for files that are not served.
const noSourceMap = (text: string) => text.replace(/\n?\/[/*]# sourceMappingURL=\S+(\s*\*\/)?\s*$/, "\n");

export const DOCS_ASSETS: Record<string, DocsAsset> = {
  "swagger-ui-bundle.js": { type: "text/javascript; charset=utf-8", body: noSourceMap(swaggerBundle) },
  "swagger-ui.css": { type: "text/css; charset=utf-8", body: noSourceMap(swaggerCss) + PAGE_CSS },
  "docs-init.js": { type: "text/javascript; charset=utf-8", body: INIT_JS },
  "swagger-ui-LICENSE.txt": { type: "text/plain; charset=utf-8", body: swaggerLicense },
  "favicon.svg": {
    type: "image/svg+xml",
    body: `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect x="2" y="4" width="28" height="20" rx="6" fill="#2f6feb"/><path d="M9 24l-1 6 7-6z" fill="#2f6feb"/><circle cx="10" cy="14" r="2.2" fill="#fff"/><circle cx="16" cy="14" r="2.2" fill="#fff"/><circle cx="22" cy="14" r="2.2" fill="#fff"/></svg>`,
  },
};

/** First 16 hex chars of SHA-256 over every asset: the ?v= of the page's URLs. */
export const DOCS_ASSETS_VERSION = (() => {
  const h = new Bun.CryptoHasher("sha256");
  for (const [name, a] of Object.entries(DOCS_ASSETS)) h.update(name).update("\0").update(a.body).update("\0");
  return h.digest("hex").slice(0, 16);
})();

/** The CSP of /docs: everything from this origin only, no inline script or style, no framing. */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  // "Try it out" calls this same server.
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join("; ");

/** The /docs page for the current asset version. */
export function docsPage(specUrl: string): string {
  const v = DOCS_ASSETS_VERSION;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>ChatAPI REST reference</title>
<link rel="icon" href="/docs/assets/favicon.svg?v=${v}" type="image/svg+xml">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css?v=${v}">
<script defer src="/docs/assets/swagger-ui-bundle.js?v=${v}"></script>
<script defer src="/docs/assets/docs-init.js?v=${v}"></script>
</head>
<body>
<noscript><p class="docs-note">This page needs JavaScript. The raw OpenAPI 3.1 document is at <a href="${specUrl}">${specUrl}</a>.</p></noscript>
<div id="swagger-ui" data-spec-url="${specUrl}"></div>
</body>
</html>
`;
}
