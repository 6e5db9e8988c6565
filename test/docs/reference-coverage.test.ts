// The references keep up with the code: every environment variable of src/config.ts is in
// docs/configuration.md, every error code of src/errors.ts in docs/reference/errors.md with its
// HTTP status, and every route the server mounts in docs/reference/rest.md.
import { describe, expect, test } from "bun:test";
import { CONFIG_VARS } from "../../src/config";
import { ERROR_CATALOG } from "../../src/errors";
import { startTestServer } from "../helpers";
import { read } from "./markdown";

/** Table rows (`| ... |` lines) of a Markdown text. */
function rows(markdown: string): string[] {
  return markdown.split("\n").filter((l) => l.startsWith("|"));
}

describe("reference coverage", () => {
  test("every environment variable (and alias) has a row in docs/configuration.md", () => {
    const table = rows(read("docs/configuration.md"));
    const names = CONFIG_VARS.flatMap((v) => [v.name, ...(v.aliases ?? [])]);
    expect(names.length).toBeGreaterThan(20);
    const missing = names.filter((n) => !table.some((r) => r.includes(`\`${n}\``)));
    expect(missing).toEqual([]);
  });

  test("every error code has a row in docs/reference/errors.md with its HTTP status", () => {
    const table = rows(read("docs/reference/errors.md"));
    const missing: string[] = [];
    for (const [code, entry] of Object.entries(ERROR_CATALOG)) {
      const row = table.find((r) => r.startsWith(`| \`${code}\` |`));
      if (!row) missing.push(`${code}: no row`);
      else if (!row.includes(`| ${entry.status} |`)) missing.push(`${code}: status ${entry.status} not in its row`);
    }
    expect(missing).toEqual([]);
  });

  test("every REST route the app mounts is in docs/reference/rest.md", async () => {
    // The OpenAPI document of a real server lists every route with its method.
    const server = await startTestServer();
    try {
      const doc = (await (await fetch(`${server.url}/docs/json`)).json()) as { paths: Record<string, Record<string, unknown>> };
      const rest = read("docs/reference/rest.md");
      const missing: string[] = [];
      for (const [path, ops] of Object.entries(doc.paths)) {
        // Static assets of the docs UI and the console are not API routes.
        if (path.startsWith("/docs/") || path.startsWith("/console/")) continue;
        for (const method of Object.keys(ops)) {
          if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
          const route = `${method.toUpperCase()} ${path}`;
          if (!rest.includes(route)) missing.push(route);
        }
      }
      expect(Object.keys(doc.paths).length).toBeGreaterThan(15);
      expect(missing).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});
