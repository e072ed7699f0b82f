package labelport

import (
	"context"
	"crypto/rand"
	"fmt"
	"iter"
	"strings"

	"google.golang.org/protobuf/proto"

	labelportv1 "github.com/labelport/labelport/client/go/gen/labelport/v1"
)

// MaxBatchSamples is the largest sample batch of a CreateRun stream.
const MaxBatchSamples = 1000

// MaxBatchBytes closes a CreateRun batch at this many bytes of samples (the server takes
// messages of up to 16 MiB); a single sample larger than this goes alone.
const MaxBatchBytes = 4 << 20

// RunName is the resource name "datasets/{dataset}/runs/{annoKey}".
func RunName(dataset, annoKey string) string {
	return "datasets/" + dataset + "/runs/" + annoKey
}

// DatasetName is the parent name "datasets/{dataset}"; a name already in that form is kept.
func DatasetName(dataset string) string {
	if strings.HasPrefix(dataset, "datasets/") {
		return dataset
	}
	return "datasets/" + dataset
}

// ParseRunName splits "datasets/{dataset}/runs/{annoKey}" (or the shorthand
// "{dataset}/{annoKey}") into its parts.
func ParseRunName(name string) (dataset, annoKey string, err error) {
	parts := strings.Split(name, "/")
	switch {
	case len(parts) == 4 && parts[0] == "datasets" && parts[2] == "runs" && parts[1] != "" && parts[3] != "":
		return parts[1], parts[3], nil
	case len(parts) == 2 && parts[0] != "" && parts[1] != "":
		return parts[0], parts[1], nil
	}
	return "", "", fmt.Errorf("labelport: %q is not a run name (datasets/{dataset}/runs/{anno_key} or {dataset}/{anno_key})", name)
}

// IsSettled reports whether a run is in a state WatchRun ends on: ANNOTATING, FAILED or
// CLEANED_UP.
func IsSettled(state labelportv1.RunState) bool {
	switch state {
	case labelportv1.RunState_RUN_STATE_ANNOTATING, labelportv1.RunState_RUN_STATE_FAILED,
		labelportv1.RunState_RUN_STATE_CLEANED_UP:
		return true
	}
	return false
}

// GetRun returns one run.
func (c *Client) GetRun(ctx context.Context, name string) (*labelportv1.AnnotationRun, error) {
	r, err := c.stub.GetRun(ctx, &labelportv1.GetRunRequest{Name: name})
	return r.GetRun(), err
}

// ListRuns returns one page of runs; req.Parent may be a bare dataset name.
func (c *Client) ListRuns(ctx context.Context, req *labelportv1.ListRunsRequest) (*labelportv1.ListRunsResponse, error) {
	r := cloneListRuns(req)
	r.Parent = DatasetName(r.Parent)
	return c.stub.ListRuns(ctx, r)
}

func cloneListRuns(req *labelportv1.ListRunsRequest) *labelportv1.ListRunsRequest {
	return &labelportv1.ListRunsRequest{
		Parent: req.GetParent(), PageSize: req.GetPageSize(), PageToken: req.GetPageToken(),
		Backend: req.GetBackend(), State: req.GetState(), DatasetSlug: req.GetDatasetSlug(),
	}
}

// pages yields the items of every page fetch returns, starting with the page of firstToken
// ("": the first page) and asking for the next one with the token of the one before until a
// page has no next token. The iteration stops after yielding a non-nil error.
func pages[T any](firstToken string, fetch func(token string) (items []T, next string, err error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		token := firstToken
		for {
			items, next, err := fetch(token)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range items {
				if !yield(item, nil) {
					return
				}
			}
			if next == "" {
				return
			}
			token = next
		}
	}
}

