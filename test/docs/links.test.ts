// The user documentation (README.md and docs/) links only inside the repository, every relative
// link resolves to a file that exists, and every #anchor to a heading of its target.
import { describe, expect, test } from "bun:test";
import { existsSync, statSync } from "node:fs";
import { dirname, join, normalize, relative, sep } from "node:path";
import { anchorsOf, docFiles, linksOf, read, ROOT } from "./markdown";

// Files the documentation links to that other parts of the project provide (the browser-auth and
// TypeScript-client guides, the limits reference, the runnable WebSocket demo, the license and the
// changelog). They must exist; their own test below names any that is missing.
const PROVIDED_ELSEWHERE = [
  "docs/guides/browser-auth.md",
  "docs/reference/limits.md",
  "docs/guides/typescript-client.md",
  "examples/ws-demo.ts",
  "LICENSE",
  "CHANGELOG.md",
];

interface Problem {
  file: string;
  line: number;
  target: string;
  why: string;
}

function checkLinks(): Problem[] {
  const problems: Problem[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchors = (path: string) => {
    let a = anchorCache.get(path);
    if (!a) anchorCache.set(path, (a = anchorsOf(read(path))));
    return a;
  };
  for (const file of docFiles()) {
    for (const { target, line } of linksOf(read(file))) {
      const bad = (why: string) => problems.push({ file, line, target, why });
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
        if (!/^(https?|mailto):/i.test(target)) bad("unexpected URL scheme");
        continue;
      }
      if (target.startsWith("/")) {
        bad("absolute path: use a path relative to the file");
        continue;
      }
      const [pathPart = "", anchor] = target.split("#", 2);
      const resolved = pathPart === "" ? file : normalize(join(dirname(file), decodeURIComponent(pathPart)));
      if (resolved.startsWith("..") || resolved.split(sep).includes("..")) {
        bad("points outside the repository");
        continue;
      }
      if (PROVIDED_ELSEWHERE.includes(resolved) && !existsSync(join(ROOT, resolved))) continue; // reported below
      if (!existsSync(join(ROOT, resolved))) {
        bad(`no such file ${resolved}`);
        continue;
      }
      if (anchor !== undefined && anchor !== "") {
        if (statSync(join(ROOT, resolved)).isDirectory() || !resolved.endsWith(".md")) bad("an anchor into a file that is not Markdown");
        else if (!anchors(resolved).has(anchor)) bad(`no heading #${anchor} in ${resolved}`);
      }
    }
  }
  return problems;
}

describe("documentation links", () => {
  test("README.md and docs/ exist and have links to check", () => {
    const files = docFiles();
    expect(files).toContain("README.md");
    expect(files).toContain("docs/README.md");
    expect(files).toContain("docs/reference/websocket.md");
    const total = files.reduce((n, f) => n + linksOf(read(f)).length, 0);
    expect(total).toBeGreaterThan(100);
  });

  test("every relative link resolves to an existing file, and every anchor to a heading", () => {
    const problems = checkLinks().map((p) => `${p.file}:${p.line} ${p.target}: ${p.why}`);
    expect(problems).toEqual([]);
  });

  test("the files the docs link to that other parts of the project provide exist", () => {
    const missing = PROVIDED_ELSEWHERE.filter((p) => !existsSync(join(ROOT, p)));
    expect(missing).toEqual([]);
  });

  test("nothing points at files users do not have (the contract file, ../shared/)", () => {
    const hits: string[] = [];
    for (const file of docFiles()) {
      read(file)
        .split("\n")
        .forEach((text, i) => {
          if (/shared\/|API\.md/.test(text)) hits.push(`${file}:${i + 1}: ${text.trim()}`);
        });
    }
    expect(hits).toEqual([]);
  });

  test("the link checker itself catches broken links and anchors", () => {
    // Guards against a checker that silently finds nothing.
    const sample = "See [a](docs/nope.md), [b](#missing), [c](docs/README.md#roadmap), `[d](x.md)`.\n\n## Here\n";
    const links = linksOf(sample).map((l) => l.target);
    expect(links).toEqual(["docs/nope.md", "#missing", "docs/README.md#roadmap"]);
    expect(anchorsOf(sample).has("here")).toBe(true);
    expect(anchorsOf(read("docs/README.md")).has("roadmap")).toBe(true);
    expect(relative(ROOT, join(ROOT, "docs"))).toBe("docs");
  });
});
