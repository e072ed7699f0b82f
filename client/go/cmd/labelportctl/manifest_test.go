package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	labelportv1 "github.com/labelport/labelport/client/go/gen/labelport/v1"
)

const jsonlManifest = `{"id": "s1", "file": "images/a.png", "width": 32, "height": 24,
  "fields": {"ground_truth": {"detections": {"detections": [
    {"id": "000000000000000000000001", "label": "car", "bounding_box": [0.1, 0.2, 0.3, 0.4], "confidence": 0.9,
     "attributes": {"occluded": {"bool_value": true}}}]}}}}
{"id": "s2", "url": "https://example.com/b.jpg?sig=x", "fields": {"ground_truth": null}}
{"id": "s3", "storage_key": "clips/c.mp4", "file_name": "c.mp4"}
{"id": "s4", "path": "/srv/media/d.png", "media_type": "image",
 "fields": {"frames.boxes": [{"frame_number": 2, "frame_id": "f2", "value": {"detections": {"detections": []}}}],
            "weather": {"classification": {"id": "000000000000000000000002", "label": "sunny"}}}}
`

func TestParseManifestJSONL(t *testing.T) {
	got, err := parseManifest([]byte(jsonlManifest), manifestOptions{BaseDir: "/work/m", StorageSlug: "bucket"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("%d samples", len(got))
	}
	s1 := got[0]
	if s1.LocalFile != "/work/m/images/a.png" || s1.Sample.GetMedia() != nil || s1.Sample.GetWidth() != 32 {
		t.Errorf("s1: %v %v", s1.LocalFile, s1.Sample)
	}
	if s1.Sample.GetMediaType() != labelportv1.MediaType_MEDIA_TYPE_IMAGE {
		t.Errorf("s1 media type %v", s1.Sample.GetMediaType())
	}
	det := s1.Sample.GetFields()[0].GetValue().GetDetections().GetDetections()[0]
	if det.GetId() != "000000000000000000000001" || det.GetLabel() != "car" || det.GetBoundingBox()[3] != 0.4 ||
		det.GetConfidence() != 0.9 || !det.GetAttributes()["occluded"].GetBoolValue() {
		t.Errorf("s1 detection %v", det)
	}
	if s2 := got[1].Sample; s2.GetMedia().GetUrl() != "https://example.com/b.jpg?sig=x" || len(s2.GetFields()) != 0 {
		t.Errorf("s2 %v", s2)
	}
	s3 := got[2].Sample
	if st := s3.GetMedia().GetStorage(); st.GetStorageSlug() != "bucket" || st.GetStorageKey() != "clips/c.mp4" ||
		s3.GetMedia().GetFileName() != "c.mp4" || s3.GetMediaType() != labelportv1.MediaType_MEDIA_TYPE_VIDEO {
		t.Errorf("s3 %v", s3)
	}
	s4 := got[3].Sample
	if s4.GetMedia().GetPath() != "/srv/media/d.png" || len(s4.GetFields()) != 2 {
		t.Fatalf("s4 %v", s4)
	}
	// Fields are sorted by name.
	frames := s4.GetFields()[0]
	if frames.GetField() != "frames.boxes" || frames.GetFrames()[0].GetFrameNumber() != 2 || frames.GetFrames()[0].GetFrameId() != "f2" {
		t.Errorf("s4 frames %v", frames)
	}
	if s4.GetFields()[1].GetValue().GetClassification().GetLabel() != "sunny" {
		t.Errorf("s4 weather %v", s4.GetFields()[1])
	}
}

func TestParseManifestJSONArrayEqualsJSONL(t *testing.T) {
	arr := `[{"id": "a", "url": "https://x/a.png"}, {"id": "b", "url": "https://x/b.png", "media_type": "video"}]`
	got, err := parseManifest([]byte(arr), manifestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].Sample.GetMediaType() != labelportv1.MediaType_MEDIA_TYPE_VIDEO {
		t.Errorf("%v", got)
	}
}

func TestParseManifestErrorsNameTheEntry(t *testing.T) {
	for name, tc := range map[string]struct{ in, want string }{
		"no id":         {`{"url": "https://x/a.png"}`, `entry 1 (line 1): "id" is required`},
		"two sources":   {`{"id": "a", "url": "https://x/a.png", "file": "a.png"}`, "exactly one of"},
		"no source":     {`{"id": "a"}`, "exactly one of"},
		"typo":          {"{\"id\": \"a\", \"url\": \"https://x/a.png\"}\n\n{\"id\": \"b\", \"fiel\": \"b.png\"}", `entry 2 (line 3): json: unknown field "fiel"`},
		"duplicate":     {`{"id": "a", "url": "https://x/a.png"}` + "\n" + `{"id": "a", "url": "https://x/b.png"}`, `sample id "a" repeats entry 1`},
		"media type":    {`{"id": "a", "url": "https://x/a.png", "media_type": "pdf"}`, `"media_type" must be "image" or "video"`},
		"relative path": {`{"id": "a", "path": "a.png"}`, `"path" must be absolute`},
		"ftp":           {`{"id": "a", "url": "ftp://x/a.png"}`, `"url" must be http(s)`},
		"storage slug":  {`{"id": "a", "storage_key": "a.png"}`, `needs "storage_slug"`},
		"bad label":     {`{"id": "a", "url": "https://x/a.png", "fields": {"gt": {"detections": {"detections": [{"lable": "x"}]}}}}`, `field "gt"`},
		"frames":        {`{"id": "a", "url": "https://x/a.png", "fields": {"frames.x": [{"value": {}}]}}`, "frame_number must be >= 1"},
		"bad json":      {"{\"id\": \"a\", \"url\": \"https://x/a.png\"}\n{\"id\": ", "manifest line 2"},
		"empty":         {"  \n", "no samples"},
		"array typo":    {`[{"id": "a", "ur": "x"}]`, `entry 1: json: unknown field "ur"`},
	} {
		_, err := parseManifest([]byte(tc.in), manifestOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", name, err, tc.want)
		}
	}
}

func TestReadManifestFileResolvesRelativeFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "samples.jsonl")
	if err := os.WriteFile(p, []byte(`{"id": "a", "file": "a.png"}`+"\n"+`{"id": "b", "file": "/abs/b.png"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readManifestFile(p, "")
	if err != nil {
		t.Fatal(err)
	}
	if got[0].LocalFile != filepath.Join(dir, "a.png") || got[1].LocalFile != "/abs/b.png" {
		t.Errorf("%q %q", got[0].LocalFile, got[1].LocalFile)
	}
}

func TestReadSchemaFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "schema.json")
	body := `{"fields": [{"field": "ground_truth", "type": "detections",
	  "classes": {"entries": [{"name": "car"}, {"group": {"classes": {"names": ["truck"]}, "attributes": {"infer": false}}}]},
	  "attributes": {"specs": {"specs": [{"name": "occluded", "type": "single_select", "values": [{"bool_value": true}, {"bool_value": false}]}]}},
	  "allow_deletions": false}]}`
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := readSchemaFile(p)
	if err != nil {
		t.Fatal(err)
	}
	f := s.GetFields()[0]
	if f.GetType() != "detections" || len(f.GetClasses().GetEntries()) != 2 || f.GetAllowDeletions() || f.AllowDeletions == nil ||
		f.GetAttributes().GetSpecs().GetSpecs()[0].GetName() != "occluded" {
		t.Errorf("schema %v", s)
	}
	if err := os.WriteFile(p, []byte(`{"fields": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readSchemaFile(p); err == nil || !strings.Contains(err.Error(), "no fields") {
		t.Errorf("empty schema: %v", err)
	}
}
