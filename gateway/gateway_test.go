package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	labelportv1 "github.com/labelport/labelport/client/go/gen/labelport/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/labelport/labelport/gateway"
)

// fakeServer answers the few RPCs the tests call, the way labelport-server does.
type fakeServer struct {
	labelportv1.UnimplementedAnnotationServiceServer
	mu       sync.Mutex
	received []*labelportv1.CreateRunRequest
	auth     []string
}

func (f *fakeServer) GetRun(ctx context.Context, req *labelportv1.GetRunRequest) (*labelportv1.GetRunResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	f.auth = md.Get("authorization")
	f.mu.Unlock()
	_ = grpc.SetHeader(ctx, metadata.Pairs("x-request-id", strings.Join(md.Get("x-request-id"), "")))
	if req.GetName() == "datasets/d/runs/ok" {
		return &labelportv1.GetRunResponse{Run: &labelportv1.AnnotationRun{Name: req.GetName(), Revision: 7}}, nil
	}
	st, _ := status.New(codes.InvalidArgument, "Invalid run name 'x'").WithDetails(
		&errdetails.ErrorInfo{Reason: "INVALID_RESOURCE_NAME", Domain: "labelport.dev",
			Metadata: map[string]string{"field": "name"}},
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
			{Field: "name", Description: "Invalid run name 'x'"}}})
	return nil, st.Err()
}

func (f *fakeServer) CreateRun(stream grpc.ClientStreamingServer[labelportv1.CreateRunRequest, labelportv1.CreateRunResponse]) error {
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		f.mu.Lock()
		f.received = append(f.received, msg)
		f.mu.Unlock()
	}
	return stream.SendAndClose(&labelportv1.CreateRunResponse{
		Run: &labelportv1.AnnotationRun{Name: "datasets/d/runs/k"}, Created: true})
}

func (f *fakeServer) WatchRun(req *labelportv1.WatchRunRequest, stream grpc.ServerStreamingServer[labelportv1.WatchRunResponse]) error {
	for seq := req.GetAfterSequence() + 1; seq <= 2; seq++ {
		if err := stream.Send(&labelportv1.WatchRunResponse{Sequence: seq}); err != nil {
			return err
		}
	}
	return status.Error(codes.Unavailable, "draining")
}

func (f *fakeServer) GetRunStatus(_ context.Context, req *labelportv1.GetRunStatusRequest) (*labelportv1.GetRunStatusResponse, error) {
	return &labelportv1.GetRunStatusResponse{TotalItems: 3}, nil
}

type env struct {
	fake *fakeServer
	http *httptest.Server
	hs   *health.Server
}

func start(t *testing.T, opts gateway.Options) *env {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	fake := &fakeServer{}
	hs := health.NewServer()
	labelportv1.RegisterAnnotationServiceServer(srv, fake)
	healthpb.RegisterHealthServer(srv, hs)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	handler, err := gateway.NewHandler(context.Background(), conn, opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(handler)
	t.Cleanup(ts.Close)
	return &env{fake: fake, http: ts, hs: hs}
}

func do(t *testing.T, method, url, body string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

func TestGetRunAndRequestID(t *testing.T) {
	e := start(t, gateway.Options{})
	resp, body := do(t, "GET", e.http.URL+"/v1/datasets/d/runs/ok", "", map[string]string{"X-Request-Id": "req-42"})
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var got struct {
		Run struct {
			Name     string `json:"name"`
			Revision string `json:"revision"`
		} `json:"run"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Run.Name != "datasets/d/runs/ok" || got.Run.Revision != "7" {
		t.Errorf("run = %+v (int64 travels as a JSON string)", got.Run)
	}
	if id := resp.Header.Get("X-Request-Id"); id != "req-42" {
		t.Errorf("X-Request-Id = %q, want the one sent", id)
	}
	if ct := resp.Header.Get("Grpc-Metadata-Content-Type"); ct != "" {
		t.Errorf("gRPC's content-type leaked into the HTTP response: %q", ct)
	}
}

func TestErrorCarriesDetails(t *testing.T) {
	e := start(t, gateway.Options{})
	resp, body := do(t, "GET", e.http.URL+"/v1/datasets/d/runs/bad", "", nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %s", resp.StatusCode, body)
	}
	var st struct {
		Code    int               `json:"code"`
		Message string            `json:"message"`
		Details []json.RawMessage `json:"details"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatal(err)
	}
	if st.Code != int(codes.InvalidArgument) || st.Message != "Invalid run name 'x'" || len(st.Details) != 2 {
		t.Fatalf("status body = %s", body)
	}
	var info struct {
		Type   string `json:"@type"`
		Reason string `json:"reason"`
		Domain string `json:"domain"`
	}
	if err := json.Unmarshal(st.Details[0], &info); err != nil {
		t.Fatal(err)
	}
	if info.Type != "type.googleapis.com/google.rpc.ErrorInfo" || info.Reason != "INVALID_RESOURCE_NAME" || info.Domain != "labelport.dev" {
		t.Errorf("ErrorInfo = %s", st.Details[0])
	}
	if !strings.Contains(string(st.Details[1]), `"field":"name"`) {
		t.Errorf("BadRequest = %s", st.Details[1])
	}
}

func TestClientStreamFromNDJSON(t *testing.T) {
	e := start(t, gateway.Options{})
	body := `{"header": {"parent": "datasets/d", "annoKey": "k"}}
{"samples": {"samples": [{"id": "s1", "mediaType": "MEDIA_TYPE_IMAGE"}]}}
{"samples": {"samples": [{"id": "s2", "mediaType": "MEDIA_TYPE_IMAGE"}]}}
`
	resp, data := do(t, "POST", e.http.URL+"/v1/runs:create", body, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(data), `"created":true`) {
		t.Fatalf("status %d: %s", resp.StatusCode, data)
	}
	e.fake.mu.Lock()
	defer e.fake.mu.Unlock()
	if len(e.fake.received) != 3 || e.fake.received[0].GetHeader().GetAnnoKey() != "k" ||
		e.fake.received[2].GetSamples().GetSamples()[0].GetId() != "s2" {
		t.Errorf("server received %v, want the header then two batches", e.fake.received)
	}
}

// GET .../runs/{run} must not swallow the custom verbs of the same name.
func TestCustomVerbsBeatGetRun(t *testing.T) {
	e := start(t, gateway.Options{})
	resp, data := do(t, "GET", e.http.URL+"/v1/datasets/d/runs/k:status", "", nil)
	if resp.StatusCode != 200 || strings.TrimSpace(string(data)) != `{"totalItems":"3"}` {
		t.Errorf("GetRunStatus: status %d: %s", resp.StatusCode, data)
	}
}

func TestUnknownFieldIsRefused(t *testing.T) {
	e := start(t, gateway.Options{})
	resp, data := do(t, "POST", e.http.URL+"/v1/runs:create", `{"header": {"annoKee": "k"}}`, nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(data), "annoKee") {
		t.Errorf("status %d: %s", resp.StatusCode, data)
	}
}

func TestServerStreamAsNDJSON(t *testing.T) {
	e := start(t, gateway.Options{})
	resp, data := do(t, "GET", e.http.URL+"/v1/datasets/d/runs/k:watch?afterSequence=0", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, data)
	}
	var lines []map[string]json.RawMessage
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		var line map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, line)
	}
	if len(lines) != 3 || string(lines[0]["result"]) != `{"sequence":"1"}` ||
		string(lines[1]["result"]) != `{"sequence":"2"}` || lines[2]["error"] == nil {
		t.Errorf("stream = %s", data)
	}
}

