package labelport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	labelportv1 "github.com/labelport/labelport/client/go/gen/labelport/v1"
)

// fakeServer records what the client sends and answers from scripts.
type fakeServer struct {
	labelportv1.UnimplementedAnnotationServiceServer
	mu            sync.Mutex
	authHeaders   []string
	deadlines     []time.Duration // remaining time seen by GetRun
	getRunFails   int             // GetRun answers UNAVAILABLE this many times
	getRunCalls   int
	held          map[string][]byte // content-addressed store
	uploads       []string
	batches       []int
	header        *labelportv1.CreateRunHeader
	watchBreakAt  int64 // WatchRun breaks with UNAVAILABLE after this sequence (once)
	watchRequests []int64
	loadMessages  []*labelportv1.LoadAnnotationsResponse
}

// receiveAll calls each with every message recv returns until the client closes its side of
// the stream; it returns the first error of recv or each.
func receiveAll[M any](recv func() (M, error), each func(M) error) error {
	for {
		m, err := recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := each(m); err != nil {
			return err
		}
	}
}

func (f *fakeServer) note(ctx context.Context) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.authHeaders = append(f.authHeaders, md.Get("authorization")...)
}

func (f *fakeServer) GetRun(ctx context.Context, req *labelportv1.GetRunRequest) (*labelportv1.GetRunResponse, error) {
	f.note(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.getRunCalls++
	if d, ok := ctx.Deadline(); ok {
		f.deadlines = append(f.deadlines, time.Until(d))
	} else {
		f.deadlines = append(f.deadlines, 0)
	}
	if f.getRunFails > 0 {
		f.getRunFails--
		return nil, status.Error(codes.Unavailable, "draining")
	}
	return &labelportv1.GetRunResponse{Run: &labelportv1.AnnotationRun{Name: req.GetName(), State: labelportv1.RunState_RUN_STATE_ANNOTATING}}, nil
}

func (f *fakeServer) DeleteRun(ctx context.Context, req *labelportv1.DeleteRunRequest) (*labelportv1.DeleteRunResponse, error) {
	f.note(ctx)
	return nil, status.Error(codes.Unavailable, "draining")
}

func (f *fakeServer) FindMissingMedia(ctx context.Context, req *labelportv1.FindMissingMediaRequest) (*labelportv1.FindMissingMediaResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var missing []string
	for _, d := range req.GetContentDigests() {
		if _, ok := f.held[d]; !ok {
			missing = append(missing, d)
		}
	}
	return &labelportv1.FindMissingMediaResponse{MissingDigests: missing}, nil
}

func (f *fakeServer) UploadMedia(stream labelportv1.AnnotationService_UploadMediaServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	h := first.GetHeader()
	var data []byte
	err = receiveAll(stream.Recv, func(m *labelportv1.UploadMediaRequest) error {
		if len(m.GetChunk()) > ChunkBytes {
			return status.Error(codes.InvalidArgument, "chunk too large")
		}
		data = append(data, m.GetChunk()...)
		return nil
	})
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	if "sha256:"+hex.EncodeToString(sum[:]) != h.GetContentDigest() || int64(len(data)) != h.GetSizeBytes() {
		return status.Error(codes.InvalidArgument, "digest or size mismatch")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.held[h.GetContentDigest()] = data
	f.uploads = append(f.uploads, h.GetContentDigest())
	return stream.SendAndClose(&labelportv1.UploadMediaResponse{ContentDigest: h.GetContentDigest(), SizeBytes: h.GetSizeBytes()})
}

func (f *fakeServer) CreateRun(stream labelportv1.AnnotationService_CreateRunServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.header = first.GetHeader()
	f.mu.Unlock()
	total := 0
	err = receiveAll(stream.Recv, func(m *labelportv1.CreateRunRequest) error {
		f.mu.Lock()
		f.batches = append(f.batches, len(m.GetSamples().GetSamples()))
		f.mu.Unlock()
		total += len(m.GetSamples().GetSamples())
		return nil
	})
	if err != nil {
		return err
	}
	return stream.SendAndClose(&labelportv1.CreateRunResponse{Created: true, Run: &labelportv1.AnnotationRun{
		Name:     first.GetHeader().GetParent() + "/runs/" + first.GetHeader().GetAnnoKey(),
		Progress: &labelportv1.RunProgress{SamplesTotal: int64(total)},
	}})
}

func (f *fakeServer) WatchRun(req *labelportv1.WatchRunRequest, stream labelportv1.AnnotationService_WatchRunServer) error {
	f.mu.Lock()
	f.watchRequests = append(f.watchRequests, req.GetAfterSequence())
	breakAt := f.watchBreakAt
	f.watchBreakAt = 0
	f.mu.Unlock()
	states := []labelportv1.RunState{
		labelportv1.RunState_RUN_STATE_PENDING, labelportv1.RunState_RUN_STATE_UPLOADING,
		labelportv1.RunState_RUN_STATE_UPLOADING, labelportv1.RunState_RUN_STATE_ANNOTATING,
	}
	for i, s := range states {
		seq := int64(i + 1)
		if seq <= req.GetAfterSequence() {
			continue
		}
		if err := stream.Send(&labelportv1.WatchRunResponse{Sequence: seq, Run: &labelportv1.AnnotationRun{Name: req.GetName(), State: s}}); err != nil {
			return err
		}
		if seq == breakAt {
			return status.Error(codes.Unavailable, "server restarting")
		}
	}
	return nil
}

func (f *fakeServer) LoadAnnotations(req *labelportv1.LoadAnnotationsRequest, stream labelportv1.AnnotationService_LoadAnnotationsServer) error {
	for _, m := range f.loadMessages {
		if err := stream.Send(m); err != nil {
			return err
		}
	}
	return nil
}

// startFake serves f over an in-memory listener and dials it with opts.
func startFake(t *testing.T, f *fakeServer, opts ...Option) *Client {
	t.Helper()
	if f.held == nil {
		f.held = map[string][]byte{}
	}
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	labelportv1.RegisterAnnotationServiceServer(srv, f)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	dialer := func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	all := append([]Option{WithInsecure(), WithDialOptions(grpc.WithContextDialer(dialer))}, opts...)
	c, err := Dial(ctx, "passthrough:///bufnet", all...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestBearerTokenAndDefaultDeadline(t *testing.T) {
	f := &fakeServer{}
	c := startFake(t, f, WithBearerToken("s3cret"), WithTimeout(7*time.Second))
	ctx := context.Background()
	if _, err := c.GetRun(ctx, "datasets/d/runs/k"); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if _, err := c.GetRun(short, "datasets/d/runs/k"); err != nil {
		t.Fatal(err)
	}
	if len(f.authHeaders) != 2 || f.authHeaders[0] != "Bearer s3cret" {
		t.Errorf("authorization headers %q", f.authHeaders)
	}
	if d := f.deadlines[0]; d < 6*time.Second || d > 7*time.Second {
		t.Errorf("default deadline: %v left, want about 7s", d)
	}
	if d := f.deadlines[1]; d > time.Second {
		t.Errorf("the caller's deadline must win: %v left", d)
	}
}

func TestReadsAreRetriedWritesAreNot(t *testing.T) {
	f := &fakeServer{getRunFails: 2}
	c := startFake(t, f)
	run, err := c.GetRun(context.Background(), "datasets/d/runs/k")
	if err != nil {
		t.Fatalf("GetRun after 2 UNAVAILABLE answers: %v", err)
	}
	if run.GetState() != labelportv1.RunState_RUN_STATE_ANNOTATING || f.getRunCalls != 3 {
		t.Errorf("state %v after %d calls", run.GetState(), f.getRunCalls)
	}
	err = c.DeleteRun(context.Background(), "datasets/d/runs/k")
	if Code(err) != codes.Unavailable {
		t.Errorf("DeleteRun: %v", err)
	}
	if len(f.authHeaders) != 0 {
		t.Errorf("no token configured, got %q", f.authHeaders)
	}
}

func TestUploadFilesSendsOnlyMissingContent(t *testing.T) {
	f := &fakeServer{}
	c := startFake(t, f)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	big := make([]byte, 2*ChunkBytes+17) // three chunks
	for i := range big {
		big[i] = byte(i * 7)
	}
	a := write("a.png", []byte("image a"))
	b := write("b.png", big)
	a2 := write("copy-of-a.png", []byte("image a"))
	known := write("known.png", []byte("already there"))
	kd, _, _ := FileDigest(known)
	f.held[kd] = []byte("already there")

	got, err := c.UploadFiles(context.Background(), a, b, a2, known)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.uploads) != 2 {
		t.Fatalf("uploads %v, want a and b once each", f.uploads)
	}
	wantUploaded := []bool{true, true, false, false}
	for i, u := range got {
		if u.Uploaded != wantUploaded[i] {
			t.Errorf("%s: uploaded %v", u.Path, u.Uploaded)
		}
	}
	if got[0].Digest != got[2].Digest || string(f.held[got[1].Digest]) != string(big) || got[1].Size != int64(len(big)) {
		t.Error("digests or stored bytes differ")
	}
	m := got[1].Media()
	if m.GetContentDigest() != got[1].Digest || m.GetFileName() != "b.png" {
		t.Errorf("Media() = %v", m)
	}
	again, err := c.UploadFiles(context.Background(), a, b)
	if err != nil || again[0].Uploaded || again[1].Uploaded || len(f.uploads) != 2 {
		t.Errorf("second upload sent bytes again: %v %v", again, err)
	}
}

func TestCreateRunClosesBatchesAtMaxBatchBytes(t *testing.T) {
	f := &fakeServer{}
	c := startFake(t, f)
	samples := make([]*labelportv1.Sample, 10)
	for i := range samples {
		// ~1 MiB per sample (a long file name stands in for many labels).
		media := URLMedia("https://example.com/x.png")
		media.FileName = strings.Repeat("f", 1<<20)
		samples[i] = NewSample("s", media, labelportv1.MediaType_MEDIA_TYPE_IMAGE, nil)
	}
	if _, err := c.CreateRun(context.Background(), &labelportv1.CreateRunHeader{Parent: "ds", AnnoKey: "k"}, samples); err != nil {
		t.Fatal(err)
	}
	if got := f.batches; len(got) != 4 || got[0] != 3 || got[1] != 3 || got[2] != 3 || got[3] != 1 {
		t.Errorf("batches %v", got)
	}
}

func TestCreateRunBatchesAndSetsRequestID(t *testing.T) {
	f := &fakeServer{}
	c := startFake(t, f)
	samples := make([]*labelportv1.Sample, 2500)
	for i := range samples {
		samples[i] = NewSample("s", URLMedia("https://example.com/x.png"), labelportv1.MediaType_MEDIA_TYPE_IMAGE, nil)
	}
	header := &labelportv1.CreateRunHeader{Parent: "ds", AnnoKey: "k"}
	resp, err := c.CreateRun(context.Background(), header, samples)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.batches; len(got) != 3 || got[0] != 1000 || got[1] != 1000 || got[2] != 500 {
		t.Errorf("batches %v", got)
	}
	if f.header.GetParent() != "datasets/ds" || len(f.header.GetRequestId()) != 36 || header.GetRequestId() != f.header.GetRequestId() {
		t.Errorf("header %v", f.header)
	}
	if resp.GetRun().GetName() != "datasets/ds/runs/k" || resp.GetRun().GetProgress().GetSamplesTotal() != 2500 {
		t.Errorf("response %v", resp)
	}
}

func TestWatchRunResumesAfterUnavailable(t *testing.T) {
	f := &fakeServer{watchBreakAt: 2}
	c := startFake(t, f)
	var seqs []int64
	for ev, err := range c.WatchRun(context.Background(), "datasets/d/runs/k", 0) {
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, ev.GetSequence())
	}
	if len(seqs) != 4 || seqs[0] != 1 || seqs[3] != 4 {
		t.Errorf("sequences %v, want 1..4 without repeats", seqs)
	}
	if len(f.watchRequests) != 2 || f.watchRequests[1] != 2 {
		t.Errorf("watch requests after %v, want [0 2]", f.watchRequests)
	}
	run, err := c.WaitRun(context.Background(), "datasets/d/runs/k", nil)
	if err != nil || run.GetState() != labelportv1.RunState_RUN_STATE_ANNOTATING {
		t.Errorf("WaitRun: %v %v", run, err)
	}
}

func TestLoadHandsOutChangesAndSummary(t *testing.T) {
	f := &fakeServer{loadMessages: []*labelportv1.LoadAnnotationsResponse{
		{Event: &labelportv1.LoadAnnotationsResponse_Progress{Progress: &labelportv1.LoadProgress{Stage: labelportv1.LoadStage_LOAD_STAGE_EXPORT_REQUESTED}}},
		{Event: &labelportv1.LoadAnnotationsResponse_Changes{Changes: &labelportv1.SampleFieldChanges{SampleId: "s1", Field: "gt", EditedIds: []string{"a"}}}},
		{Event: &labelportv1.LoadAnnotationsResponse_Changes{Changes: &labelportv1.SampleFieldChanges{SampleId: "s2", Field: "gt"}}},
		{Event: &labelportv1.LoadAnnotationsResponse_Summary{Summary: &labelportv1.LoadSummary{Fields: []*labelportv1.FieldLoadSummary{{Field: "gt", Edited: 1}}}}},
	}}
	c := startFake(t, f)
	var progress int
	var samples []string
	summary, err := c.Load(context.Background(), &labelportv1.LoadAnnotationsRequest{Name: "datasets/d/runs/k"}, LoadHandlers{
		Progress: func(*labelportv1.LoadProgress) { progress++ },
		Changes: func(ch *labelportv1.SampleFieldChanges) error {
			samples = append(samples, ch.GetSampleId())
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if progress != 1 || len(samples) != 2 || summary.GetFields()[0].GetEdited() != 1 {
		t.Errorf("progress %d samples %v summary %v", progress, samples, summary)
	}

	f.loadMessages = f.loadMessages[:2] // no summary: the load did not complete
	if _, err := c.Load(context.Background(), &labelportv1.LoadAnnotationsRequest{Name: "x"}, LoadHandlers{}); Code(err) != codes.DataLoss {
		t.Errorf("a load without summary: %v", err)
	}
}

func TestDialFailsFastOnUnreachableServer(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := Dial(ctx, addr, WithInsecure()); err == nil {
		t.Fatal("Dial to a closed port succeeded")
	}
	c, err := Dial(ctx, addr, WithInsecure(), WithoutWaitForReady())
	if err != nil {
		t.Fatalf("lazy Dial: %v", err)
	}
	c.Close()
}

func TestDialRejectsBadCAFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(p, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Dial(context.Background(), "127.0.0.1:1", WithCAFile(p)); err == nil {
		t.Error("a CA file without certificates was accepted")
	}
}
