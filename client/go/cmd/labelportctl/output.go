package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	labelportv1 "github.com/labelport/labelport/client/go/gen/labelport/v1"
)

// JSON output is the proto3 JSON mapping with the .proto field names; zero values are left
// out.
var protoOut = protojson.MarshalOptions{UseProtoNames: true}

// writeJSON writes msg as indented JSON and a newline.
func writeJSON(w io.Writer, msg proto.Message) error {
	b, err := protoOut.Marshal(msg)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

// writeJSONArray writes msgs as an indented JSON array (each element as writeJSON would print
// it) and a newline; no messages is "[]".
func writeJSONArray[M proto.Message](w io.Writer, msgs []M) error {
	var raw bytes.Buffer
	raw.WriteByte('[')
	for i, m := range msgs {
		b, err := protoOut.Marshal(m)
		if err != nil {
			return err
		}
		if i > 0 {
			raw.WriteByte(',')
		}
		raw.Write(b)
	}
	raw.WriteByte(']')
	var out bytes.Buffer
	if err := json.Indent(&out, raw.Bytes(), "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err := w.Write(out.Bytes())
	return err
}

// writeJSONLine writes msg as one compact JSON line (JSON Lines).
func writeJSONLine(w io.Writer, msg proto.Message) error {
	b, err := protoOut.Marshal(msg)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

// table writes aligned columns.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	if len(header) > 0 {
		t.row(header...)
	}
	return t
}

func (t *table) row(cells ...string) {
	for i, c := range cells {
		if c == "" {
			cells[i] = "-"
		}
		cells[i] = strings.ReplaceAll(cells[i], "\t", " ")
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// writeSection writes a blank line, "title:" and a table with a row of cells(item) per item;
// nothing when there are no items.
func writeSection[T any](w io.Writer, title string, header []string, items []T, cells func(T) []string) error {
	if len(items) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\n%s:\n", title)
	t := newTable(w, header...)
	for _, item := range items {
		t.row(cells(item)...)
	}
	return t.flush()
}

// stateName is "ANNOTATING" for RUN_STATE_ANNOTATING.
func stateName(s labelportv1.RunState) string {
	return strings.TrimPrefix(s.String(), "RUN_STATE_")
}

// parseState accepts "annotating" or "RUN_STATE_ANNOTATING".
func parseState(s string) (labelportv1.RunState, error) {
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "RUN_STATE_") {
		name = "RUN_STATE_" + name
	}
	v, ok := labelportv1.RunState_value[name]
	if !ok || v == 0 {
		return 0, usagef("unknown run state %q (pending, uploading, annotating, failed, cleaned_up)", s)
	}
	return labelportv1.RunState(v), nil
}

func formatTime(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return ""
	}
	return ts.AsTime().UTC().Format(time.RFC3339)
}

func progressText(p *labelportv1.RunProgress) string {
	return fmt.Sprintf("%d/%d", p.GetSamplesCompleted(), p.GetSamplesTotal())
}

// writeRunsTable lists runs, one per line.
func writeRunsTable(w io.Writer, runs []*labelportv1.AnnotationRun) error {
	t := newTable(w, "KEY", "STATE", "SAMPLES", "FAILED", "SLUG", "UPDATED")
	for _, r := range runs {
		t.row(r.GetAnnoKey(), stateName(r.GetState()), progressText(r.GetProgress()),
			fmt.Sprint(r.GetProgress().GetSamplesFailed()), r.GetDarwin().GetDatasetSlug(),
			formatTime(r.GetUpdateTime()))
	}
	return t.flush()
}

// writeRun shows one run as "key: value" lines, then its fields and sample errors.
func writeRun(w io.Writer, r *labelportv1.AnnotationRun) error {
	p := r.GetProgress()
	t := newTable(w)
	t.row("Name:", r.GetName())
	t.row("State:", stateName(r.GetState()))
	if r.GetFailureReason() != "" {
		t.row("Failure:", r.GetFailureReason())
	}
	t.row("Backend:", r.GetBackend())
	t.row("Dataset slug:", r.GetDarwin().GetDatasetSlug())
	if r.GetDarwin().GetExternalStorage() != "" {
		t.row("External storage:", r.GetDarwin().GetExternalStorage())
	}
	t.row("Samples:", fmt.Sprintf("%d total, %d registered, %d uploaded, %d processed, %d completed, %d failed",
		p.GetSamplesTotal(), p.GetSamplesRegistered(), p.GetSamplesUploaded(), p.GetSamplesProcessed(),
		p.GetSamplesCompleted(), p.GetSamplesFailed()))
	t.row("Labels:", fmt.Sprintf("%d of %d imported", p.GetLabelsImported(), p.GetLabelsTotal()))
	var fields []string
	for _, f := range r.GetLabelSchema().GetFields() {
		fields = append(fields, fmt.Sprintf("%s (%s)", f.GetField(), f.GetType()))
	}
	t.row("Fields:", strings.Join(fields, ", "))
	t.row("Editor URL:", r.GetEditorUrl())
	t.row("Created:", formatTime(r.GetCreateTime()))
	t.row("Updated:", formatTime(r.GetUpdateTime()))
	t.row("UID:", r.GetUid())
	if err := t.flush(); err != nil {
		return err
	}
	return writeSection(w, "Sample errors", []string{"SAMPLE", "STAGE", "MESSAGE"}, r.GetSampleErrors(),
		func(e *labelportv1.SampleError) []string {
			return []string{e.GetSampleId(), e.GetStage(), e.GetMessage()}
		})
}

// writeStatus shows workflow status counts.
func writeStatus(w io.Writer, s *labelportv1.GetRunStatusResponse) error {
	t := newTable(w, "STATUS", "ITEMS")
	for _, c := range s.GetCounts() {
		t.row(c.GetStatus(), fmt.Sprint(c.GetItemCount()))
	}
	t.row("total", fmt.Sprint(s.GetTotalItems()))
	return t.flush()
}

// writeLoadSummary shows per-field counts and skipped entries of a load.
func writeLoadSummary(w io.Writer, s *labelportv1.LoadSummary) error {
	t := newTable(w, "FIELD", "ADDED", "EDITED", "DELETED", "UNCHANGED", "IGNORED", "UNEXPECTED")
	for _, f := range s.GetFields() {
		t.row(f.GetField(), fmt.Sprint(f.GetAdded()), fmt.Sprint(f.GetEdited()), fmt.Sprint(f.GetDeleted()),
			fmt.Sprint(f.GetUnchanged()), fmt.Sprint(f.GetIgnored()), fmt.Sprint(f.GetUnexpected()))
	}
	if err := t.flush(); err != nil {
		return err
	}
	err := writeSection(w, "Skipped", []string{"ITEM", "ANNOTATION", "REASON"}, s.GetSkipped(),
		func(e *labelportv1.SkippedEntry) []string {
			return []string{e.GetItemId(), e.GetAnnotationId(), e.GetReason()}
		})
	if err != nil {
		return err
	}
	if s.GetCleanedUp() {
		fmt.Fprintln(w, "\nThe run was cleaned up in V7.")
	}
	return nil
}

// watchLine is one WatchRun event for people.
func watchLine(ev *labelportv1.WatchRunResponse) string {
	r := ev.GetRun()
	p := r.GetProgress()
	line := fmt.Sprintf("#%d %s samples %d/%d uploaded, %d/%d completed, %d failed; labels %d/%d",
		ev.GetSequence(), stateName(r.GetState()), p.GetSamplesUploaded(), p.GetSamplesTotal(),
		p.GetSamplesCompleted(), p.GetSamplesTotal(), p.GetSamplesFailed(), p.GetLabelsImported(), p.GetLabelsTotal())
	if r.GetFailureReason() != "" {
		line += "; " + r.GetFailureReason()
	}
	return line
}
