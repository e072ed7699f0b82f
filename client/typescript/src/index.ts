// @labelport/client: the TypeScript client of labelport (gRPC, labelport.v1).
export * from "./client.js";
export * from "./errors.js";
export * from "./media.js";
export * from "./names.js";
export * from "./gen/labelport/v1/annotation_run_pb.js";
export * from "./gen/labelport/v1/annotation_service_pb.js";
export * from "./gen/labelport/v1/label_schema_pb.js";
export * from "./gen/labelport/v1/labels_pb.js";
export * from "./gen/labelport/v1/sample_pb.js";
export { BadRequestSchema, ErrorInfoSchema, type BadRequest, type ErrorInfo } from "./gen/google/rpc/error_details_pb.js";
export { create, fromJson, toJson, toJsonString, fromJsonString, clone, equals } from "@bufbuild/protobuf";
export { Code } from "@connectrpc/connect";
