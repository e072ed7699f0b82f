// The client against the real labelport-server and darwin-sim (bearer-token auth): media
// uploaded first, a run created from it, watched, got and listed, edited in the sim as an
// annotator, the annotations loaded back, errors with their google.rpc details, and the run
// managed to its end.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";

import {
  Code,
  LabelportClient,
  LabelportError,
  RunState,
  create,
  datasetName,
  existingFields,
  newSample,
  runName,
  LabelSchemaSchema,
  type AnnotationRun,
  type SampleFieldChanges,
  type UploadedFile,
  type WatchRunResponse,
} from "../src/index.js";
import { Stack, sampleIdOf, writePng } from "./support.js";

const CAR = "000000000000000000000c01";
const PERSON = "000000000000000000000b01";
const OTHER_CAR = "000000000000000000000c02";
const DATASET = "ts_e2e";

const schema = create(LabelSchemaSchema, {
  fields: [{
    field: "ground_truth", type: "detections",
    classes: { entries: ["car", "person", "truck"].map((name) => ({ kind: { case: "name" as const, value: name } })) },
  }],
});

function box(id: string, label: string, boundingBox: number[]) {
  return { value: { case: "detections" as const, value: { detections: [{ id, label, boundingBox }] } } };
}

async function rejection(p: Promise<unknown>): Promise<LabelportError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof LabelportError, `not a LabelportError: ${String(err)}`);
    return err;
  }
  assert.fail("the call succeeded");
}

