// Bundles the console's browser code (browser/app.ts and the src/client/ it imports) with Bun.build, in
// memory. Used by the route module when running from source and by build.ts before `--compile`.
import { join } from "node:path";

/** The browser entry point of the console. */
export const CONSOLE_ENTRY = join(import.meta.dir, "..", "browser", "app.ts");

/** Where build.ts writes the bundle that `bun build --compile` embeds (see assets.ts). */
export const CONSOLE_DIST_FILE = join(import.meta.dir, "dist", "app.js.txt");

/** One browser build of the console as a single ES module; throws with the build log on failure. */
export async function buildConsoleBundle(opts: { minify?: boolean } = {}): Promise<string> {
  let result: Awaited<ReturnType<typeof Bun.build>>;
  try {
    result = await Bun.build({
      entrypoints: [CONSOLE_ENTRY],
      target: "browser",
      format: "esm",
      minify: opts.minify ?? true,
      sourcemap: "none",
      // Nothing may come from outside the bundle: the page's CSP allows scripts from 'self' only.
      splitting: false,
    });
  } catch (err) {
    const logs = (err as { errors?: unknown[] }).errors;
    throw new Error(`console bundle failed: ${Array.isArray(logs) ? logs.map(String).join("\n") : String(err)}`);
  }
  if (!result.success) throw new Error(`console bundle failed:\n${result.logs.map(String).join("\n")}`);
  const entry = result.outputs.find((o) => o.kind === "entry-point");
  if (!entry) throw new Error("console bundle produced no entry point");
  return await entry.text();
}
