// Markdown helpers for the documentation tests: which files are docs, their links, their headings
// and the anchors GitHub gives those headings.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

/** Repository root (this file is test/docs/markdown.ts). */
export const ROOT = join(import.meta.dir, "..", "..");

/** README.md and every Markdown file under docs/, as paths relative to the root. */
export function docFiles(): string[] {
  const out = ["README.md"];
  const walk = (dir: string): void => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".md")) out.push(p);
    }
  };
  walk("docs");
  return out.sort();
}

/** The text outside fenced code blocks, with inline code spans blanked (links there are examples). */
export function proseOf(markdown: string): string {
  let inFence = false;
  const lines = markdown.split("\n").map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      inFence = !inFence;
      return "";
    }
    return inFence ? "" : line;
  });
  return lines.join("\n").replace(/`[^`\n]*`/g, (m) => " ".repeat(m.length));
}

/** One inline link or image: its target and the line it is on. */
export interface Link {
  target: string;
  line: number;
}

/** Inline links `[text](target)` and images of a Markdown text, code excluded. */
export function linksOf(markdown: string): Link[] {
  const prose = proseOf(markdown);
  const links: Link[] = [];
  // Link text may hold inline code (blanked above) but not a nested "]".
  const re = /!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
  for (const m of prose.matchAll(re)) {
    const line = prose.slice(0, m.index).split("\n").length;
    links.push({ target: m[1]!, line });
  }
  return links;
}

/** Headings of a Markdown text (outside code), with their level and raw text. */
export function headingsOf(markdown: string): { level: number; text: string; offset: number }[] {
  const out: { level: number; text: string; offset: number }[] = [];
  let inFence = false;
  let offset = 0;
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    else if (!inFence) {
      const m = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
      if (m) out.push({ level: m[1]!.length, text: m[2]!, offset });
    }
    offset += line.length + 1;
  }
  return out;
}

/** The anchor GitHub gives a heading (github-slugger): lower case, punctuation dropped, spaces to "-". */
export function slug(heading: string): string {
  const text = heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1") // a link's text only
    .replace(/[`*]/g, "")
    .toLowerCase();
  return text.replace(/[^\p{L}\p{N}\p{M} _-]/gu, "").replace(/ /g, "-");
}

/** Every anchor of a Markdown text; repeated headings get -1, -2... as on GitHub. */
export function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const h of headingsOf(markdown)) {
    const base = slug(h.text);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Reads a file relative to the root. */
export function read(path: string): string {
  return readFileSync(join(ROOT, path), "utf8");
}

/** A path relative to the root, for messages. */
export function rel(abs: string): string {
  return relative(ROOT, abs);
}