// AllRuns iterates over every run matching req, fetching pages as needed. The iteration
// stops after yielding a non-nil error.
func (c *Client) AllRuns(ctx context.Context, req *labelportv1.ListRunsRequest) iter.Seq2[*labelportv1.AnnotationRun, error] {
	return pages(req.GetPageToken(), func(token string) ([]*labelportv1.AnnotationRun, string, error) {
		r := cloneListRuns(req)
		r.PageToken = token
		page, err := c.ListRuns(ctx, r)
		return page.GetRuns(), page.GetNextPageToken(), err
	})
}

// RenameRun gives a run a new key and returns it under its new name.
func (c *Client) RenameRun(ctx context.Context, name, newAnnoKey string) (*labelportv1.AnnotationRun, error) {
	r, err := c.stub.RenameRun(ctx, &labelportv1.RenameRunRequest{Name: name, NewAnnoKey: newAnnoKey})
	return r.GetRun(), err
}

// DeleteRun deletes the run record (V7 data and merged labels are untouched).
func (c *Client) DeleteRun(ctx context.Context, name string) error {
	_, err := c.stub.DeleteRun(ctx, &labelportv1.DeleteRunRequest{Name: name})
	return err
}

// GetRunStatus returns the V7 workflow status counts of the run's items.
func (c *Client) GetRunStatus(ctx context.Context, name string) (*labelportv1.GetRunStatusResponse, error) {
	return c.stub.GetRunStatus(ctx, &labelportv1.GetRunStatusRequest{Name: name})
}

// CleanupRun removes what the run created in V7.
func (c *Client) CleanupRun(ctx context.Context, name string) (*labelportv1.CleanupRunResponse, error) {
	return c.stub.CleanupRun(ctx, &labelportv1.CleanupRunRequest{Name: name})
}

// ResumeRun moves a FAILED run back to PENDING so its upload resumes.
func (c *Client) ResumeRun(ctx context.Context, name string) (*labelportv1.AnnotationRun, error) {
	r, err := c.stub.ResumeRun(ctx, &labelportv1.ResumeRunRequest{Name: name})
	return r.GetRun(), err
}

// RunSamples iterates over the client sample ids of a run, in upload order.
func (c *Client) RunSamples(ctx context.Context, name string) iter.Seq2[string, error] {
	return pages("", func(token string) ([]string, string, error) {
		page, err := c.stub.ListRunSamples(ctx, &labelportv1.ListRunSamplesRequest{Name: name, PageToken: token})
		return page.GetSampleIds(), page.GetNextPageToken(), err
	})
}

// CreateRun streams header and samples (in batches of at most MaxBatchSamples samples and
// MaxBatchBytes bytes) and returns the
// server's response. A header without request_id gets a fresh UUID, so that the caller can
// retry the same header after a transport failure without creating a second run: read it back
// from the header after a failed call.
func (c *Client) CreateRun(ctx context.Context, header *labelportv1.CreateRunHeader, samples []*labelportv1.Sample) (*labelportv1.CreateRunResponse, error) {
	if header.GetRequestId() == "" {
		header.RequestId = newRequestID()
	}
	header.Parent = DatasetName(header.GetParent())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.stub.CreateRun(ctx)
	if err != nil {
		return nil, err
	}
	if err := stream.Send(&labelportv1.CreateRunRequest{Part: &labelportv1.CreateRunRequest_Header{Header: header}}); err != nil {
		_, rerr := stream.CloseAndRecv() // the real status of a failed Send
		return nil, rerr
	}
	for start := 0; start < len(samples); {
		end, bytes := start, 0
		for end < len(samples) && end-start < MaxBatchSamples {
			size := proto.Size(samples[end])
			if end > start && bytes+size > MaxBatchBytes {
				break
			}
			bytes += size
			end++
		}
		batch := &labelportv1.SampleBatch{Samples: samples[start:end]}
		if err := stream.Send(&labelportv1.CreateRunRequest{Part: &labelportv1.CreateRunRequest_Samples{Samples: batch}}); err != nil {
			_, rerr := stream.CloseAndRecv()
			return nil, rerr
		}
		start = end
	}
	return stream.CloseAndRecv()
}

// newRequestID is a random RFC 4122 version-4 UUID.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
