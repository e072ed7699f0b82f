package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"

	labelport "github.com/labelport/labelport/client/go"
	labelportv1 "github.com/labelport/labelport/client/go/gen/labelport/v1"
)

// manifestEntry is one sample of a manifest (see README.md, "Sample manifest").
type manifestEntry struct {
	ID          string                     `json:"id"`
	File        string                     `json:"file"`
	Path        string                     `json:"path"`
	URL         string                     `json:"url"`
	StorageKey  string                     `json:"storage_key"`
	StorageSlug string                     `json:"storage_slug"`
	FileName    string                     `json:"file_name"`
	MediaType   string                     `json:"media_type"`
	Width       int32                      `json:"width"`
	Height      int32                      `json:"height"`
	FrameCount  int32                      `json:"frame_count"`
	FrameRate   float64                    `json:"frame_rate"`
	Fields      map[string]json.RawMessage `json:"fields"`
}

// manifestSample is a parsed entry: the sample, and the local file to upload when the entry
// names one (the sample's media is then set after the upload).
type manifestSample struct {
	Sample    *labelportv1.Sample
	LocalFile string
}

// manifestOptions are the defaults an entry may leave out.
type manifestOptions struct {
	// BaseDir resolves relative "file" entries (the manifest's directory).
	BaseDir string
	// StorageSlug is used for "storage_key" entries without "storage_slug".
	StorageSlug string
}

// readManifestFile parses a manifest file (JSON array, or JSONL / concatenated JSON objects).
func readManifestFile(path, storageSlug string) ([]manifestSample, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseManifest(data, manifestOptions{BaseDir: filepath.Dir(path), StorageSlug: storageSlug})
}

// parseManifest parses manifest bytes: either one JSON array of entries, or a sequence of
// entry objects (JSON Lines, or pretty-printed objects one after the other).
func parseManifest(data []byte, opts manifestOptions) ([]manifestSample, error) {
	var raws []json.RawMessage
	var lines []int // the line each entry starts on; 0 inside a JSON array
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, errors.New("manifest: no samples")
	}
	if trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &raws); err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
		lines = make([]int, len(raws))
	} else {
		dec := json.NewDecoder(bytes.NewReader(data))
		for {
			start := dec.InputOffset()
			start += int64(len(data[start:]) - len(bytes.TrimLeft(data[start:], " \t\r\n")))
			var raw json.RawMessage
			err := dec.Decode(&raw)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("manifest line %d: %w", lineOf(data, start), err)
			}
			raws = append(raws, raw)
			lines = append(lines, lineOf(data, start))
		}
	}
	out := make([]manifestSample, 0, len(raws))
	seen := map[string]int{}
	for i, raw := range raws {
		where := fmt.Sprintf("manifest entry %d", i+1)
		if lines[i] > 0 {
			where += fmt.Sprintf(" (line %d)", lines[i])
		}
		s, err := parseEntry(raw, opts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if prev, dup := seen[s.Sample.GetId()]; dup {
			return nil, fmt.Errorf("%s: sample id %q repeats entry %d", where, s.Sample.GetId(), prev)
		}
		seen[s.Sample.GetId()] = i + 1
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, errors.New("manifest: no samples")
	}
	return out, nil
}

// lineOf is the 1-based line of byte offset off (0-based) in data.
func lineOf(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte{'\n'}) + 1
}

