// Media references, samples and the content digests of local files.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { basename, extname } from "node:path";

import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  ExistingFieldSchema,
  MediaReferenceSchema,
  MediaType,
  SampleSchema,
  type ExistingField,
  type FrameFieldValueSchema,
  type MediaReference,
  type Sample,
} from "./gen/labelport/v1/sample_pb.js";
import type { FieldValue, FieldValueSchema } from "./gen/labelport/v1/labels_pb.js";

/** The chunk size of UploadMedia streams (the server takes at most 1 MiB per chunk). */
export const CHUNK_BYTES = 1 << 20;

/** "sha256:<64 hex>" and the size of a local file, read as a stream. */
export async function fileDigest(path: string): Promise<{ digest: string; sizeBytes: bigint }> {
  const hash = createHash("sha256");
  let size = 0n;
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES })) {
    hash.update(chunk as Buffer);
    size += BigInt((chunk as Buffer).length);
  }
  return { digest: `sha256:${hash.digest("hex")}`, sizeBytes: size };
}

/** "sha256:<64 hex>" of bytes in memory. */
export function bytesDigest(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** Media sent earlier with UploadMedia, by content digest (fileName is shown in V7). */
export function digestMedia(contentDigest: string, fileName: string): MediaReference {
  return create(MediaReferenceSchema, { source: { case: "contentDigest", value: contentDigest }, fileName });
}

/** An http(s) URL the server fetches. */
export function urlMedia(url: string): MediaReference {
  return create(MediaReferenceSchema, { source: { case: "url", value: url } });
}

/** A path on the server, beneath a media root the operator allowed for the caller's tenant. */
export function pathMedia(serverPath: string): MediaReference {
  return create(MediaReferenceSchema, { source: { case: "path", value: serverPath } });
}

/** An object of a V7 external storage, registered in place (no bytes move). */
export function storageMedia(storageSlug: string, storageKey: string): MediaReference {
  return create(MediaReferenceSchema, {
    source: { case: "storage", value: { storageSlug, storageKey } },
  });
}

const VIDEO_EXTENSIONS = new Set([".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv"]);

/** MEDIA_TYPE_VIDEO for video file extensions, else MEDIA_TYPE_IMAGE. */
export function mediaTypeOf(fileName: string): MediaType {
  return VIDEO_EXTENSIONS.has(extname(fileName).toLowerCase()) ? MediaType.VIDEO : MediaType.IMAGE;
}

/**
 * A sample with its existing labels (field name → value; undefined values are skipped),
 * fields in name order. Frame-level fields ("frames.<name>") go in `frames`.
 */
export function newSample(
  id: string,
  media: MediaReference,
  options: {
    mediaType?: MediaType;
    fields?: Record<string, MessageInitShape<typeof FieldValueSchema> | undefined>;
    frames?: Record<string, MessageInitShape<typeof FrameFieldValueSchema>[]>;
    width?: number;
    height?: number;
  } = {},
): Sample {
  const mediaType = options.mediaType ??
    mediaTypeOf(media.fileName || (media.source.case === "url" || media.source.case === "path" ? media.source.value : ""));
  const fields = Object.keys(options.fields ?? {}).sort()
    .filter((name) => options.fields?.[name] !== undefined)
    .map((name) => ({ field: name, value: options.fields?.[name] }));
  const frames = Object.keys(options.frames ?? {}).sort()
    .map((name) => ({ field: name, frames: options.frames?.[name] ?? [] }));
  return create(SampleSchema, {
    id, media, mediaType, width: options.width ?? 0, height: options.height ?? 0,
    fields: [...fields, ...frames],
  });
}

/** The FiftyOne document class of a field value ("Detections", ...), "" when unset. */
export function documentType(value: FieldValue | undefined): string {
  const kind = value?.value.case;
  return kind ? kind.charAt(0).toUpperCase() + kind.slice(1) : "";
}

/**
 * The `existing_fields` of a CreateRun header, derived from the labels the samples carry:
 * every field with a value (on a sample or a frame), with the document type of its first
 * value. Fields without labels are new unless the caller lists them.
 */
export function existingFields(samples: Sample[]): ExistingField[] {
  const types = new Map<string, string>();
  const note = (field: string, v: FieldValue | undefined) => {
    const t = documentType(v);
    if (t && !types.has(field)) types.set(field, t);
  };
  for (const s of samples) {
    for (const f of s.fields) {
      note(f.field, f.value);
      for (const fr of f.frames) note(f.field, fr.value);
    }
  }
  return [...types].map(([field, documentType]) => create(ExistingFieldSchema, { field, documentType }));
}

/** The last path component, for MediaReference.file_name. */
export function fileNameOf(path: string): string {
  return basename(path);
}
