// LabelportClient: a connection to labelport-server over gRPC (HTTP/2, TLS or plaintext),
// with deadlines, bearer tokens, typed errors, async iterators over the server streams and
// helpers for the client streams.
import { randomUUID } from "node:crypto";
import { createReadStream, readFileSync } from "node:fs";
import type { SecureClientSessionOptions } from "node:http2";
import { setTimeout as sleep } from "node:timers/promises";

import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, createClient, type CallOptions, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";

import { type AnnotationRun, RunState } from "./gen/labelport/v1/annotation_run_pb.js";
import {
  AnnotationService,
  CreateRunHeaderSchema,
  ListRunsRequestSchema,
  LoadAnnotationsRequestSchema,
  type CreateRunRequestSchema,
  type CreateRunResponse,
  type CleanupRunResponse,
  type GetRunStatusResponse,
  type ListRunsResponse,
  type ListRunSamplesResponse,
  type LoadAnnotationsResponse,
  type LoadSummary,
  type SampleFieldChanges,
  type LoadProgress,
  type UploadMediaRequestSchema,
  type UploadMediaResponse,
  type WatchRunResponse,
} from "./gen/labelport/v1/annotation_service_pb.js";
import { SampleSchema, type MediaReference, type Sample } from "./gen/labelport/v1/sample_pb.js";
import { LabelportError } from "./errors.js";
import { CHUNK_BYTES, digestMedia, fileDigest, fileNameOf } from "./media.js";

/** The deadline of unary and client-streaming calls that set none (server streams get none). */
export const DEFAULT_TIMEOUT_MS = 60_000;
/** The largest message sent or accepted (the server's default --max_message_mb). */
export const MAX_MESSAGE_BYTES = 64 << 20;
/** Samples per CreateRun batch (the server's limit). */
export const SAMPLES_PER_BATCH = 1000;

const READ_RETRIES = 5;
const WATCH_RESUMES = 5;

/** How to connect. */
export interface ClientOptions {
  /**
   * Plaintext HTTP/2 (h2c), for a loopback development server or behind a mesh that adds
   * TLS. Default false: TLS with the system roots (or `ca`).
   */
  insecure?: boolean;
  /** PEM CA certificates to trust instead of the system roots (a path or the PEM itself). */
  ca?: string | Buffer;
  /** PEM client certificate and key for mTLS (`--auth=mtls` servers); paths or PEM. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Bearer token sent as `authorization: Bearer ...`; default $LABELPORT_TOKEN. */
  token?: string;
  /** Deadline of unary and client-streaming calls without their own (default 60 s). */
  timeoutMs?: number;
  /** Extra interceptors (run after the token one). */
  interceptors?: Interceptor[];
}

/** Per-call options: an AbortSignal, a deadline, extra headers (e.g. `x-request-id`). */
export type CallOpts = Pick<CallOptions, "signal" | "timeoutMs" | "headers">;

/** A local file after UploadFiles: its digest, and whether this call sent its bytes. */
export interface UploadedFile {
  path: string;
  digest: string;
  sizeBytes: bigint;
  uploaded: boolean;
  /** The MediaReference naming the uploaded content, with the file's name. */
  media: MediaReference;
}

/** Callbacks of LabelportClient.load. */
export interface LoadHandlers {
  progress?: (p: LoadProgress) => void | Promise<void>;
  changes?: (c: SampleFieldChanges) => void | Promise<void>;
}

/** True for ANNOTATING, FAILED and CLEANED_UP: WatchRun ends there. */
export function isSettled(state: RunState): boolean {
  return state === RunState.ANNOTATING || state === RunState.FAILED || state === RunState.CLEANED_UP;
}

function pem(value: string | Buffer | undefined): string | Buffer | undefined {
  if (value === undefined || Buffer.isBuffer(value) || value.includes("-----BEGIN")) return value;
  return readFileSync(value);
}

