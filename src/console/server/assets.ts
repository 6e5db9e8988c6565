// The console's assets (JS bundle, CSS, icon) in memory, for the binary and for source runs alike.
// From source (src/console/browser/app.ts exists on disk) the bundle is built with Bun.build on first use
// and rebuilt when a console or client source file changes. In the compiled binary there are no
// sources: build.ts wrote dist/app.js.txt before `bun build --compile`, which embeds it through
// the dynamic import below (only ever executed there, so source runs never need that file).
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { buildConsoleBundle, CONSOLE_ENTRY } from "./bundle";
import embeddedCss from "../browser/styles.css" with { type: "text" };

/** The console's files as served, with a content version for cache busting and ETags. */
export interface ConsoleAssets {
  js: string;
  css: string;
  /** First 16 hex chars of SHA-256 over the JS and the CSS. */
  version: string;
  origin: "source" | "embedded";
}

const SOURCE_DIRS = [join(import.meta.dir, "..", "browser"), join(import.meta.dir, "..", "..", "client")];

let cached: { key: string; assets: Promise<ConsoleAssets> } | null = null;

/** True when running from the repository (sources on disk), false inside the compiled binary. */
export function runningFromSource(): boolean {
  return existsSync(CONSOLE_ENTRY);
}

// Changes when any browser-side source changes (mtime and size of every .ts/.css file).
function sourceFingerprint(): string {
  const parts: string[] = [];
  for (const dir of SOURCE_DIRS) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      if (!/\.(ts|css)$/.test(name) || name.endsWith(".test.ts")) continue;
      try {
        const st = statSync(join(dir, name));
        parts.push(`${name}:${st.mtimeMs}:${st.size}`);
      } catch {
        // Deleted between readdir and stat: the next call sees the new state.
      }
    }
  }
  return parts.join("|");
}

function versionOf(js: string, css: string): string {
  return new Bun.CryptoHasher("sha256").update(js).update("\0").update(css).digest("hex").slice(0, 16);
}

async function load(fromSource: boolean): Promise<ConsoleAssets> {
  if (fromSource) {
    const [js, css] = await Promise.all([buildConsoleBundle({ minify: true }), Bun.file(join(import.meta.dir, "..", "browser", "styles.css")).text()]);
    return { js, css, version: versionOf(js, css), origin: "source" };
  }
  const js = (await import("./dist/app.js.txt")).default;
  return { js, css: embeddedCss, version: versionOf(js, embeddedCss), origin: "embedded" };
}

/** The current assets; concurrent callers share one build; a failed build is retried on the next call. */
export function consoleAssets(): Promise<ConsoleAssets> {
  const fromSource = runningFromSource();
  const key = fromSource ? sourceFingerprint() : "embedded";
  if (cached && cached.key === key) return cached.assets;
  const entry = { key, assets: load(fromSource) };
  cached = entry;
  entry.assets.catch(() => {
    if (cached === entry) cached = null;
  });
  return entry.assets;
}

/** The favicon (an SVG speech bubble); served as a file so the page needs no data: URL. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect x="2" y="4" width="28" height="20" rx="6" fill="#2f6feb"/><path d="M9 24l-1 6 7-6z" fill="#2f6feb"/><circle cx="10" cy="14" r="2.2" fill="#fff"/><circle cx="16" cy="14" r="2.2" fill="#fff"/><circle cx="22" cy="14" r="2.2" fill="#fff"/></svg>`;
