// Package labelport is the Go client of the labelport annotation-run service.
//
// The generated API lives in gen/labelport/v1 (package labelportv1); this package is a thin,
// hand-written layer over it:
//
//   - Dial connects with TLS (default), a private CA, or insecure; sends a bearer token with
//     every call; gives unary and client-streaming calls a default deadline; and retries the
//     idempotent reads (GetRun, ListRuns, ListRunSamples, GetRunStatus, FindMissingMedia) on
//     UNAVAILABLE through a gRPC service config.
//   - Errors stay gRPC statuses (status.FromError works); Code, ErrorReason, ErrorInfo,
//     FieldViolations and Describe read the google.rpc ErrorInfo and BadRequest details the
//     server attaches.
//   - Streams are iterators (Go 1.23 range-over-func): WatchRun, LoadAnnotations, AllRuns and
//     RunSamples yield (value, error) pairs; WaitRun and Load consume them for the common case.
//   - Media helpers build MediaReferences from server paths, URLs, external-storage keys and
//     local files; UploadFiles uploads local files content-addressed, only those the server
//     does not hold yet.
//
// The command labelportctl (cmd/labelportctl) is built on this package.
package labelport
