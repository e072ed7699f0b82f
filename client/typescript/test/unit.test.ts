// Units that need no server: names, the error conversion (details as the server encodes them
// in grpc-status-details-bin), samples and existing fields.
import assert from "node:assert/strict";
import { test } from "node:test";

import { create } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";

import {
  BadRequestSchema,
  Code,
  ErrorInfoSchema,
  LabelportError,
  MediaType,
  codeName,
  datasetName,
  documentType,
  existingFields,
  newSample,
  parseRunName,
  runName,
  targetUrl,
  urlMedia,
} from "../src/index.js";

test("run names", () => {
  assert.equal(runName("d", "k"), "datasets/d/runs/k");
  assert.equal(datasetName("d"), "datasets/d");
  assert.deepEqual(parseRunName("datasets/d/runs/k"), { dataset: "d", annoKey: "k" });
  assert.deepEqual(parseRunName("d/k"), { dataset: "d", annoKey: "k" });
  assert.throws(() => parseRunName("datasets/d/k"), /'datasets\/d\/k' is not/);
});

test("targets", () => {
  assert.equal(targetUrl("localhost:50051", true), "http://localhost:50051");
  assert.equal(targetUrl("labelport.example:443", false), "https://labelport.example:443");
  assert.equal(targetUrl("https://h:1", true), "https://h:1");
});

test("LabelportError decodes ErrorInfo and BadRequest details", () => {
  const ce = new ConnectError("Dataset has no annotation run key 'nope'", Code.NotFound, undefined, [
    { desc: ErrorInfoSchema, value: create(ErrorInfoSchema, { reason: "RUN_NOT_FOUND", domain: "labelport.dev", metadata: { field: "name" } }) },
    { desc: BadRequestSchema, value: create(BadRequestSchema, { fieldViolations: [{ field: "name", description: "no such run" }] }) },
  ]);
  // Details as they arrive on the wire: type URL and bytes (ConnectError.from keeps them).
  const e = LabelportError.from(ce);
  assert.equal(e.code, Code.NotFound);
  assert.equal(e.codeName, "NOT_FOUND");
  assert.equal(e.rawMessage, "Dataset has no annotation run key 'nope'");
  assert.equal(e.message, "NOT_FOUND: Dataset has no annotation run key 'nope'");
  assert.equal(e.reason, "RUN_NOT_FOUND");
  assert.equal(e.domain, "labelport.dev");
  assert.deepEqual(e.fieldViolations, [{ field: "name", description: "no such run" }]);
  assert.equal(e.describe(),
    "NOT_FOUND: Dataset has no annotation run key 'nope'\n  reason: RUN_NOT_FOUND (field=name)\n  field name: no such run");
  assert.equal(LabelportError.from(e), e);
  assert.equal(LabelportError.from(new Error("boom")).code, Code.Unknown);
  assert.equal(codeName(Code.Canceled), "CANCELLED");
  assert.equal(codeName(Code.Unauthenticated), "UNAUTHENTICATED");
});

test("samples and existing fields", () => {
  const s = newSample("s1", urlMedia("https://example.com/clip.mp4"), {
    fields: { b: { value: { case: "classification", value: { id: "x", label: "cat" } } }, a: undefined },
    frames: { "frames.boxes": [{ frameNumber: 1, value: { value: { case: "detections", value: { detections: [] } } } }] },
  });
  assert.equal(s.mediaType, MediaType.VIDEO);
  assert.deepEqual(s.fields.map((f) => f.field), ["b", "frames.boxes"]);
  assert.equal(documentType(s.fields[0]!.value), "Classification");
  assert.deepEqual(existingFields([s]).map((f) => [f.field, f.documentType]),
    [["b", "Classification"], ["frames.boxes", "Detections"]]);
});
