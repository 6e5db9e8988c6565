// `bun packages/client/build.ts`: builds @chatapi/client from src/client/ into packages/client/dist:
// one ESM file for browsers, Bun and Node 20+ (Bun.build, target browser) plus .d.ts declarations
// (tsc). Fails when the bundle imports anything: the package has no dependencies and no server code.
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const PKG_DIR = import.meta.dir;
const REPO_ROOT = join(PKG_DIR, "..", "..");
const ENTRY = join(REPO_ROOT, "src", "client", "index.ts");
const DIST = join(PKG_DIR, "dist");

/** Import specifiers left in a built module (static, dynamic, require); the package must have none. */
export function importsOf(js: string): string[] {
  const found: string[] = [];
  for (const m of js.matchAll(/\bimport\s*(?:[\w*{}\s,$]+\s*from\s*)?["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']|\brequire\s*\(\s*["']([^"']+)["']/g)) found.push(m[1] ?? m[2] ?? m[3]!);
  return found;
}

/** Builds dist/; returns the file names written. */
export async function buildClientPackage(): Promise<string[]> {
  rmSync(DIST, { recursive: true, force: true });
  const result = await Bun.build({
    entrypoints: [ENTRY],
    outdir: DIST,
    naming: "index.js",
    target: "browser",
    format: "esm",
    minify: false,
    sourcemap: "linked",
    splitting: false,
  });
  if (!result.success) throw new Error(`client bundle failed:\n${result.logs.map(String).join("\n")}`);
  const js = readFileSync(join(DIST, "index.js"), "utf8");
  const imports = importsOf(js);
  if (imports.length > 0) throw new Error(`the client bundle imports ${imports.join(", ")}: it must be self-contained (no server code, no dependencies)`);
  if (/["'](?:bun|node):|\bBun\./.test(js)) throw new Error("the client bundle mentions a server runtime module (bun:, node: or Bun.*)");

  const tsc = Bun.spawnSync([process.execPath, join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", join(PKG_DIR, "tsconfig.json")], { stdout: "pipe", stderr: "pipe" });
  if (tsc.exitCode !== 0) throw new Error(`tsc failed (${tsc.exitCode}):\n${tsc.stdout.toString()}${tsc.stderr.toString()}`);
  // The sources import "./x.ts" (Bun style); published declarations must name "./x.js".
  for (const name of readdirSync(DIST).filter((n) => n.endsWith(".d.ts"))) {
    const path = join(DIST, name);
    writeFileSync(path, readFileSync(path, "utf8").replace(/(from\s+["']\.{1,2}\/[^"']+)\.ts(["'])/g, "$1.js$2"));
  }
  cpSync(join(REPO_ROOT, "LICENSE"), join(PKG_DIR, "LICENSE"));
  return readdirSync(DIST).sort();
}

if (import.meta.main) {
  const started = performance.now();
  const files = await buildClientPackage();
  const size = (Bun.file(join(DIST, "index.js")).size / 1024).toFixed(1);
  process.stdout.write(`@chatapi/client: packages/client/dist (${files.length} files, index.js ${size} KiB, ${Math.round(performance.now() - started)} ms)\n`);
}
