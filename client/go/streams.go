package labelport

import (
	"context"
	"errors"
	"io"
	"iter"

	"google.golang.org/grpc/codes"

	labelportv1 "github.com/labelport/labelport/client/go/gen/labelport/v1"
)

// maxWatchResumes bounds how often WatchRun re-opens a stream that broke with UNAVAILABLE.
const maxWatchResumes = 5

// WatchRun iterates over the run's events (state and progress) until it settles, starting
// after sequence afterSequence (0: from the current state). A stream broken by an unavailable
// server is re-opened from the last sequence seen, a few times. The iteration ends after the
// settled event, when ctx ends, or after yielding a non-nil error.
//
//	for ev, err := range client.WatchRun(ctx, name, 0) {
//		if err != nil { return err }
//		fmt.Println(ev.GetRun().GetState())
//	}
func (c *Client) WatchRun(ctx context.Context, name string, afterSequence int64) iter.Seq2[*labelportv1.WatchRunResponse, error] {
	return func(yield func(*labelportv1.WatchRunResponse, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		after := afterSequence
		for resumes := 0; ; resumes++ {
			stream, err := c.stub.WatchRun(ctx, &labelportv1.WatchRunRequest{Name: name, AfterSequence: after})
			if err != nil {
				yield(nil, err)
				return
			}
			progressed := false
			for {
				ev, err := stream.Recv()
				if errors.Is(err, io.EOF) {
					return
				}
				if err != nil {
					if Code(err) == codes.Unavailable && resumes < maxWatchResumes && ctx.Err() == nil {
						break // re-open from `after`
					}
					yield(nil, err)
					return
				}
				progressed = true
				after = ev.GetSequence()
				if !yield(ev, nil) {
					return
				}
			}
			if progressed {
				resumes = 0
			}
		}
	}
}

// WaitRun watches the run until it settles and returns it in its settled state
// (ANNOTATING, FAILED or CLEANED_UP). onEvent, when not nil, sees every event first.
func (c *Client) WaitRun(ctx context.Context, name string, onEvent func(*labelportv1.WatchRunResponse)) (*labelportv1.AnnotationRun, error) {
	var last *labelportv1.AnnotationRun
	for ev, err := range c.WatchRun(ctx, name, 0) {
		if err != nil {
			return last, err
		}
		if onEvent != nil {
			onEvent(ev)
		}
		last = ev.GetRun()
		if IsSettled(last.GetState()) {
			return last, nil
		}
	}
	if last != nil && IsSettled(last.GetState()) {
		return last, nil
	}
	// The stream ended without a settled event (a server shutting down): ask once more.
	run, err := c.GetRun(ctx, name)
	if err != nil {
		return last, err
	}
	if !IsSettled(run.GetState()) {
		return run, errors.New("labelport: WatchRun ended before the run " + name + " settled (state " + run.GetState().String() + ")")
	}
	return run, nil
}

// LoadAnnotations iterates over the messages of a load: progress events, one SampleFieldChanges
// per (sample, field[, frame]), then the LoadSummary. The iteration ends after the last
// message or after yielding a non-nil error; stopping early cancels the load.
func (c *Client) LoadAnnotations(ctx context.Context, req *labelportv1.LoadAnnotationsRequest) iter.Seq2[*labelportv1.LoadAnnotationsResponse, error] {
	return func(yield func(*labelportv1.LoadAnnotationsResponse, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stream, err := c.stub.LoadAnnotations(ctx, req)
		if err != nil {
			yield(nil, err)
			return
		}
		for {
			msg, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(msg, nil) {
				return
			}
		}
	}
}

// LoadHandlers receives the messages of Load; nil handlers are skipped.
type LoadHandlers struct {
	// Progress sees every progress event.
	Progress func(*labelportv1.LoadProgress)
	// Changes sees the labels and changes of one (sample, field[, frame]); an error it returns
	// cancels the load and is returned by Load.
	Changes func(*labelportv1.SampleFieldChanges) error
}

// Load runs LoadAnnotations, hands each message to h, and returns the summary. A stream that
// ends without a summary is an error (codes.DataLoss): the load did not complete.
func (c *Client) Load(ctx context.Context, req *labelportv1.LoadAnnotationsRequest, h LoadHandlers) (*labelportv1.LoadSummary, error) {
	for msg, err := range c.LoadAnnotations(ctx, req) {
		if err != nil {
			return nil, err
		}
		switch ev := msg.GetEvent().(type) {
		case *labelportv1.LoadAnnotationsResponse_Progress:
			if h.Progress != nil {
				h.Progress(ev.Progress)
			}
		case *labelportv1.LoadAnnotationsResponse_Changes:
			if h.Changes != nil {
				if err := h.Changes(ev.Changes); err != nil {
					return nil, err
				}
			}
		case *labelportv1.LoadAnnotationsResponse_Summary:
			return ev.Summary, nil
		}
	}
	return nil, errIncompleteLoad
}

var errIncompleteLoad = statusError(codes.DataLoss, "labelport: the LoadAnnotations stream ended without a summary")
