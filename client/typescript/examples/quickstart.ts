// A whole annotation run from TypeScript: upload local images, create a run with a label
// schema, follow it until it is ready in V7, then (after annotating) load the labels back.
//
//   npm run build
//   LABELPORT_ADDR=localhost:50051 node dist/examples/quickstart.js my_dataset my_run a.png b.png
//   # with a token and TLS: LABELPORT_TOKEN=... LABELPORT_ADDR=labelport.example:443 LABELPORT_TLS=1
import { argv, env, exit } from "node:process";

import {
  LabelportClient,
  LabelportError,
  RunState,
  datasetName,
  existingFields,
  newSample,
} from "../src/index.js";

async function main(): Promise<number> {
  const [dataset, annoKey, ...paths] = argv.slice(2);
  if (!dataset || !annoKey || paths.length === 0) {
    console.error("usage: quickstart.js DATASET ANNO_KEY IMAGE...");
    return 1;
  }
  const client = new LabelportClient(env.LABELPORT_ADDR ?? "localhost:50051", {
    insecure: env.LABELPORT_TLS !== "1", // token: $LABELPORT_TOKEN by default
  });
  try {
    // Content-addressed: only bytes the server lacks are sent.
    const files = await client.uploadFiles(paths);
    const samples = files.map((f, i) => newSample(`sample-${i + 1}`, f.media));
    const { run, created } = await client.createRun({
      parent: datasetName(dataset),
      annoKey,
      labelSchema: {
        fields: [{
          field: "ground_truth",
          type: "detections",
          classes: { entries: [{ kind: { case: "name", value: "car" } }, { kind: { case: "name", value: "person" } }] },
        }],
      },
      existingFields: existingFields(samples),
    }, samples);
    console.log(`${created ? "created" : "found"} ${run!.name}`);

    // WatchRun is an async iterator; it ends when the run settles.
    for await (const ev of client.watchRun(run!.name)) {
      const p = ev.run!.progress!;
      console.log(`#${ev.sequence} ${RunState[ev.run!.state]} ${p.samplesCompleted}/${p.samplesTotal}`);
    }
    const settled = await client.getRun(run!.name);
    if (settled.state === RunState.FAILED) {
      console.error(`run failed: ${settled.failureReason}`);
      return 3;
    }
    console.log(`annotate in V7: ${settled.editorUrl}`);

    // Later: the labels as they are in V7, with stable ids and the merge applied.
    const summary = await client.load({ name: run!.name }, {
      changes: (c) => console.log(`${c.sampleId} ${c.field}: +${c.addedIds.length} ~${c.editedIds.length} -${c.deletedIds.length}`),
    });
    for (const f of summary.fields) console.log(`${f.field}: ${f.added} added, ${f.edited} edited, ${f.deleted} deleted`);
    return 0;
  } catch (err) {
    // Every call throws LabelportError: code, reason, field violations.
    console.error(err instanceof LabelportError ? err.describe() : err);
    return 2;
  } finally {
    client.close();
  }
}

exit(await main());
