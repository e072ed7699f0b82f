package labelport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	labelportv1 "github.com/labelport/labelport/client/go/gen/labelport/v1"
)

// ChunkBytes is the size of UploadMedia chunks (the server accepts at most 1 MiB).
const ChunkBytes = 1 << 20

// maxDigestsPerCall is FindMissingMedia's limit.
const maxDigestsPerCall = 10000

func statusError(c codes.Code, msg string) error { return status.Error(c, msg) }

// FileDigest is "sha256:<64 hex>" of a file's bytes, and its size.
func FileDigest(filePath string) (digest string, size int64, err error) {
	f, err := os.Open(filePath)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	size, err = io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("reading %s: %w", filePath, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), size, nil
}

// FindMissingMedia returns the digests the server does not hold yet, in request order
// (several calls when there are more than 10,000).
func (c *Client) FindMissingMedia(ctx context.Context, digests []string) ([]string, error) {
	var missing []string
	for start := 0; start < len(digests); start += maxDigestsPerCall {
		end := min(start+maxDigestsPerCall, len(digests))
		r, err := c.stub.FindMissingMedia(ctx, &labelportv1.FindMissingMediaRequest{ContentDigests: digests[start:end]})
		if err != nil {
			return nil, err
		}
		missing = append(missing, r.GetMissingDigests()...)
	}
	return missing, nil
}

// UploadMedia streams size bytes from r to the server under digest ("sha256:<64 hex>").
func (c *Client) UploadMedia(ctx context.Context, digest string, size int64, r io.Reader) (*labelportv1.UploadMediaResponse, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.stub.UploadMedia(ctx)
	if err != nil {
		return nil, err
	}
	header := &labelportv1.UploadMediaHeader{ContentDigest: digest, SizeBytes: size}
	if err := stream.Send(&labelportv1.UploadMediaRequest{Part: &labelportv1.UploadMediaRequest_Header{Header: header}}); err != nil {
		_, rerr := stream.CloseAndRecv()
		return nil, rerr
	}
	buf := make([]byte, ChunkBytes)
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			chunk := append([]byte(nil), buf[:n]...)
			if err := stream.Send(&labelportv1.UploadMediaRequest{Part: &labelportv1.UploadMediaRequest_Chunk{Chunk: chunk}}); err != nil {
				_, serr := stream.CloseAndRecv()
				return nil, serr
			}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return nil, fmt.Errorf("reading media for %s: %w", digest, rerr)
		}
	}
	return stream.CloseAndRecv()
}

// UploadedFile is a local file after UploadFiles.
type UploadedFile struct {
	// Path is the local path as given.
	Path string
	// Digest is "sha256:<64 hex>" of the file.
	Digest string
	// Size is the file size in bytes.
	Size int64
	// Uploaded is true when this call sent the bytes; false when the server already held them.
	Uploaded bool
}

// Media is the MediaReference of the uploaded file (its digest, and its base name as the
// file name shown in V7).
func (f UploadedFile) Media() *labelportv1.MediaReference {
	return DigestMedia(f.Digest, filepath.Base(f.Path))
}

// UploadFiles hashes the files, asks the server which contents it lacks (FindMissingMedia)
// and uploads only those, each distinct content once. The result is in the order of paths.
func (c *Client) UploadFiles(ctx context.Context, paths ...string) ([]UploadedFile, error) {
	out := make([]UploadedFile, len(paths))
	var digests []string
	seen := map[string]bool{}
	for i, p := range paths {
		d, size, err := FileDigest(p)
		if err != nil {
			return nil, err
		}
		out[i] = UploadedFile{Path: p, Digest: d, Size: size}
		if !seen[d] {
			seen[d] = true
			digests = append(digests, d)
		}
	}
	missing, err := c.FindMissingMedia(ctx, digests)
	if err != nil {
		return nil, err
	}
	need := map[string]bool{}
	for _, d := range missing {
		need[d] = true
	}
	for i := range out {
		f := &out[i]
		if !need[f.Digest] {
			continue
		}
		if err := c.uploadFile(ctx, f); err != nil {
			return nil, err
		}
		f.Uploaded = true
		delete(need, f.Digest)
	}
	return out, nil
}

