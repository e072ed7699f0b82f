package gateway

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	labelportv1 "github.com/labelport/labelport/client/go/gen/labelport/v1"
	// The details of labelport's errors (ErrorInfo, BadRequest) must be known to render them as
	// JSON.
	_ "google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	labelportv1gw "github.com/labelport/labelport/gateway/gen/labelport/v1"
	"github.com/labelport/labelport/gateway/openapi"
)

// Options of NewHandler.
type Options struct {
	// MaxBodyBytes bounds the body of one request (0: unbounded). A larger body fails the call
	// with INVALID_ARGUMENT (HTTP 400).
	MaxBodyBytes int64
	// RequireAuthorization refuses API calls without an Authorization header with
	// UNAUTHENTICATED (HTTP 401) before they reach the server: for a gateway reachable from
	// other hosts, so that a server running without authentication is not exposed through it.
	// /healthz, /readyz and /openapi.json stay open.
	RequireAuthorization bool
}

// Paths served besides the API routes.
const (
	// HealthzPath answers 200 while the gateway runs (liveness).
	HealthzPath = "/healthz"
	// ReadyzPath answers 200 when the server's readiness (grpc.health.v1, service "") is
	// SERVING, else 503 (readiness).
	ReadyzPath = "/readyz"
	// OpenAPIPath serves the OpenAPI document of the API.
	OpenAPIPath = "/openapi.json"
)

// NewHandler returns the HTTP handler of the API, forwarding to the labelport-server behind conn.
func NewHandler(ctx context.Context, conn *grpc.ClientConn, opts Options) (http.Handler, error) {
	mux := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.JSONPb{
			// Canonical proto3 JSON, as grpcurl and Connect print it: fields at their default
			// value are left out.
			MarshalOptions: protojson.MarshalOptions{},
			// A misspelt field is an error, not silently ignored.
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}),
		runtime.WithIncomingHeaderMatcher(incomingHeader),
		runtime.WithOutgoingHeaderMatcher(outgoingHeader),
		runtime.WithHealthEndpointAt(healthpb.NewHealthClient(conn), ReadyzPath),
	)
	if err := labelportv1gw.RegisterAnnotationServiceHandlerClient(
		ctx, mux, labelportv1.NewAnnotationServiceClient(conn)); err != nil {
		return nil, fmt.Errorf("registering the API routes: %w", err)
	}
	if err := mux.HandlePath(http.MethodGet, HealthzPath,
		func(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"status":"SERVING"}` + "\n"))
		}); err != nil {
		return nil, err
	}
	if err := mux.HandlePath(http.MethodGet, OpenAPIPath,
		func(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(openapi.Document)
		}); err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if opts.RequireAuthorization && strings.HasPrefix(r.URL.Path, "/v1/") &&
			r.Header.Get("Authorization") == "" {
			_, marshaler := runtime.MarshalerForRequest(mux, r)
			runtime.HTTPError(r.Context(), mux, marshaler, w, r, status.Error(codes.Unauthenticated,
				"this gateway requires an Authorization header (Bearer <token>)"))
			return
		}
		if opts.MaxBodyBytes > 0 && r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, opts.MaxBodyBytes)
		}
		mux.ServeHTTP(w, r)
	}), nil
}

// incomingHeader forwards X-Request-Id (the id in the server's log lines) besides what
// grpc-gateway forwards itself (Authorization, and the permanent HTTP headers under the
// "grpcgateway-" prefix).
func incomingHeader(key string) (string, bool) {
	if strings.EqualFold(key, "X-Request-Id") {
		return "x-request-id", true
	}
	return runtime.DefaultHeaderMatcher(key)
}

// outgoingHeader returns the server's x-request-id as X-Request-Id and other response
// metadata under grpc-gateway's Grpc-Metadata- prefix, but not gRPC's own transport headers
// (content-type, grpc-*), which say nothing about the HTTP response.
func outgoingHeader(key string) (string, bool) {
	switch {
	case key == "x-request-id":
		return "X-Request-Id", true
	case key == "content-type" || strings.HasPrefix(key, "grpc-"):
		return "", false
	}
	return runtime.MetadataHeaderPrefix + key, true
}
