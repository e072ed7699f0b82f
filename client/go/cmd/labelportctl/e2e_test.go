package main

import (
	"bufio"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	labelport "github.com/labelport/labelport/client/go"
	labelportv1 "github.com/labelport/labelport/client/go/gen/labelport/v1"
	"github.com/labelport/labelport/client/go/internal/testenv"
)

const (
	imgW, imgH = 32, 24
	carID      = "000000000000000000000c01"
	personID   = "000000000000000000000b01"
	otherCarID = "000000000000000000000c02"
)

func writePNG(t *testing.T, path string, c color.RGBA) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, imgW, imgH))
	for y := range imgH {
		for x := range imgW {
			img.Set(x, y, c)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

// e2e runs labelportctl in-process against the server.
type e2e struct {
	t    *testing.T
	addr string
}

func (e e2e) ctl(args ...string) (stdout, stderr string) {
	e.t.Helper()
	code, out, errOut := e.ctlCode(args...)
	if code != exitOK {
		e.t.Fatalf("labelportctl %q: exit %d\nstdout: %s\nstderr: %s", args, code, out, errOut)
	}
	return out, errOut
}

func (e e2e) ctlCode(args ...string) (int, string, string) {
	e.t.Helper()
	return runCLI(append(args, "--addr", e.addr, "--timeout", "60s")...)
}

// TestEndToEndAnnotateEditLoad: annotate from a manifest, edit as an annotator in the sim
// (edit one label, delete one, add one), load the changes back, then manage the run.
func TestEndToEndAnnotateEditLoad(t *testing.T) {
	sim := testenv.StartSim(t)
	server := testenv.StartServer(t, sim)
	e := e2e{t: t, addr: server.Target}
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "a.png"), color.RGBA{200, 40, 90, 255})
	writePNG(t, filepath.Join(dir, "b.png"), color.RGBA{20, 140, 90, 255})
	manifest := `{"id": "s1", "file": "a.png", "width": 32, "height": 24, "fields": {"ground_truth": {"detections": {"detections": [
  {"id": "` + carID + `", "label": "car", "bounding_box": [0.125, 0.25, 0.25, 0.5]},
  {"id": "` + personID + `", "label": "person", "bounding_box": [0.5, 0.5, 0.25, 0.25]}]}}}}
{"id": "s2", "file": "b.png", "width": 32, "height": 24, "fields": {"ground_truth": {"detections": {"detections": [
  {"id": "` + otherCarID + `", "label": "car", "bounding_box": [0.0, 0.0, 0.5, 0.5]}]}}}}
`
	schema := `{"fields": [{"field": "ground_truth", "type": "detections",
  "classes": {"entries": [{"name": "car"}, {"name": "person"}, {"name": "truck"}]}}]}`
	if err := os.WriteFile(filepath.Join(dir, "samples.jsonl"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "schema.json"), []byte(schema), 0o644); err != nil {
		t.Fatal(err)
	}

	// annotate: uploads both files, creates the run, follows it until ANNOTATING.
	out, errOut := e.ctl("annotate", "--dataset", "go_e2e", "--key", "run1", "--manifest", filepath.Join(dir, "samples.jsonl"),
		"--schema", filepath.Join(dir, "schema.json"), "-o", "json")
	if !strings.Contains(errOut, "2 local file(s), 2 uploaded, 0 already on the server") {
		t.Errorf("annotate stderr: %s", errOut)
	}
	run := &labelportv1.AnnotationRun{}
	if err := protojson.Unmarshal([]byte(out), run); err != nil {
		t.Fatalf("annotate -o json: %v\n%s", err, out)
	}
	if run.GetState() != labelportv1.RunState_RUN_STATE_ANNOTATING || run.GetProgress().GetLabelsImported() != 3 {
		t.Fatalf("run after annotate: %v", run)
	}
	name := run.GetName()
	slug := run.GetDarwin().GetDatasetSlug()

	// The library sees the same run, and the server holds the media: nothing is missing.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, err := labelport.Dial(ctx, server.Target, labelport.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	up, err := client.UploadFiles(ctx, filepath.Join(dir, "a.png"), filepath.Join(dir, "b.png"))
	if err != nil || up[0].Uploaded || up[1].Uploaded {
		t.Errorf("second upload of the same files: %v %v", up, err)
	}

	// Table output of list / get / status.
	out, _ = e.ctl("runs", "list", "go_e2e")
	if !strings.Contains(out, "run1") || !strings.Contains(out, "ANNOTATING") || !strings.Contains(out, "2/2") {
		t.Errorf("runs list:\n%s", out)
	}
	out, _ = e.ctl("runs", "get", "go_e2e/run1")
	if !strings.Contains(out, "State:         ANNOTATING") || !strings.Contains(out, "ground_truth (detections)") {
		t.Errorf("runs get:\n%s", out)
	}
	out, _ = e.ctl("runs", "status", name)
	if !regexp.MustCompile(`(?m)^total +2$`).MatchString(out) {
		t.Errorf("runs status:\n%s", out)
	}

	// The annotator: in s1 the car becomes a truck in a new place and the person goes; in s2
	// a second car is drawn.
	items, err := sim.Items(slug)
	if err != nil {
		t.Fatal(err)
	}
	itemOf := map[string]string{}
	for _, it := range items {
		itemOf[it.SampleID()] = it.ID
	}
	if len(itemOf) != 2 || itemOf["s1"] == "" || itemOf["s2"] == "" {
		t.Fatalf("sim items %v", items)
	}
	anns, err := sim.Annotations(itemOf["s1"])
	if err != nil {
		t.Fatal(err)
	}
	byClass := map[string]string{}
	for _, a := range anns {
		byClass[a.ClassName] = a.ID
	}
	if byClass["car"] == "" || byClass["person"] == "" {
		t.Fatalf("s1 annotations in the sim: %v", anns)
	}
	edited, err := sim.EditAnnotation(itemOf["s1"], byClass["car"], map[string]any{
		"class_name": "truck", "data": map[string]any{"x": 8, "y": 4, "w": 16, "h": 12}})
	if err != nil || edited.ID != byClass["car"] {
		t.Fatalf("edit: %v %v", edited, err)
	}
	if err := sim.DeleteAnnotation(itemOf["s1"], byClass["person"]); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.AddAnnotation(itemOf["s2"], map[string]any{
		"class_name": "car", "type": "bounding_box", "data": map[string]any{"x": 20, "y": 12, "w": 8, "h": 8}}); err != nil {
		t.Fatal(err)
	}

	// load: JSON Lines of changes to a file, the summary table on stdout.
	changesPath := filepath.Join(dir, "changes.jsonl")
	out, _ = e.ctl("load", name, "--out", changesPath)
	if !strings.Contains(out, "ground_truth  1      1       1        1") {
		t.Errorf("load summary:\n%s", out)
	}
	changes := readChanges(t, changesPath)
	s1, s2 := changes["s1/ground_truth"], changes["s2/ground_truth"]
	if s1 == nil || s2 == nil {
		t.Fatalf("changes %v", changes)
	}
	if !slices.Equal(s1.GetEditedIds(), []string{carID}) || !slices.Equal(s1.GetDeletedIds(), []string{personID}) || len(s1.GetAddedIds()) != 0 {
		t.Errorf("s1 changes: edited %v deleted %v added %v", s1.GetEditedIds(), s1.GetDeletedIds(), s1.GetAddedIds())
	}
	dets := s1.GetMerged().GetDetections().GetDetections()
	if len(dets) != 1 || dets[0].GetId() != carID || dets[0].GetLabel() != "truck" {
		t.Errorf("s1 merged: %v", dets)
	} else if box := dets[0].GetBoundingBox(); !near(box, []float64{0.25, 1.0 / 6, 0.5, 0.5}) {
		t.Errorf("s1 edited box %v", box)
	}
	if len(s2.GetAddedIds()) != 1 || s2.GetAddedIds()[0] == otherCarID || len(s2.GetEditedIds())+len(s2.GetDeletedIds()) != 0 {
		t.Errorf("s2 changes: added %v edited %v deleted %v", s2.GetAddedIds(), s2.GetEditedIds(), s2.GetDeletedIds())
	}
	var s2ids []string
	for _, d := range s2.GetMerged().GetDetections().GetDetections() {
		s2ids = append(s2ids, d.GetId())
	}
	slices.Sort(s2ids)
	want := []string{otherCarID, s2.GetAddedIds()[0]}
	slices.Sort(want)
	if !slices.Equal(s2ids, want) {
		t.Errorf("s2 merged ids %v, want %v", s2ids, want)
	}

	// A second load yields the same ids (new labels' ids are derived from V7's); its changes
	// go to stdout, the summary (JSON) to stderr.
	code, out2, errOut2 := e.ctlCode("load", name, "-o", "json")
	if code != exitOK {
		t.Fatalf("second load: exit %d: %s", code, errOut2)
	}
	if !strings.Contains(out2, `"id":"`+s2.GetAddedIds()[0]+`"`) || !strings.Contains(out2, `"id":"`+carID+`"`) {
		t.Errorf("second load, stdout:\n%s", out2)
	}
	var summary struct {
		Fields []struct{ Field string } `json:"fields"`
	}
	if err := json.Unmarshal([]byte(errOut2), &summary); err != nil || len(summary.Fields) != 1 || summary.Fields[0].Field != "ground_truth" {
		t.Errorf("second load summary on stderr: %v\n%s", err, errOut2)
	}

	// Errors: a run that does not exist is a server error (exit 2) with the status printed;
	// an invalid request carries BadRequest / ErrorInfo details.
	code, _, errOut = e.ctlCode("runs", "get", "go_e2e/nope")
	if code != exitServer || !strings.Contains(errOut, "NOT_FOUND") {
		t.Errorf("runs get of a missing run: exit %d, %s", code, errOut)
	}
	_, err = client.CreateRun(ctx, &labelportv1.CreateRunHeader{Parent: "go_e2e", AnnoKey: "not a key!",
		LabelSchema: &labelportv1.LabelSchema{Fields: []*labelportv1.FieldSchema{{Field: "gt", Type: new("detections"),
			Classes: &labelportv1.ClassList{Entries: []*labelportv1.ClassEntry{{Kind: &labelportv1.ClassEntry_Name{Name: "car"}}}}}}}},
		[]*labelportv1.Sample{labelport.NewSample("x", labelport.URLMedia("https://example.com/x.png"), labelportv1.MediaType_MEDIA_TYPE_IMAGE, nil)})
	if labelport.Code(err) != codes.InvalidArgument || labelport.ErrorReason(err) == "" || len(labelport.FieldViolations(err)) == 0 {
		t.Errorf("invalid anno_key: %s (reason %q, violations %v)", labelport.Describe(err), labelport.ErrorReason(err), labelport.FieldViolations(err))
	} else if v := labelport.FieldViolations(err); !slices.ContainsFunc(v, func(f *errdetails.BadRequest_FieldViolation) bool {
		return strings.Contains(f.GetField(), "anno_key")
	}) {
		t.Errorf("no violation names anno_key: %v", v)
	}

	// Global flags before the command; `runs list -o json` is an array of the objects
	// `runs get -o json` prints.
	code, listOut, errOut := runCLI("--addr", server.Target, "-o", "json", "runs", "list", "go_e2e")
	if code != exitOK {
		t.Fatalf("labelportctl --addr ... runs list: exit %d: %s", code, errOut)
	}
	getOut, _ := e.ctl("runs", "get", name, "-o", "json")
	var listed []json.RawMessage
	if err := json.Unmarshal([]byte(listOut), &listed); err != nil || len(listed) != 1 {
		t.Fatalf("runs list -o json is not an array of one run: %v\n%s", err, listOut)
	}
	fromList, fromGet := &labelportv1.AnnotationRun{}, &labelportv1.AnnotationRun{}
	if err := protojson.Unmarshal(listed[0], fromList); err != nil {
		t.Fatal(err)
	}
	if err := protojson.Unmarshal([]byte(getOut), fromGet); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(fromList, fromGet) || fromGet.GetName() != name {
		t.Errorf("runs list element:\n%s\nruns get:\n%s", listed[0], getOut)
	}

	// Management: rename, cleanup, delete.
	out, _ = e.ctl("runs", "rename", name, "run2")
	if !strings.Contains(out, "datasets/go_e2e/runs/run2") {
		t.Errorf("rename: %s", out)
	}
	out, _ = e.ctl("runs", "cleanup", "go_e2e/run2")
	if !strings.Contains(out, "cleaned up datasets/go_e2e/runs/run2") || !strings.Contains(out, "dataset deleted: yes") {
		t.Errorf("cleanup: %s", out)
	}
	out, _ = e.ctl("runs", "get", "go_e2e/run2", "-o", "json")
	if !strings.Contains(out, "RUN_STATE_CLEANED_UP") {
		t.Errorf("after cleanup: %s", out)
	}
	e.ctl("runs", "delete", "go_e2e/run2")
	out, _ = e.ctl("runs", "list", "go_e2e", "-o", "json")
	if strings.TrimSpace(out) != "[]" {
		t.Errorf("deleted run still listed: %s", out)
	}
}

func near(got, want []float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if d := got[i] - want[i]; d > 1e-6 || d < -1e-6 {
			return false
		}
	}
	return true
}

// readChanges parses load's JSON Lines, keyed by "sample/field".
func readChanges(t *testing.T, path string) map[string]*labelportv1.SampleFieldChanges {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]*labelportv1.SampleFieldChanges{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if !json.Valid(sc.Bytes()) {
			t.Fatalf("not a JSON line: %s", sc.Text())
		}
		ch := &labelportv1.SampleFieldChanges{}
		if err := protojson.Unmarshal(sc.Bytes(), ch); err != nil {
			t.Fatal(err)
		}
		out[ch.GetSampleId()+"/"+ch.GetField()] = ch
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