func parseEntry(raw json.RawMessage, opts manifestOptions) (manifestSample, error) {
	var e manifestEntry
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return manifestSample{}, err
	}
	if e.ID == "" {
		return manifestSample{}, errors.New(`"id" is required`)
	}
	var res manifestSample
	sources := 0
	var media *labelportv1.MediaReference
	name := ""
	if e.File != "" {
		sources++
		p := e.File
		if !filepath.IsAbs(p) && opts.BaseDir != "" {
			p = filepath.Join(opts.BaseDir, p)
		}
		res.LocalFile = p
		name = p
	}
	if e.Path != "" {
		sources++
		if !filepath.IsAbs(e.Path) {
			return manifestSample{}, fmt.Errorf(`"path" must be absolute (a path on the server); use "file" for a local file: %q`, e.Path)
		}
		media = labelport.PathMedia(e.Path)
		name = e.Path
	}
	if e.URL != "" {
		sources++
		if !strings.HasPrefix(e.URL, "http://") && !strings.HasPrefix(e.URL, "https://") {
			return manifestSample{}, fmt.Errorf(`"url" must be http(s): %q`, e.URL)
		}
		media = labelport.URLMedia(e.URL)
		name = strings.SplitN(strings.SplitN(e.URL, "?", 2)[0], "#", 2)[0]
	}
	if e.StorageKey != "" {
		sources++
		slug := e.StorageSlug
		if slug == "" {
			slug = opts.StorageSlug
		}
		if slug == "" {
			return manifestSample{}, errors.New(`"storage_key" needs "storage_slug" (or --external-storage)`)
		}
		media = labelport.StorageMedia(slug, e.StorageKey)
		name = e.StorageKey
	} else if e.StorageSlug != "" {
		return manifestSample{}, errors.New(`"storage_slug" without "storage_key"`)
	}
	if sources != 1 {
		return manifestSample{}, fmt.Errorf(`exactly one of "file", "path", "url", "storage_key" is required (got %d)`, sources)
	}
	var mt labelportv1.MediaType
	switch strings.ToLower(e.MediaType) {
	case "":
		mt = labelport.MediaTypeOf(name)
	case "image":
		mt = labelportv1.MediaType_MEDIA_TYPE_IMAGE
	case "video":
		mt = labelportv1.MediaType_MEDIA_TYPE_VIDEO
	default:
		return manifestSample{}, fmt.Errorf(`"media_type" must be "image" or "video", not %q`, e.MediaType)
	}
	if media != nil && e.FileName != "" {
		media.FileName = e.FileName
	}
	s := &labelportv1.Sample{
		Id: e.ID, Media: media, MediaType: mt, Width: e.Width, Height: e.Height,
		FrameCount: e.FrameCount, FrameRate: e.FrameRate,
	}
	for _, field := range slices.Sorted(maps.Keys(e.Fields)) {
		f, err := parseField(field, e.Fields[field])
		if err != nil {
			return manifestSample{}, fmt.Errorf("field %q: %w", field, err)
		}
		if f != nil {
			s.Fields = append(s.Fields, f)
		}
	}
	res.Sample = s
	return res, nil
}

var protoIn = protojson.UnmarshalOptions{}

// parseField reads one field's labels: a FieldValue ({"detections": {"detections": [...]}})
// for sample-level fields, a list of FrameFieldValue for "frames.*" fields; null is None.
func parseField(field string, raw json.RawMessage) (*labelportv1.SampleField, error) {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	if strings.HasPrefix(field, "frames.") {
		var frames []json.RawMessage
		if err := json.Unmarshal(raw, &frames); err != nil {
			return nil, fmt.Errorf("a frame-level field is a list of {\"frame_number\", \"value\"}: %w", err)
		}
		f := &labelportv1.SampleField{Field: field}
		for i, fr := range frames {
			v := &labelportv1.FrameFieldValue{}
			if err := protoIn.Unmarshal(fr, v); err != nil {
				return nil, fmt.Errorf("frame %d: %w", i+1, err)
			}
			if v.GetFrameNumber() < 1 {
				return nil, fmt.Errorf("frame %d: frame_number must be >= 1", i+1)
			}
			f.Frames = append(f.Frames, v)
		}
		return f, nil
	}
	v := &labelportv1.FieldValue{}
	if err := protoIn.Unmarshal(raw, v); err != nil {
		return nil, err
	}
	if v.GetValue() == nil {
		return nil, nil
	}
	return &labelportv1.SampleField{Field: field, Value: v}, nil
}

// readSchemaFile reads a LabelSchema in protojson ({"fields": [{"field": ..., "type": ...,
// "classes": {"entries": [{"name": "car"}]}}]}).
func readSchemaFile(path string) (*labelportv1.LabelSchema, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := &labelportv1.LabelSchema{}
	if err := protoIn.Unmarshal(data, s); err != nil {
		return nil, fmt.Errorf("schema %s: %w", path, err)
	}
	if len(s.GetFields()) == 0 {
		return nil, fmt.Errorf("schema %s: no fields", path)
	}
	return s, nil
}
