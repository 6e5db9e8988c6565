// Runs both OpenAPI validators on a document file: `@redocly/cli lint` with its recommended rules
// (its CLI, offline, telemetry off) and `@apidevtools/swagger-parser` validate. Used by
// test/docs/openapi.test.ts and by .ci/run on the built binary: `bun test/docs/validate-openapi.ts FILE`.
import SwaggerParser from "@apidevtools/swagger-parser";
import { join } from "node:path";

const REDOCLY_CLI = join(import.meta.dir, "..", "..", "node_modules", "@redocly", "cli", "bin", "cli.js");

export interface RedoclyProblem {
  ruleId: string;
  severity: "error" | "warn";
  message: string;
  location?: { pointer?: string }[];
}

export interface ValidationReport {
  redocly: { errors: number; warnings: number; problems: RedoclyProblem[] };
  /** null when swagger-parser accepts the document, else its message. */
  swaggerParser: string | null;
}

/** `redocly lint --extends=recommended` on `file`; its JSON report. */
export async function redoclyLint(file: string): Promise<ValidationReport["redocly"]> {
  const proc = Bun.spawn([process.execPath, REDOCLY_CLI, "lint", "--extends=recommended", "--format=json", "--max-problems=1000", file], {
    env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", CI: "true" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: 60_000,
  });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  let report: { totals: { errors: number; warnings: number }; problems: RedoclyProblem[] };
  try {
    report = JSON.parse(out);
  } catch {
    throw new Error(`redocly lint printed no JSON report (exit ${proc.exitCode}):\n${out.slice(0, 2000)}\n${err.slice(0, 2000)}`);
  }
  return { errors: report.totals.errors, warnings: report.totals.warnings, problems: report.problems };
}

/** swagger-parser's validation of `file` (schema and references); null when valid. */
export async function swaggerParserValidate(file: string): Promise<string | null> {
  try {
    await SwaggerParser.validate(JSON.parse(await Bun.file(file).text()));
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Both validators on one file. */
export async function validateOpenApiFile(file: string): Promise<ValidationReport> {
  const [redocly, swaggerParser] = await Promise.all([redoclyLint(file), swaggerParserValidate(file)]);
  return { redocly, swaggerParser };
}

if (import.meta.main) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write("usage: bun test/docs/validate-openapi.ts OPENAPI.json\n");
    process.exit(2);
  }
  const r = await validateOpenApiFile(file);
  for (const p of r.redocly.problems) process.stderr.write(`redocly ${p.severity} ${p.ruleId}: ${p.message} at ${p.location?.[0]?.pointer ?? "?"}\n`);
  if (r.swaggerParser) process.stderr.write(`swagger-parser: ${r.swaggerParser}\n`);
  process.stdout.write(`openapi: redocly ${r.redocly.errors} errors, ${r.redocly.warnings} warnings; swagger-parser ${r.swaggerParser ? "INVALID" : "valid"}\n`);
  process.exit(r.redocly.errors === 0 && r.swaggerParser === null ? 0 : 1);
}
