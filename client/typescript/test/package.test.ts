// The npm package as another project gets it: `npm pack` (prepack compiles dist/), installed
// into a scratch project from the tarball (offline: the dependencies come from npm's cache,
// filled by `npm ci`), then imported by its name.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), "../..");

test("npm pack → npm install in another project → import @labelport/client", async () => {
  const dir = mkdtempSync(join(tmpdir(), "labelport-npm-"));
  try {
    const npm = { env: { ...process.env, npm_config_audit: "false", npm_config_fund: "false" }, timeout: 120_000 };
    const { stdout } = await run("npm", ["pack", "--silent", "--pack-destination", dir], { ...npm, cwd: PACKAGE_DIR });
    const tarball = join(dir, stdout.trim().split("\n").at(-1)!);
    const project = join(dir, "consumer");
    await run("mkdir", [project]);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    await run("npm", ["install", "--offline", "--no-package-lock", tarball], { ...npm, cwd: project });
    const script = [
      'import { LabelportClient, LabelportError, RunState, runName, toJson, AnnotationRunSchema, create } from "@labelport/client";',
      'const run = create(AnnotationRunSchema, { name: runName("d", "k"), state: RunState.ANNOTATING });',
      "console.log(JSON.stringify({ client: typeof LabelportClient, error: typeof LabelportError, run: toJson(AnnotationRunSchema, run) }));",
    ].join("\n");
    writeFileSync(join(project, "check.mjs"), script);
    const out = await run(process.execPath, ["check.mjs"], { cwd: project });
    assert.deepEqual(JSON.parse(out.stdout), {
      client: "function", error: "function", run: { name: "datasets/d/runs/k", state: "RUN_STATE_ANNOTATING" },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