/** The URL of a "host:port" target (a URL is taken as is). */
export function targetUrl(target: string, insecure: boolean): string {
  if (/^https?:\/\//.test(target)) return target;
  return `${insecure ? "http" : "https"}://${target}`;
}

/**
 * A connection to labelport-server. Methods take and return the generated message types of
 * `labelport.v1` (init objects are accepted where a message goes in) and throw
 * `LabelportError`. Connecting is lazy: the first call opens the HTTP/2 connection.
 */
export class LabelportClient {
  /** The generated Connect client, for anything the wrappers do not cover. */
  readonly raw: Client<typeof AnnotationService>;
  private readonly sessions: Http2SessionManager;
  private readonly timeoutMs: number;

  constructor(target: string, options: ClientOptions = {}) {
    const insecure = options.insecure ?? false;
    const url = targetUrl(target, insecure);
    if (insecure && url.startsWith("https:")) {
      throw new TypeError(`insecure is set but target ${target} is https`);
    }
    const tls: SecureClientSessionOptions = {};
    if (options.ca !== undefined) tls.ca = pem(options.ca);
    if ((options.cert === undefined) !== (options.key === undefined)) {
      throw new TypeError("cert and key go together");
    }
    if (options.cert !== undefined) {
      tls.cert = pem(options.cert);
      tls.key = pem(options.key);
    }
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // Our own session manager, so close() can end the connection.
    this.sessions = new Http2SessionManager(url, { pingIntervalMs: 30_000 }, tls);
    const interceptors: Interceptor[] = [];
    const token = options.token ?? process.env.LABELPORT_TOKEN ?? "";
    if (token) {
      interceptors.push((next) => (req) => {
        req.header.set("authorization", `Bearer ${token}`);
        return next(req);
      });
    }
    interceptors.push(...(options.interceptors ?? []));
    const transport = createGrpcTransport({
      baseUrl: url,
      sessionManager: this.sessions,
      interceptors,
      readMaxBytes: MAX_MESSAGE_BYTES,
      writeMaxBytes: MAX_MESSAGE_BYTES,
    });
    this.raw = createClient(AnnotationService, transport);
  }

  /** Closes the connection; calls in flight fail. */
  close(): void {
    this.sessions.abort();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private unary(opts: CallOpts | undefined): CallOpts {
    return { ...opts, timeoutMs: opts?.timeoutMs ?? this.timeoutMs };
  }

  /** Runs a call, converting errors to LabelportError. */
  private async call<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw LabelportError.from(err);
    }
  }

  /** Runs an idempotent read, retried on UNAVAILABLE (a restarting or draining server). */
  private async read<T>(f: () => Promise<T>, opts: CallOpts | undefined): Promise<T> {
    for (let attempt = 1, backoff = 200; ; attempt++, backoff = Math.min(backoff * 2, 5000)) {
      try {
        return await f();
      } catch (err) {
        const e = LabelportError.from(err);
        if (e.code !== Code.Unavailable || attempt >= READ_RETRIES || opts?.signal?.aborted) throw e;
        await sleep(backoff * (0.5 + Math.random() / 2), undefined, { signal: opts?.signal });
      }
    }
  }

  // ---- media -------------------------------------------------------------------------

  /** The digests the server does not hold yet, in request order. */
  async findMissingMedia(contentDigests: string[], opts?: CallOpts): Promise<string[]> {
    const res = await this.read(
      () => this.raw.findMissingMedia({ contentDigests }, this.unary(opts)), opts);
    return res.missingDigests;
  }

  /**
   * Sends content with UploadMedia (client stream: the header, then chunks of at most 1 MiB).
   * `content` is bytes or an async iterable of byte chunks (any sizes; re-chunked).
   */
  async uploadMedia(
    contentDigest: string,
    sizeBytes: bigint,
    content: Uint8Array | AsyncIterable<Uint8Array>,
    opts?: CallOpts,
  ): Promise<UploadMediaResponse> {
    async function* requests(): AsyncGenerator<MessageInitShape<typeof UploadMediaRequestSchema>> {
      yield { part: { case: "header", value: { contentDigest, sizeBytes } } };
      const source = content instanceof Uint8Array ? [content] : content;
      for await (const piece of source) {
        for (let at = 0; at < piece.length; at += CHUNK_BYTES) {
          yield { part: { case: "chunk", value: piece.subarray(at, at + CHUNK_BYTES) } };
        }
      }
    }
    return this.call(() => this.raw.uploadMedia(requests(), this.unary(opts)));
  }

  /**
   * Makes local files available as media: hashes each (sha256), asks FindMissingMedia and
   * uploads only what the server lacks. Returns one entry per path, in order.
   */
  async uploadFiles(paths: string[], opts?: CallOpts): Promise<UploadedFile[]> {
    const files: UploadedFile[] = [];
    for (const path of paths) {
      const { digest, sizeBytes } = await fileDigest(path);
      files.push({ path, digest, sizeBytes, uploaded: false, media: digestMedia(digest, fileNameOf(path)) });
    }
    const missing = new Set(await this.findMissingMedia([...new Set(files.map((f) => f.digest))], opts));
    for (const f of files) {
      if (!missing.has(f.digest)) continue;
      missing.delete(f.digest); // the same content twice is sent once
      await this.uploadMedia(f.digest, f.sizeBytes, createReadStream(f.path, { highWaterMark: CHUNK_BYTES }), opts);
      f.uploaded = true;
    }
    return files;
  }

  // ---- runs --------------------------------------------------------------------------

  /**
   * Creates a run: the header, then the samples in batches of 1,000 (CreateRun is a client
   * stream). A `requestId` is generated when the header has none, so a retry after a lost
   * response returns the same run (`created` is then false).
   */
  async createRun(
    header: MessageInitShape<typeof CreateRunHeaderSchema>,
    samples: (Sample | MessageInitShape<typeof SampleSchema>)[],
    opts?: CallOpts,
  ): Promise<CreateRunResponse> {
    const h = create(CreateRunHeaderSchema, header);
    if (!h.requestId) h.requestId = randomUUID();
    async function* requests(): AsyncGenerator<MessageInitShape<typeof CreateRunRequestSchema>> {
      yield { part: { case: "header", value: h } };
      for (let at = 0; at < samples.length; at += SAMPLES_PER_BATCH) {
        yield { part: { case: "samples", value: { samples: samples.slice(at, at + SAMPLES_PER_BATCH) } } };
      }
    }
    return this.call(() => this.raw.createRun(requests(), this.unary(opts)));
  }

  /** One run. */
  async getRun(name: string, opts?: CallOpts): Promise<AnnotationRun> {
    const res = await this.read(() => this.raw.getRun({ name }, this.unary(opts)), opts);
    return res.run!;
  }

  /** One page of a dataset's runs. */
  async listRuns(req: MessageInitShape<typeof ListRunsRequestSchema>, opts?: CallOpts): Promise<ListRunsResponse> {
    return this.read(() => this.raw.listRuns(req, this.unary(opts)), opts);
  }

  /** Every run of the request's dataset, following page tokens. */
  async *allRuns(req: MessageInitShape<typeof ListRunsRequestSchema>, opts?: CallOpts): AsyncGenerator<AnnotationRun> {
    const r = create(ListRunsRequestSchema, req);
    do {
      const page = await this.listRuns(r, opts);
      yield* page.runs;
      r.pageToken = page.nextPageToken;
    } while (r.pageToken);
  }

  /** Gives a run a new key; returns it under its new name. */
  async renameRun(name: string, newAnnoKey: string, opts?: CallOpts): Promise<AnnotationRun> {
    const res = await this.call(() => this.raw.renameRun({ name, newAnnoKey }, this.unary(opts)));
    return res.run!;
  }

  /** Deletes the run record (V7 data is untouched). */
  async deleteRun(name: string, opts?: CallOpts): Promise<void> {
    await this.call(() => this.raw.deleteRun({ name }, this.unary(opts)));
  }

  /** V7 workflow status counts of the run's items. */
  async getRunStatus(name: string, opts?: CallOpts): Promise<GetRunStatusResponse> {
    return this.read(() => this.raw.getRunStatus({ name }, this.unary(opts)), opts);
  }

  /** Removes what the run created in V7. */
  async cleanupRun(name: string, opts?: CallOpts): Promise<CleanupRunResponse> {
    return this.call(() => this.raw.cleanupRun({ name }, this.unary(opts)));
  }

  /** Moves a FAILED run back to PENDING; its upload resumes. */
  async resumeRun(name: string, opts?: CallOpts): Promise<AnnotationRun> {
    const res = await this.call(() => this.raw.resumeRun({ name }, this.unary(opts)));
    return res.run!;
  }

  /** One page of a run's sample ids. */
  async listRunSamples(name: string, pageToken = "", pageSize = 0, opts?: CallOpts): Promise<ListRunSamplesResponse> {
    return this.read(() => this.raw.listRunSamples({ name, pageToken, pageSize }, this.unary(opts)), opts);
  }

  /** Every sample id of a run, in upload order. */
  async *runSamples(name: string, opts?: CallOpts): AsyncGenerator<string> {
    let token = "";
    do {
      const page = await this.listRunSamples(name, token, 0, opts);
      yield* page.sampleIds;
      token = page.nextPageToken;
    } while (token);
  }

  // ---- server streams ----------------------------------------------------------------

  /**
   * The run's events until it settles (the iterator then ends). When the server becomes
   * unavailable the stream is re-opened after the last sequence seen. Stop early with
   * `break` or `opts.signal`.
   */
  async *watchRun(name: string, afterSequence = 0n, opts?: CallOpts): AsyncGenerator<WatchRunResponse> {
    let after = afterSequence;
    for (let resumes = 0; ; resumes++) {
      let progressed = false;
      try {
        for await (const ev of this.raw.watchRun({ name, afterSequence: after }, opts)) {
          progressed = true;
          after = ev.sequence;
          yield ev;
        }
        return;
      } catch (err) {
        const e = LabelportError.from(err);
        if (e.code !== Code.Unavailable || resumes >= WATCH_RESUMES || opts?.signal?.aborted) throw e;
      }
      if (progressed) resumes = 0;
    }
  }

  /** Watches the run until it settles and returns it; onEvent sees every event. */
  async waitRun(name: string, onEvent?: (ev: WatchRunResponse) => void, opts?: CallOpts): Promise<AnnotationRun> {
    let last: AnnotationRun | undefined;
    for await (const ev of this.watchRun(name, 0n, opts)) {
      onEvent?.(ev);
      last = ev.run;
    }
    return last ?? this.getRun(name, opts);
  }

  /**
   * LoadAnnotations: progress events, then one `changes` per (sample, field[, frame]), then
   * the summary. No default deadline (a load lasts as long as V7's export).
   */
  async *loadAnnotations(
    req: MessageInitShape<typeof LoadAnnotationsRequestSchema>,
    opts?: CallOpts,
  ): AsyncGenerator<LoadAnnotationsResponse> {
    try {
      yield* this.raw.loadAnnotations(req, opts);
    } catch (err) {
      throw LabelportError.from(err);
    }
  }

  /** Runs a load, passing events to the handlers, and returns its summary. */
  async load(
    req: MessageInitShape<typeof LoadAnnotationsRequestSchema>,
    handlers: LoadHandlers = {},
    opts?: CallOpts,
  ): Promise<LoadSummary> {
    for await (const msg of this.loadAnnotations(req, opts)) {
      switch (msg.event.case) {
        case "progress":
          await handlers.progress?.(msg.event.value);
          break;
        case "changes":
          await handlers.changes?.(msg.event.value);
          break;
        case "summary":
          return msg.event.value;
      }
    }
    throw new LabelportError(Code.DataLoss, `LoadAnnotations of ${String(req.name)} ended without a summary`);
  }
}

/** Shorthand for `new LabelportClient(target, options)`. */
export function connect(target: string, options?: ClientOptions): LabelportClient {
  return new LabelportClient(target, options);
}
