package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	labelportv1 "github.com/labelport/labelport/client/go/gen/labelport/v1"
)

func sampleRuns() []*labelportv1.AnnotationRun {
	ts := timestamppb.New(time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC))
	return []*labelportv1.AnnotationRun{
		{Name: "datasets/d/runs/first", AnnoKey: "first", Backend: "darwin", State: labelportv1.RunState_RUN_STATE_ANNOTATING,
			Darwin:     &labelportv1.DarwinOptions{DatasetSlug: "voxel51-abc"},
			Progress:   &labelportv1.RunProgress{SamplesTotal: 12, SamplesCompleted: 12, LabelsTotal: 30, LabelsImported: 30},
			UpdateTime: ts, CreateTime: ts},
		{Name: "datasets/d/runs/second_run", AnnoKey: "second_run", State: labelportv1.RunState_RUN_STATE_FAILED,
			Progress:      &labelportv1.RunProgress{SamplesTotal: 3, SamplesCompleted: 1, SamplesFailed: 2},
			FailureReason: "2 samples failed",
			SampleErrors:  []*labelportv1.SampleError{{SampleId: "s2", Stage: "upload", Message: "HTTP 404 for https://x/b.png"}}},
	}
}

// checkWritten calls write with a buffer and compares what it wrote with want.
func checkWritten(t *testing.T, what string, write func(w io.Writer) error, want string) {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if b.String() != want {
		t.Errorf("%s:\n%s\nwant:\n%s", what, b.String(), want)
	}
}

func TestRunsTable(t *testing.T) {
	checkWritten(t, "table", func(w io.Writer) error { return writeRunsTable(w, sampleRuns()) }, ""+
		"KEY         STATE       SAMPLES  FAILED  SLUG         UPDATED\n"+
		"first       ANNOTATING  12/12    0       voxel51-abc  2026-11-25T09:30:00Z\n"+
		"second_run  FAILED      1/3      2       -            -\n")
}

