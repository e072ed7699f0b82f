package labelport

import (
	"os"
	"path/filepath"
	"testing"

	labelportv1 "github.com/labelport/labelport/client/go/gen/labelport/v1"
)

func TestRunNames(t *testing.T) {
	for in, want := range map[string][2]string{
		"datasets/quickstart/runs/my_run": {"quickstart", "my_run"},
		"quickstart/my_run":               {"quickstart", "my_run"},
	} {
		d, k, err := ParseRunName(in)
		if err != nil || d != want[0] || k != want[1] {
			t.Errorf("ParseRunName(%q) = %q %q %v", in, d, k, err)
		}
	}
	for _, bad := range []string{"", "x", "datasets/d/runs/", "a/b/c", "datasets//runs/k", "/k"} {
		if _, _, err := ParseRunName(bad); err == nil {
			t.Errorf("ParseRunName(%q) accepted", bad)
		}
	}
	if RunName("d", "k") != "datasets/d/runs/k" || DatasetName("d") != "datasets/d" || DatasetName("datasets/d") != "datasets/d" {
		t.Error("RunName / DatasetName")
	}
}

func TestFileDigest(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x")
	if err := os.WriteFile(p, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, n, err := FileDigest(p)
	if err != nil || n != 3 || d != "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("FileDigest = %q %d %v", d, n, err)
	}
	if _, _, err := FileDigest(p + ".missing"); err == nil {
		t.Error("missing file")
	}
}

func TestMediaHelpers(t *testing.T) {
	if MediaTypeOf("clips/a.MP4") != labelportv1.MediaType_MEDIA_TYPE_VIDEO || MediaTypeOf("a.png") != labelportv1.MediaType_MEDIA_TYPE_IMAGE {
		t.Error("MediaTypeOf")
	}
	if m := StorageMedia("s3-bucket", "images/a.jpg"); m.GetStorage().GetStorageSlug() != "s3-bucket" || m.GetStorage().GetStorageKey() != "images/a.jpg" {
		t.Errorf("StorageMedia %v", m)
	}
	if URLMedia("https://x/a.png").GetUrl() != "https://x/a.png" || PathMedia("/data/a.png").GetPath() != "/data/a.png" {
		t.Error("URLMedia / PathMedia")
	}
}

func TestExistingFieldsFromSampleLabels(t *testing.T) {
	dets := &labelportv1.FieldValue{Value: &labelportv1.FieldValue_Detections{Detections: &labelportv1.Detections{}}}
	cls := &labelportv1.FieldValue{Value: &labelportv1.FieldValue_Classification{Classification: &labelportv1.Classification{Label: "cat"}}}
	s1 := NewSample("s1", URLMedia("https://x/a.png"), labelportv1.MediaType_MEDIA_TYPE_IMAGE,
		map[string]*labelportv1.FieldValue{"gt": dets, "empty": nil})
	s2 := NewSample("s2", URLMedia("https://x/b.mp4"), labelportv1.MediaType_MEDIA_TYPE_VIDEO,
		map[string]*labelportv1.FieldValue{"weather": cls})
	AddFrames(s2, "frames.boxes", &labelportv1.FrameFieldValue{FrameNumber: 1, Value: dets})
	if len(s1.GetFields()) != 1 {
		t.Errorf("nil values are skipped: %v", s1.GetFields())
	}
	got := ExistingFields([]*labelportv1.Sample{s1, s2})
	want := [][2]string{{"gt", "Detections"}, {"weather", "Classification"}, {"frames.boxes", "Detections"}}
	if len(got) != len(want) {
		t.Fatalf("ExistingFields = %v", got)
	}
	for i, w := range want {
		if got[i].GetField() != w[0] || got[i].GetDocumentType() != w[1] {
			t.Errorf("ExistingFields[%d] = %v, want %v", i, got[i], w)
		}
	}
}

func TestDocumentTypeOfSegmentation(t *testing.T) {
	seg := &labelportv1.FieldValue{Value: &labelportv1.FieldValue_Segmentation{
		Segmentation: &labelportv1.Segmentation{Id: "s", Width: 1, Height: 1, BytesPerPixel: 1, Mask: []byte{1}}}}
	if got := DocumentType(seg); got != "Segmentation" {
		t.Errorf("DocumentType(segmentation) = %q", got)
	}
	if got := DocumentType(nil); got != "" {
		t.Errorf("DocumentType(nil) = %q", got)
	}
	if got := DocumentType(&labelportv1.FieldValue{}); got != "" {
		t.Errorf("DocumentType(unset) = %q", got)
	}
}
