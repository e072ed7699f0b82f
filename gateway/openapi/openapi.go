// Package openapi holds the OpenAPI (Swagger 2.0) document of labelport's HTTP/JSON API,
// generated from proto/labelport/v1 by protoc-gen-openapiv2 (.ci/gen-stubs).
package openapi

import _ "embed"

// Document is labelport.swagger.json: every HTTP/JSON route of the gateway, its request and
// response schemas, and the google.rpc.Status body of errors.
//
//go:embed labelport.swagger.json
var Document []byte
