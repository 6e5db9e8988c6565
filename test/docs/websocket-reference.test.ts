// docs/reference/websocket.md documents every frame type of the protocol with every field: client
// frames from their schemas (src/ws/frames.ts), server frames from the wire types
// (src/client/types.ts) and from the frames the server code actually builds.
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { CLIENT_FRAME_TYPES, clientFrameDataSchemas } from "../../src/ws/frames";
import { headingsOf, read, ROOT } from "./markdown";

const DOC = "docs/reference/websocket.md";

/** The text of the section whose heading names `type` in backticks, up to the next heading of the same or a higher level. */
function sectionOf(doc: string, type: string): string | null {
  const hs = headingsOf(doc);
  const i = hs.findIndex((h) => h.level >= 3 && h.text.includes(`\`${type}\``));
  if (i < 0) return null;
  const h = hs[i]!;
  const next = hs.slice(i + 1).find((n) => n.level <= h.level);
  return doc.slice(h.offset, next ? next.offset : doc.length);
}

/** Field names of an `interface Name ... { ... }` in a TypeScript source, following `extends` of local interfaces. */
function interfaceFields(src: string, name: string): string[] {
  const m = new RegExp(`interface ${name}(?:<[^>]*>)?(?:\\s+extends\\s+([^{]+))?\\s*\\{([\\s\\S]*?)\\n\\}`).exec(src);
  if (!m) throw new Error(`interface ${name} not found`);
  const own = [...m[2]!.matchAll(/^\s+"?([\w.]+)"?\??:/gm)].map((f) => f[1]!);
  const parent = m[1]?.trim();
  if (!parent) return own;
  const omit = /^Omit<(\w+),\s*"(\w+)">$/.exec(parent);
  const base = omit ? interfaceFields(src, omit[1]!).filter((f) => f !== omit[2]) : interfaceFields(src, parent);
  return [...new Set([...base, ...own])];
}

const types = read("src/client/types.ts");
const serverMap = /export interface ServerFrameMap \{([\s\S]*?)\n\}/.exec(types)![1]!;
const SERVER_FRAMES = [...serverMap.matchAll(/^\s+"?([\w.]+)"?:\s*(\w+)/gm)].map((m) => ({ type: m[1]!, iface: m[2]! }));

// Fields the server adds beyond the wire type (the Room's own `type` travels as `room_type`).
const EXTRA_FIELDS: Record<string, string[]> = { "room.updated": ["room_type"] };

/** Frame types built by the server code (`type: "..."` literals in src/ws and src/chat, tests excluded). */
function framesBuiltByServer(): string[] {
  const found = new Set<string>();
  for (const dir of ["src/ws", "src/chat"]) {
    for (const f of readdirSync(join(ROOT, dir))) {
      if (!f.endsWith(".ts") || f.endsWith(".test.ts")) continue;
      for (const m of read(`${dir}/${f}`).matchAll(/\btype: "([a-z][\w.]*)"/g)) found.add(m[1]!);
    }
  }
  return [...found].sort();
}

describe("WebSocket reference", () => {
  const doc = read(DOC);

  test("the wire types list the server frames (the parser below found them)", () => {
    expect(SERVER_FRAMES.length).toBeGreaterThanOrEqual(17);
    expect(SERVER_FRAMES.map((f) => f.type)).toContain("sync.gap");
  });

  test("every client frame type has a section naming every field of its data", () => {
    const missing: string[] = [];
    for (const type of CLIENT_FRAME_TYPES) {
      const section = sectionOf(doc, type);
      if (section === null) {
        missing.push(`no section for client frame ${type}`);
        continue;
      }
      const props = Object.keys((clientFrameDataSchemas[type] as { properties?: Record<string, unknown> }).properties ?? {});
      for (const p of props) if (!section.includes(`\`${p}\``)) missing.push(`${type}: field ${p} not documented`);
    }
    expect(missing).toEqual([]);
  });

  test("every server frame type of the wire types has a section naming every field", () => {
    const missing: string[] = [];
    for (const { type, iface } of SERVER_FRAMES) {
      const section = sectionOf(doc, type);
      if (section === null) {
        missing.push(`no section for server frame ${type}`);
        continue;
      }
      const fields = [...interfaceFields(types, iface).filter((f) => f !== "type"), ...(EXTRA_FIELDS[type] ?? [])];
      for (const f of fields) if (!section.includes(`\`${f}\``)) missing.push(`${type}: field ${f} not documented`);
    }
    expect(missing).toEqual([]);
  });

  test("every frame type the server code builds is documented", () => {
    const built = framesBuiltByServer();
    expect(built).toContain("message");
    const undocumented = built.filter((t) => sectionOf(doc, t) === null);
    expect(undocumented).toEqual([]);
  });

  test("every close code the gateway uses is in the close-code table", () => {
    const codes = [...read("src/errors.ts").matchAll(/^\s+\w+: (\d{4}),$/gm)].map((m) => m[1]!);
    expect(codes).toContain("1013");
    const table = doc.slice(doc.indexOf("## Close codes"));
    const missing = codes.filter((c) => !new RegExp(`^\\| ${c} \\|`, "m").test(table));
    expect(missing).toEqual([]);
  });
});
