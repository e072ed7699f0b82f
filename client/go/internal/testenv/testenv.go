// Package testenv starts the built darwin-sim and labelport-server binaries for end-to-end
// tests and talks to the sim's /_sim control API with plain net/http.
//
// The binaries come from $LP_BUILD, else from ../../build relative to the Go module (the
// repository's build directory); a missing binary fails the test (build them with
// `bash .ci/build labelport_server darwin_sim`).
package testenv

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const startTimeout = 20 * time.Second

// BuildDir is $LP_BUILD, or the repository's build directory.
func BuildDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("LP_BUILD"); d != "" {
		abs, err := filepath.Abs(d)
		if err != nil {
			t.Fatalf("LP_BUILD=%s: %v", d, err)
		}
		return abs
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "..", "build")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testenv: no go.mod above the test directory")
		}
		dir = parent
	}
}

// binary is the path of a built binary; the test fails when it is missing.
func binary(t testing.TB, rel, target string) string {
	t.Helper()
	p := filepath.Join(BuildDir(t), rel)
	deadline := time.Now().Add(30 * time.Second) // a concurrent re-link may be replacing it
	for {
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is missing; build it with: bash .ci/build %s (or set LP_BUILD)", p, target)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// process is a started binary whose first stdout line was "listening on ADDRESS".
type process struct {
	cmd     *exec.Cmd
	address string
	stderr  string // file
}

func start(t testing.TB, name, path string, args []string, env []string) *process {
	t.Helper()
	errPath := filepath.Join(t.TempDir(), name+".stderr")
	errFile, err := os.Create(errPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = env
	cmd.Stderr = errFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	errFile.Close()
	p := &process{cmd: cmd, stderr: errPath}
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		lines <- line
		_, _ = io.Copy(io.Discard, r) // keep draining so the pipe never fills
	}()
	t.Cleanup(func() { p.stop(t, name) })
	select {
	case line := <-lines:
		addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
		if !ok {
			t.Fatalf("%s: first stdout line %q, not \"listening on ...\"; %s", name, line, p.tail())
		}
		p.address = addr
	case <-time.After(startTimeout):
		t.Fatalf("%s: no \"listening on\" line within %s; %s", name, startTimeout, p.tail())
	}
	return p
}

func (p *process) tail() string {
	b, _ := os.ReadFile(p.stderr)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return "stderr:\n" + string(b)
}

// stop sends SIGTERM and expects exit status 0 within 15 s.
func (p *process) stop(t testing.TB, name string) {
	if p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("%s exited with %v after SIGTERM; %s", name, err, p.tail())
		}
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
		t.Errorf("%s did not exit within 15 s of SIGTERM; killed; %s", name, p.tail())
	}
	if t.Failed() {
		t.Logf("%s %s", name, p.tail())
	}
}

// hermeticEnv is the environment without settings that would reach the processes from
// outside the test (LABELPORT_* flag fallbacks, V7 credentials).
func hermeticEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "LABELPORT_") || strings.HasPrefix(kv, "FIFTYONE_DARWIN_") ||
			strings.HasPrefix(kv, "DARWIN_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// Sim is a darwin-sim process.
type Sim struct {
	// URL is "http://HOST:PORT".
	URL string
	// Team is the sim's team slug.
	Team string
	// APIKey is the team's V7 API key.
	APIKey string
	http   *http.Client
}

// StartSim starts darwin-sim with one team and a fresh key; it stops at the test's end.
func StartSim(t testing.TB) *Sim {
	t.Helper()
	var b [20]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	key := h[:7] + "." + h[8:40]
	s := &Sim{Team: "go-client-team", APIKey: key, http: &http.Client{Timeout: 20 * time.Second}}
	p := start(t, "darwin-sim", binary(t, "tests/darwin_sim/darwin-sim", "darwin_sim"),
		[]string{"--listen", "127.0.0.1:0", "--team", s.Team, "--api_key", key, "--threads", "2"},
		hermeticEnv())
	s.URL = p.address
	return s
}

// Control calls a /_sim endpoint with a JSON body (nil: none) and decodes the reply into out
// (nil: discarded).
func (s *Sim) Control(method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

// Item is an item of GET /_sim/state.
type Item struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Path            string `json:"path"`
	Status          string `json:"status"`
	AnnotationCount int    `json:"annotation_count"`
}

// SampleID is the client sample id labelport encodes as the item's folder ("/<sample id>").
func (i Item) SampleID() string {
	p := strings.TrimRight(i.Path, "/")
	return p[strings.LastIndex(p, "/")+1:]
}

// Items returns the items of the dataset with this slug.
func (s *Sim) Items(slug string) ([]Item, error) {
	var state struct {
		Teams []struct {
			Datasets []struct {
				Slug  string `json:"slug"`
				Items []Item `json:"items"`
			} `json:"datasets"`
		} `json:"teams"`
	}
	if err := s.Control("GET", "/_sim/state", nil, &state); err != nil {
		return nil, err
	}
	for _, team := range state.Teams {
		for _, d := range team.Datasets {
			if d.Slug == slug {
				return d.Items, nil
			}
		}
	}
	return nil, fmt.Errorf("no dataset %q in the sim", slug)
}

// Annotation is an annotation view of the annotator endpoints.
type Annotation struct {
	ID        string         `json:"id"`
	ClassName string         `json:"class_name"`
	Type      string         `json:"type"`
	Data      map[string]any `json:"data"`
}

// Annotations lists the annotations of an item.
func (s *Sim) Annotations(itemID string) ([]Annotation, error) {
	var out struct {
		Annotations []Annotation `json:"annotations"`
	}
	err := s.Control("GET", "/_sim/items/"+itemID+"/annotations", nil, &out)
	return out.Annotations, err
}

// AddAnnotation adds an annotation as an annotator would (body as in the sim's README).
func (s *Sim) AddAnnotation(itemID string, body map[string]any) (Annotation, error) {
	var a Annotation
	err := s.Control("POST", "/_sim/items/"+itemID+"/annotations", body, &a)
	return a, err
}

// EditAnnotation changes an annotation; it keeps its id.
func (s *Sim) EditAnnotation(itemID, annotationID string, body map[string]any) (Annotation, error) {
	var a Annotation
	err := s.Control("PATCH", "/_sim/items/"+itemID+"/annotations/"+annotationID, body, &a)
	return a, err
}

// DeleteAnnotation deletes an annotation.
func (s *Sim) DeleteAnnotation(itemID, annotationID string) error {
	return s.Control("DELETE", "/_sim/items/"+itemID+"/annotations/"+annotationID, nil, nil)
}

// Server is a labelport-server process.
type Server struct {
	// Target is "HOST:PORT" of its gRPC endpoint.
	Target string
	// DataDir is its --data_dir.
	DataDir string
}

// StartServer starts labelport-server against sim (V7 key in FIFTYONE_DARWIN_API_KEY, a fresh
// data directory, no rate limit to speak of); it stops at the test's end.
func StartServer(t testing.TB, sim *Sim) *Server {
	t.Helper()
	dataDir := filepath.Join(t.TempDir(), "data")
	env := append(hermeticEnv(), "FIFTYONE_DARWIN_API_KEY="+sim.APIKey)
	p := start(t, "labelport-server", binary(t, "service/server/labelport-server", "labelport_server"),
		[]string{"--listen", "127.0.0.1:0", "--data_dir", dataDir, "--darwin_url", sim.URL,
			"--darwin_rate_limit_per_minute", "60000", "--worker_id", "go-e2e", "--drain_seconds", "2"},
		env)
	return &Server{Target: p.address, DataDir: dataDir}
}
