// Package gateway serves labelport's API as HTTP/JSON: the google.api.http routes of
// proto/labelport/v1 (grpc-gateway v2 handlers generated into gen/labelport/v1), forwarded to a
// labelport-server over gRPC.
//
// JSON is proto3 JSON (lowerCamelCase names, 64-bit integers as strings, enums by name; unknown
// fields are refused). Client-streaming RPCs (UploadMedia, CreateRun) read their messages as a
// sequence of JSON objects from the request body (newline-delimited JSON); server-streaming RPCs
// (WatchRun, LoadAnnotations) answer with newline-delimited JSON, one {"result": ...} object per
// message and, when the stream fails, a last {"error": ...}. Errors are a google.rpc.Status in
// JSON ({"code", "message", "details"}) with the HTTP status of the gRPC code; the details keep
// the server's google.rpc.ErrorInfo and BadRequest.
//
// Headers: Authorization is forwarded as the "authorization" metadata (bearer tokens) and
// X-Request-Id as "x-request-id"; the server's x-request-id comes back as X-Request-Id, other
// response metadata (but gRPC's own content-type and grpc-*) as Grpc-Metadata-<key>.
package gateway