func (c *Client) uploadFile(ctx context.Context, f *UploadedFile) error {
	r, err := os.Open(f.Path)
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = c.UploadMedia(ctx, f.Digest, f.Size, r)
	return err
}

// PathMedia refers to a file by an absolute server path, which must lie beneath a
// media root the operator allowed for the caller's tenant (otherwise the server
// answers PERMISSION_DENIED, reason MEDIA_PATH_NOT_ALLOWED).
func PathMedia(serverPath string) *labelportv1.MediaReference {
	return &labelportv1.MediaReference{Source: &labelportv1.MediaReference_Path{Path: serverPath}}
}

// URLMedia refers to an http(s) URL the server fetches.
func URLMedia(url string) *labelportv1.MediaReference {
	return &labelportv1.MediaReference{Source: &labelportv1.MediaReference_Url{Url: url}}
}

// StorageMedia refers to an object of a V7 external storage, registered in place.
func StorageMedia(storageSlug, storageKey string) *labelportv1.MediaReference {
	return &labelportv1.MediaReference{Source: &labelportv1.MediaReference_Storage{
		Storage: &labelportv1.StorageReference{StorageSlug: storageSlug, StorageKey: storageKey},
	}}
}

// DigestMedia refers to bytes sent with UploadMedia; fileName is the name shown in V7.
func DigestMedia(digest, fileName string) *labelportv1.MediaReference {
	return &labelportv1.MediaReference{
		Source:   &labelportv1.MediaReference_ContentDigest{ContentDigest: digest},
		FileName: fileName,
	}
}

// MediaTypeOf guesses image or video from a file name's extension (video for common video
// containers, image otherwise).
func MediaTypeOf(name string) labelportv1.MediaType {
	switch strings.ToLower(path.Ext(name)) {
	case ".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv":
		return labelportv1.MediaType_MEDIA_TYPE_VIDEO
	}
	return labelportv1.MediaType_MEDIA_TYPE_IMAGE
}

// NewSample is a sample with id, media and media type, and the existing labels of fields
// (field name → value; nil values are skipped). Frame-level fields are added with AddFrames.
func NewSample(id string, media *labelportv1.MediaReference, mediaType labelportv1.MediaType, fields map[string]*labelportv1.FieldValue) *labelportv1.Sample {
	s := &labelportv1.Sample{Id: id, Media: media, MediaType: mediaType}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		if v := fields[name]; v != nil {
			s.Fields = append(s.Fields, &labelportv1.SampleField{Field: name, Value: v})
		}
	}
	return s
}

// AddFrames adds the labels of a frame-level field ("frames.<name>") to s.
func AddFrames(s *labelportv1.Sample, field string, frames ...*labelportv1.FrameFieldValue) {
	s.Fields = append(s.Fields, &labelportv1.SampleField{Field: field, Frames: frames})
}

// DocumentType is the FiftyOne document class of a field value ("Detections",
// "Classification", ...), as ExistingField.document_type wants it; "" for an unset value.
func DocumentType(v *labelportv1.FieldValue) string {
	// The value oneof holds one message per document class, named as the class is.
	m := v.ProtoReflect()
	set := m.WhichOneof(m.Descriptor().Oneofs().ByName("value"))
	if set == nil || set.Message() == nil {
		return ""
	}
	return string(set.Message().Name())
}

// ExistingFields derives the ExistingField list of a CreateRun header from the labels the
// samples carry: every field with a value (on a sample or a frame) exists, with the document
// type of its first value. Fields whose samples carry no labels are not listed (they are new
// unless the caller lists them).
func ExistingFields(samples []*labelportv1.Sample) []*labelportv1.ExistingField {
	types := map[string]string{}
	var order []string
	note := func(field string, v *labelportv1.FieldValue) {
		t := DocumentType(v)
		if t == "" {
			return
		}
		if _, ok := types[field]; !ok {
			types[field] = t
			order = append(order, field)
		}
	}
	for _, s := range samples {
		for _, f := range s.GetFields() {
			note(f.GetField(), f.GetValue())
			for _, fr := range f.GetFrames() {
				note(f.GetField(), fr.GetValue())
			}
		}
	}
	out := make([]*labelportv1.ExistingField, 0, len(order))
	for _, f := range order {
		out = append(out, &labelportv1.ExistingField{Field: f, DocumentType: types[f]})
	}
	return out
}
