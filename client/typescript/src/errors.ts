// Errors of labelport calls: one typed error with the gRPC status code and the decoded
// google.rpc details the server sends in `grpc-status-details-bin`.
import { Code, ConnectError } from "@connectrpc/connect";
import {
  BadRequestSchema,
  ErrorInfoSchema,
  type BadRequest_FieldViolation,
  type ErrorInfo,
} from "./gen/google/rpc/error_details_pb.js";

/** The ErrorInfo domain of labelport's errors. */
export const ERROR_DOMAIN = "labelport.dev";

/** Canonical gRPC code names ("NOT_FOUND"), indexed by the numeric code. */
const CODE_NAMES = [
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
  "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
  "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
] as const;

/** The canonical upper-case name of a gRPC status code, e.g. "INVALID_ARGUMENT". */
export function codeName(code: Code | number): string {
  return CODE_NAMES[code] ?? `CODE_${code}`;
}

/** A field the request got wrong (google.rpc.BadRequest.FieldViolation). */
export interface FieldViolation {
  /** The field path, e.g. "header.anno_key" or "samples[3].media.path". */
  field: string;
  /** The rule it broke. */
  description: string;
}

/**
 * A failed labelport call. `code` is the gRPC status code (the `Code` enum of
 * @connectrpc/connect, numerically the gRPC codes), `rawMessage` the server's message,
 * `reason`/`metadata` the google.rpc.ErrorInfo (domain "labelport.dev") and
 * `fieldViolations` the google.rpc.BadRequest details. `cause` is the ConnectError.
 */
export class LabelportError extends Error {
  override readonly name = "LabelportError";
  readonly code: Code;
  readonly rawMessage: string;
  readonly errorInfo: ErrorInfo | undefined;
  readonly fieldViolations: FieldViolation[];
  /** Response metadata (headers and trailers), e.g. `x-request-id`. */
  readonly metadata: Headers;

  constructor(code: Code, rawMessage: string, opts: {
    errorInfo?: ErrorInfo;
    fieldViolations?: FieldViolation[];
    metadata?: Headers;
    cause?: unknown;
  } = {}) {
    super(`${codeName(code)}: ${rawMessage}`, { cause: opts.cause });
    this.code = code;
    this.rawMessage = rawMessage;
    this.errorInfo = opts.errorInfo;
    this.fieldViolations = opts.fieldViolations ?? [];
    this.metadata = opts.metadata ?? new Headers();
  }

  /** "NOT_FOUND" and so on. */
  get codeName(): string {
    return codeName(this.code);
  }

  /** The ErrorInfo reason (e.g. "RUN_NOT_FOUND"), or "" when the server sent none. */
  get reason(): string {
    return this.errorInfo?.reason ?? "";
  }

  /** The ErrorInfo domain ("labelport.dev"), or "". */
  get domain(): string {
    return this.errorInfo?.domain ?? "";
  }

  /** The server's request id of the failed call (`x-request-id`), or "". */
  get requestId(): string {
    return this.metadata.get("x-request-id") ?? "";
  }

  /** One block for people: "CODE: message", the reason and metadata, one line per field. */
  describe(): string {
    let out = this.message;
    if (this.reason) {
      const meta = Object.entries(this.errorInfo?.metadata ?? {})
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}=${v}`);
      out += `\n  reason: ${this.reason}${meta.length ? ` (${meta.join(", ")})` : ""}`;
    }
    for (const v of this.fieldViolations) {
      out += `\n  field ${v.field}: ${v.description}`;
    }
    return out;
  }

  /**
   * The LabelportError for any error a call threw: a ConnectError is converted (its details
   * decoded), a LabelportError returned as is, anything else becomes UNKNOWN.
   */
  static from(err: unknown): LabelportError {
    if (err instanceof LabelportError) return err;
    const ce = ConnectError.from(err);
    const info = ce.findDetails(ErrorInfoSchema)[0];
    const violations: FieldViolation[] = ce
      .findDetails(BadRequestSchema)
      .flatMap((b) => b.fieldViolations)
      .map((v: BadRequest_FieldViolation) => ({ field: v.field, description: v.description }));
    return new LabelportError(ce.code, ce.rawMessage, {
      errorInfo: info,
      fieldViolations: violations,
      metadata: ce.metadata,
      cause: err,
    });
  }
}

/** The gRPC status code of err (UNKNOWN for errors that are not statuses). */
export function errorCode(err: unknown): Code {
  return LabelportError.from(err).code;
}