func TestRunDetails(t *testing.T) {
	var b bytes.Buffer
	if err := writeRun(&b, sampleRuns()[1]); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Name:          datasets/d/runs/second_run\n",
		"State:         FAILED\n",
		"Failure:       2 samples failed\n",
		"Samples:       3 total, 0 registered, 0 uploaded, 0 processed, 1 completed, 2 failed\n",
		"Sample errors:\nSAMPLE  STAGE   MESSAGE\ns2      upload  HTTP 404 for https://x/b.png\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

func TestStatusAndSummaryTables(t *testing.T) {
	checkWritten(t, "status", func(w io.Writer) error {
		return writeStatus(w, &labelportv1.GetRunStatusResponse{TotalItems: 3, Counts: []*labelportv1.StatusCount{
			{Status: "complete", ItemCount: 1}, {Status: "new", ItemCount: 2}}})
	}, "STATUS    ITEMS\ncomplete  1\nnew       2\ntotal     3\n")
	checkWritten(t, "summary", func(w io.Writer) error {
		return writeLoadSummary(w, &labelportv1.LoadSummary{
			Fields:  []*labelportv1.FieldLoadSummary{{Field: "ground_truth", Added: 1, Edited: 2, Deleted: 1, Unchanged: 4}},
			Skipped: []*labelportv1.SkippedEntry{{ItemId: "it-1", Reason: "item is archived"}},
		})
	}, "FIELD         ADDED  EDITED  DELETED  UNCHANGED  IGNORED  UNEXPECTED\n"+
		"ground_truth  1      2       1        4          0        0\n\nSkipped:\n"+
		"ITEM  ANNOTATION  REASON\nit-1  -           item is archived\n")
}

func TestJSONOutputs(t *testing.T) {
	var b bytes.Buffer
	if err := writeJSON(&b, &labelportv1.ListRunsResponse{Runs: sampleRuns()}); err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Runs []struct {
			AnnoKey  string `json:"anno_key"`
			State    string `json:"state"`
			Progress struct {
				SamplesTotal string `json:"samples_total"`
			} `json:"progress"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &parsed); err != nil {
		t.Fatal(err)
	}
	if len(parsed.Runs) != 2 || parsed.Runs[0].State != "RUN_STATE_ANNOTATING" || parsed.Runs[0].Progress.SamplesTotal != "12" {
		t.Errorf("json %s", b.String())
	}
	b.Reset()
	ch := &labelportv1.SampleFieldChanges{SampleId: "s1", Field: "gt", EditedIds: []string{"a"}}
	if err := writeJSONLine(&b, ch); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != `{"sample_id":"s1","field":"gt","edited_ids":["a"]}`+"\n" {
		t.Errorf("json line %q", got)
	}
}

func TestJSONArrayElementsAreWhatGetPrints(t *testing.T) {
	var b bytes.Buffer
	if err := writeJSONArray(&b, []*labelportv1.AnnotationRun{}); err != nil || b.String() != "[]\n" {
		t.Errorf("empty list: %q, %v", b.String(), err)
	}
	b.Reset()
	runs := sampleRuns()
	if err := writeJSONArray(&b, runs); err != nil {
		t.Fatal(err)
	}
	var elements []json.RawMessage
	if err := json.Unmarshal(b.Bytes(), &elements); err != nil || len(elements) != len(runs) {
		t.Fatalf("not an array of %d: %v\n%s", len(runs), err, b.String())
	}
	for i, r := range runs {
		var one bytes.Buffer
		if err := writeJSON(&one, r); err != nil {
			t.Fatal(err)
		}
		var got, want bytes.Buffer
		_ = json.Compact(&got, elements[i])
		_ = json.Compact(&want, one.Bytes())
		if got.String() != want.String() {
			t.Errorf("element %d:\n%s\nwant (runs get -o json):\n%s", i, got.String(), want.String())
		}
	}
}

func TestGlobalFlagsBeforeTheCommand(t *testing.T) {
	leading, rest, err := splitLeadingGlobals(
		[]string{"--addr", "h:1", "-o=json", "--tls", "--", "runs", "list", "d", "--state", "failed"},
		func(string) string { return "" })
	if err != nil || strings.Join(leading, " ") != "--addr h:1 -o=json --tls" ||
		strings.Join(rest, " ") != "runs list d --state failed" {
		t.Errorf("leading %q rest %q err %v", leading, rest, err)
	}
	// The flags are applied: -o is checked, --addr and --timeout are used to dial.
	if code, _, stderr := runCLI("-o", "yaml", "runs", "get", "d/k"); code != exitUsage ||
		!strings.Contains(stderr, `-o must be table or json, not "yaml"`) {
		t.Errorf("-o yaml before the command: exit %d, %s", code, stderr)
	}
	code, _, stderr := runCLI("--addr", "127.0.0.1:1", "--timeout=1s", "runs", "get", "d/k")
	if code != exitServer || !strings.Contains(stderr, "cannot reach labelport-server at 127.0.0.1:1") {
		t.Errorf("--addr before the command: exit %d, %s", code, stderr)
	}
	code, _, stderr = runCLI("runs", "--addr", "127.0.0.1:1", "get", "--timeout", "1s", "d/k")
	if code != exitServer || !strings.Contains(stderr, "cannot reach labelport-server at 127.0.0.1:1") {
		t.Errorf("a flag between runs and its subcommand: exit %d, %s", code, stderr)
	}
	// Command flags follow the command.
	if code, _, stderr := runCLI("--state", "failed", "runs", "list", "d"); code != exitUsage ||
		!strings.Contains(stderr, "global flags only before the command") {
		t.Errorf("a command flag before the command: exit %d, %s", code, stderr)
	}
	if code, stdout, _ := runCLI("--addr", "h:1", "--help"); code != exitOK || !strings.Contains(stdout, "Global flags") {
		t.Errorf("--help after a global flag: exit %d", code)
	}
	if code, _, stderr := runCLI("--addr", "h:1"); code != exitUsage || !strings.Contains(stderr, "no command") {
		t.Errorf("no command: exit %d, %s", code, stderr)
	}
}

func TestParseState(t *testing.T) {
	if s, err := parseState("annotating"); err != nil || s != labelportv1.RunState_RUN_STATE_ANNOTATING {
		t.Error(s, err)
	}
	if s, err := parseState("RUN_STATE_CLEANED_UP"); err != nil || s != labelportv1.RunState_RUN_STATE_CLEANED_UP {
		t.Error(s, err)
	}
	for _, bad := range []string{"done", "unspecified"} {
		if _, err := parseState(bad); err == nil {
			t.Errorf("parseState(%q) accepted", bad)
		}
	}
}

func TestParseInterleaved(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	o := fs.String("o", "table", "")
	n := fs.Int("n", 0, "")
	pos, err := parseInterleaved(fs, []string{"a", "-o", "json", "b", "--n=3", "--", "-c", "d"})
	if err != nil || *o != "json" || *n != 3 || strings.Join(pos, " ") != "a b -c d" {
		t.Errorf("positional %q, o=%s n=%d err=%v", pos, *o, *n, err)
	}
}

// runCLI runs a command line in-process with an empty environment.
func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut, func(string) string { return "" })
	return code, out.String(), errOut.String()
}

func TestUsageErrorsExitOne(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"runs"},
		{"runs", "list"},
		{"runs", "get", "not-a-run-name"},
		{"runs", "rename", "d/k"},
		{"runs", "get", "d/k", "-o", "yaml"},
		{"runs", "get", "d/k", "--no-such-flag"},
		{"annotate", "--dataset", "d"},
		{"annotate", "--dataset", "d", "--key", "k", "--manifest", "m.jsonl"},
		{"load", "d/k", "--dest-fields", "nokey"},
	} {
		if code, _, stderr := runCLI(args...); code != exitUsage || (len(args) > 0 && stderr == "") {
			t.Errorf("%q: exit %d, stderr %q", args, code, stderr)
		}
	}
	if code, stdout, _ := runCLI("--help"); code != exitOK || !strings.Contains(stdout, "Exit codes") {
		t.Errorf("--help: %d", code)
	}
}

func TestMissingManifestIsAnInputError(t *testing.T) {
	code, _, stderr := runCLI("annotate", "--dataset", "d", "--key", "k", "--manifest", "/nonexistent/m.jsonl", "--label-field", "gt")
	if code != exitUsage || !strings.Contains(stderr, "/nonexistent/m.jsonl") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestServerErrorsExitTwo(t *testing.T) {
	var b bytes.Buffer
	err := status.Error(codes.NotFound, "run datasets/d/runs/k not found")
	if code := report(err, "runs get", &b); code != exitServer || !strings.Contains(b.String(), "NOT_FOUND: run datasets/d/runs/k not found") {
		t.Errorf("exit %d: %s", code, b.String())
	}
	b.Reset()
	if code := report(runFailed{name: "datasets/d/runs/k", reason: "boom"}, "annotate", &b); code != exitRunFailed {
		t.Errorf("run failed: exit %d", code)
	}
}