func TestRequireAuthorization(t *testing.T) {
	e := start(t, gateway.Options{RequireAuthorization: true})
	resp, data := do(t, "GET", e.http.URL+"/v1/datasets/d/runs/ok", "", nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(data), "Authorization") {
		t.Errorf("without a token: status %d: %s", resp.StatusCode, data)
	}
	resp, data = do(t, "GET", e.http.URL+"/v1/datasets/d/runs/ok", "", map[string]string{"Authorization": "Bearer t0k"})
	if resp.StatusCode != 200 {
		t.Fatalf("with a token: status %d: %s", resp.StatusCode, data)
	}
	e.fake.mu.Lock()
	defer e.fake.mu.Unlock()
	if len(e.fake.auth) != 1 || e.fake.auth[0] != "Bearer t0k" {
		t.Errorf("server saw authorization %v", e.fake.auth)
	}
	if resp, _ := do(t, "GET", e.http.URL+gateway.HealthzPath, "", nil); resp.StatusCode != 200 {
		t.Errorf("%s needs no token, got %d", gateway.HealthzPath, resp.StatusCode)
	}
}

func TestBodyLimit(t *testing.T) {
	e := start(t, gateway.Options{MaxBodyBytes: 64})
	resp, data := do(t, "POST", e.http.URL+"/v1/runs:create", `{"header": {"parent": "datasets/d", "annoKey": "`+strings.Repeat("k", 100)+`"}}`, nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(data), "too large") {
		t.Errorf("status %d: %s", resp.StatusCode, data)
	}
}

func TestHealthAndOpenAPI(t *testing.T) {
	e := start(t, gateway.Options{})
	if resp, data := do(t, "GET", e.http.URL+gateway.ReadyzPath, "", nil); resp.StatusCode != 200 {
		t.Errorf("readyz while SERVING: %d %s", resp.StatusCode, data)
	}
	e.hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	if resp, data := do(t, "GET", e.http.URL+gateway.ReadyzPath, "", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readyz while NOT_SERVING: %d %s", resp.StatusCode, data)
	}
	resp, data := do(t, "GET", e.http.URL+gateway.OpenAPIPath, "", nil)
	var doc struct {
		Swagger string                     `json:"swagger"`
		Paths   map[string]json.RawMessage `json:"paths"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(data, &doc) != nil || doc.Swagger != "2.0" {
		t.Fatalf("openapi: %d %.200s", resp.StatusCode, data)
	}
	if _, ok := doc.Paths["/v1/runs:create"]; !ok {
		t.Errorf("openapi paths lack /v1/runs:create: %v", doc.Paths)
	}
}
