// `bun src/console/server/build.ts`: writes the console's browser bundle to src/console/server/dist/app.js.txt,
// which `bun build --compile` then embeds (assets.ts imports it inside the binary). Run by
// `bun run build` before compiling; running from source never needs it (the server bundles in memory).
// It sits in src/ (not scripts/) so that a build context holding only src/ (the Dockerfile) has it.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, relative } from "node:path";
import { buildConsoleBundle, CONSOLE_DIST_FILE } from "./bundle";

const started = performance.now();
const js = await buildConsoleBundle({ minify: true });
if (/\bfrom\s*["'](bun|node):|require\(["'](bun|node):/.test(js)) {
  throw new Error("console bundle imports a server-side module (bun:/node:); the browser code must import only src/client/ and src/console/");
}
mkdirSync(dirname(CONSOLE_DIST_FILE), { recursive: true });
writeFileSync(CONSOLE_DIST_FILE, js);
const ms = Math.round(performance.now() - started);
process.stdout.write(`console: ${relative(process.cwd(), CONSOLE_DIST_FILE)} (${(js.length / 1024).toFixed(1)} KiB, ${ms} ms)\n`);