describe("LabelportClient against labelport-server and darwin-sim", () => {
  let stack: Stack;
  let client: LabelportClient;
  let dir: string;
  let files: UploadedFile[];
  let run: AnnotationRun;
  const name = runName(DATASET, "run1");

  before(async () => {
    stack = await Stack.start();
    client = new LabelportClient(stack.target, { insecure: true, token: stack.token, timeoutMs: 30_000 });
    dir = mkdtempSync(join(tmpdir(), "labelport-ts-media-"));
  });

  after(async () => {
    client?.close();
    rmSync(dir, { recursive: true, force: true });
    if (stack) assert.equal(await stack.stop(), 0, "labelport-server did not exit 0 on SIGTERM");
  });

  test("uploadFiles sends only what the server lacks", async () => {
    writePng(join(dir, "a.png"), 32, 24, [200, 40, 90]);
    writePng(join(dir, "b.png"), 32, 24, [20, 140, 90]);
    files = await client.uploadFiles([join(dir, "a.png"), join(dir, "b.png")]);
    assert.deepEqual(files.map((f) => f.uploaded), [true, true]);
    assert.match(files[0]!.digest, /^sha256:[0-9a-f]{64}$/);
    const again = await client.uploadFiles([join(dir, "a.png"), join(dir, "b.png")]);
    assert.deepEqual(again.map((f) => f.uploaded), [false, false]);
    assert.deepEqual(await client.findMissingMedia(files.map((f) => f.digest)), []);
  });

  test("createRun from the uploaded media, idempotent on request_id", async () => {
    const samples = [
      newSample("s1", files[0]!.media, { width: 32, height: 24, fields: {
        ground_truth: { value: { case: "detections", value: { detections: [
          { id: CAR, label: "car", boundingBox: [0.125, 0.25, 0.25, 0.5] },
          { id: PERSON, label: "person", boundingBox: [0.5, 0.5, 0.25, 0.25] },
        ] } } },
      } }),
      newSample("s2", files[1]!.media, { width: 32, height: 24, fields: {
        ground_truth: box(OTHER_CAR, "car", [0, 0, 0.5, 0.5]),
      } }),
    ];
    const header = {
      parent: datasetName(DATASET), annoKey: "run1", requestId: "ts-e2e-run1", labelSchema: schema,
      existingFields: existingFields(samples),
    };
    const created = await client.createRun(header, samples);
    assert.equal(created.created, true);
    assert.equal(created.run?.name, name);
    const replay = await client.createRun(header, samples);
    assert.equal(replay.created, false);
    assert.equal(replay.run?.uid, created.run?.uid);
  });

  test("watchRun is an async iterator that ends when the run settles", async () => {
    const events: WatchRunResponse[] = [];
    for await (const ev of client.watchRun(name)) events.push(ev);
    assert.ok(events.length > 0);
    const sequences = events.map((e) => e.sequence);
    assert.deepEqual(sequences, [...sequences].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    run = events.at(-1)!.run!;
    // Enums are typed numbers with names; 64-bit integers are bigints.
    assert.equal(run.state, RunState.ANNOTATING, `state ${RunState[run.state]}: ${run.failureReason}`);
    assert.equal(RunState[run.state], "ANNOTATING");
    assert.equal(run.progress?.samplesTotal, 2n);
    assert.equal(run.progress?.labelsImported, 3n);
    assert.equal(typeof run.revision, "bigint");
  });

  test("getRun and listRuns return the same run; empty lists are arrays", async () => {
    const got = await client.getRun(name);
    assert.equal(got.uid, run.uid);
    assert.equal(got.state, RunState.ANNOTATING);
    assert.deepEqual(got.sampleErrors, []);
    const listed = [];
    for await (const r of client.allRuns({ parent: datasetName(DATASET) })) listed.push(r);
    assert.deepEqual(listed.map((r) => r.name), [name]);
    const none = await client.listRuns({ parent: datasetName("no_such_dataset") });
    assert.deepEqual(none.runs, []);
    assert.equal(none.nextPageToken, "");
    const ids = [];
    for await (const id of client.runSamples(name)) ids.push(id);
    assert.deepEqual(ids, ["s1", "s2"]);
  });

  test("loadAnnotations streams the annotator's changes with stable ids", async () => {
    // As an annotator in "V7": relabel the car of s1, delete its person, add a car to s2.
    const items = await stack.sim.items(run.darwin!.datasetSlug);
    const itemOf = Object.fromEntries(items.map((i) => [sampleIdOf(i), i.id]));
    const byClass = Object.fromEntries((await stack.sim.annotations(itemOf.s1!)).map((a) => [a.class_name, a.id]));
    await stack.sim.control("PATCH", `/_sim/items/${itemOf.s1}/annotations/${byClass.car}`,
      { class_name: "truck", data: { x: 8, y: 4, w: 16, h: 12 } });
    await stack.sim.control("DELETE", `/_sim/items/${itemOf.s1}/annotations/${byClass.person}`);
    await stack.sim.control("POST", `/_sim/items/${itemOf.s2}/annotations`,
      { class_name: "car", type: "bounding_box", data: { x: 20, y: 12, w: 8, h: 8 } });

    const changes = new Map<string, SampleFieldChanges>();
    let summaries = 0;
    for await (const msg of client.loadAnnotations({ name })) {
      if (msg.event.case === "changes") changes.set(msg.event.value.sampleId, msg.event.value);
      if (msg.event.case === "summary") {
        summaries++;
        const field = msg.event.value.fields[0]!;
        assert.equal(field.field, "ground_truth");
        assert.deepEqual([field.added, field.edited, field.deleted], [1n, 1n, 1n]);
      }
    }
    assert.equal(summaries, 1);
    const s1 = changes.get("s1")!;
    assert.deepEqual(s1.editedIds, [CAR]);
    assert.deepEqual(s1.deletedIds, [PERSON]);
    assert.deepEqual(s1.addedIds, []);
    assert.equal(s1.merged?.value.case, "detections");
    const merged = s1.merged!.value.case === "detections" ? s1.merged!.value.value.detections : [];
    assert.deepEqual(merged.map((d) => [d.id, d.label]), [[CAR, "truck"]]);
    const s2 = changes.get("s2")!;
    assert.equal(s2.addedIds.length, 1);
    // A second load gives the new label the same id (derived from its V7 annotation id).
    let s2Ids: string[] = [];
    const summary = await client.load({ name }, { changes: (c) => {
      if (c.sampleId === "s2" && c.downloaded?.value.case === "detections") {
        s2Ids = c.downloaded.value.value.detections.map((d) => d.id);
      }
    } });
    assert.equal(summary.fields.length, 1);
    assert.ok(s2Ids.includes(s2.addedIds[0]!), `second load ids ${s2Ids}`);
  });

  test("errors carry the status code and the decoded google.rpc details", async () => {
    const missing = await rejection(client.getRun(runName(DATASET, "nope")));
    assert.equal(missing.code, Code.NotFound);
    assert.equal(missing.codeName, "NOT_FOUND");
    assert.equal(missing.reason, "RUN_NOT_FOUND");
    assert.equal(missing.domain, "labelport.dev");
    assert.match(missing.requestId, /^[0-9a-f]{32}$/);

    const invalid = await rejection(client.createRun(
      { parent: datasetName(DATASET), annoKey: "not a key!", labelSchema: schema },
      [newSample("x", files[0]!.media)]));
    assert.equal(invalid.code, Code.InvalidArgument);
    assert.notEqual(invalid.reason, "");
    assert.ok(invalid.fieldViolations.some((v) => v.field.includes("anno_key")),
      `no violation names anno_key: ${invalid.describe()}`);
    assert.match(invalid.describe(), /^INVALID_ARGUMENT: .*\n {2}reason: [A-Z_]+/);

    const anonymous = new LabelportClient(stack.target, { insecure: true, token: "" });
    try {
      const denied = await rejection(anonymous.getRun(name));
      assert.equal(denied.code, Code.Unauthenticated);
      assert.ok(!denied.message.includes(stack.token));
    } finally {
      anonymous.close();
    }
  });

  test("the quickstart example runs end to end", async () => {
    const example = join(dirname(fileURLToPath(import.meta.url)), "../examples/quickstart.js");
    const env = { ...process.env, LABELPORT_ADDR: stack.target, LABELPORT_TOKEN: stack.token };
    const { stdout } = await promisify(execFile)(process.execPath,
      [example, "example_ds", "quick", join(dir, "a.png"), join(dir, "b.png")], { env, timeout: 60_000 });
    assert.match(stdout, /^created datasets\/example_ds\/runs\/quick$/m);
    assert.match(stdout, /ANNOTATING 2\/2$/m);
    assert.match(stdout, /^ground_truth: 0 added, 0 edited, 0 deleted$/m);
  });

  test("rename, cleanup and delete", async () => {
    const renamed = await client.renameRun(name, "run2");
    assert.equal(renamed.name, runName(DATASET, "run2"));
    const cleaned = await client.cleanupRun(renamed.name);
    assert.equal(cleaned.run?.state, RunState.CLEANED_UP);
    assert.equal(cleaned.datasetDeleted, true);
    await client.deleteRun(renamed.name);
    assert.deepEqual((await client.listRuns({ parent: datasetName(DATASET) })).runs, []);
  });
});
