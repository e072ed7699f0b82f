// Package benchenv is what the Go benchmarks under tests/bench share: starting the built
// labelport-server (and its -server/-server_args flags, server_flags.go), client connections
// (connections.go), a codec that scans responses instead of decoding them (codec.go), seeding
// runs, reading a process's CPU time and summarising latencies.
//
// Benchmarks are not tests: they print numbers and the command that reproduces them.
package benchenv

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"

	labelport "github.com/labelport/labelport/client/go"
	labelportv1 "github.com/labelport/labelport/client/go/gen/labelport/v1"
)

// DefaultServerBinary is $LP_BUILD/service/server/labelport-server, else the repository's
// build directory relative to the working directory (tests/bench/<name>).
func DefaultServerBinary() string {
	build := os.Getenv("LP_BUILD")
	if build == "" {
		build = filepath.Join("..", "..", "..", "build")
	}
	return filepath.Join(build, "service", "server", "labelport-server")
}

// Server is a labelport-server process started by a benchmark.
type Server struct {
	cmd     *exec.Cmd
	dataDir string
	stderr  string
	// Address is "HOST:PORT", from the server's "listening on" line.
	Address string
}

// StartServer starts `binary` on 127.0.0.1:0 with a fresh data directory (SQLite store) and
// the extra `args`, and waits for its "listening on" line. Without a V7 key the server
// uploads nothing: runs stay PENDING and only the calls of the benchmark reach the store.
func StartServer(binary string, args ...string) (*Server, error) {
	dataDir, err := os.MkdirTemp("", "labelport-bench-")
	if err != nil {
		return nil, err
	}
	s := &Server{dataDir: dataDir, stderr: filepath.Join(dataDir, "server.stderr")}
	errFile, err := os.Create(s.stderr)
	if err != nil {
		return nil, err
	}
	defer errFile.Close()
	s.cmd = exec.Command(binary, append([]string{"--listen", "127.0.0.1:0", "--data_dir",
		filepath.Join(dataDir, "data")}, args...)...)
	s.cmd.Env = hermeticEnv()
	s.cmd.Stderr = errFile
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w (build it with: bash .ci/build labelport_server)",
			binary, err)
	}
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		lines <- line
		_, _ = io.Copy(io.Discard, r)
	}()
	select {
	case line := <-lines:
		addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
		if !ok {
			s.Stop()
			return nil, fmt.Errorf("first stdout line %q; %s", line, s.Tail())
		}
		s.Address = addr
	case <-time.After(20 * time.Second):
		s.Stop()
		return nil, fmt.Errorf("no \"listening on\" line within 20 s; %s", s.Tail())
	}
	return s, nil
}

// Pid is the server's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Tail is the end of the server's stderr.
func (s *Server) Tail() string {
	b, _ := os.ReadFile(s.stderr)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return "server stderr:\n" + string(b)
}

// Stop sends SIGTERM, waits for the exit (kill -9 after 15 s) and removes the data directory.
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
			<-done
		}
	}
	_ = os.RemoveAll(s.dataDir)
}

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

// SeedRuns creates `count` runs "datasets/<dataset>/runs/run_<i>" (unless they exist), each with
// one external-storage image sample and a one-class detections schema, and returns their names.
func SeedRuns(ctx context.Context, client *labelport.Client, dataset string, count int) ([]string, error) {
	names := make([]string, 0, count)
	detections := "detections"
	for i := range count {
		sample := labelport.NewSample(fmt.Sprintf("sample-%06d", i),
			labelport.StorageMedia("bench-bucket", fmt.Sprintf("images/%06d.jpg", i)),
			labelportv1.MediaType_MEDIA_TYPE_IMAGE, nil)
		header := &labelportv1.CreateRunHeader{
			Parent:  dataset,
			AnnoKey: fmt.Sprintf("run_%06d", i),
			LabelSchema: &labelportv1.LabelSchema{Fields: []*labelportv1.FieldSchema{{
				Field: "ground_truth", Type: &detections,
				Classes: &labelportv1.ClassList{Entries: []*labelportv1.ClassEntry{
					{Kind: &labelportv1.ClassEntry_Name{Name: "car"}},
				}},
			}}},
			Darwin: &labelportv1.DarwinOptions{ExternalStorage: "bench-bucket"},
		}
		_, err := client.CreateRun(ctx, header, []*labelportv1.Sample{sample})
		// A server seeded before (-target) already has the run.
		if err != nil && labelport.Code(err) != codes.AlreadyExists {
			return nil, fmt.Errorf("seeding run %d: %s", i, labelport.Describe(err))
		}
		names = append(names, labelport.RunName(dataset, header.GetAnnoKey()))
	}
	return names, nil
}

// CPUSeconds is the user + system CPU time of process `pid` so far, from /proc/<pid>/stat.
func CPUSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; the fields after its ')' are fixed.
	text := string(b)
	fields := strings.Fields(text[strings.LastIndexByte(text, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	// utime and stime are fields 14 and 15 of the file, 12 and 13 after the name.
	var ticks int64
	for _, f := range fields[11:13] {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += v
	}
	return float64(ticks) / clockTicksPerSecond, nil
}

// OwnCPUSeconds is the user + system CPU time of this process so far.
func OwnCPUSeconds() float64 {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano()).Seconds()
}

// USER_HZ: 100 on every Linux architecture Go supports.
const clockTicksPerSecond = 100

// Percentile is the p-th percentile (0..100) of `sorted` (ascending), nearest rank.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.5) - 1
	rank = max(0, min(rank, len(sorted)-1))
	return sorted[rank]
}

// Sort sorts latencies ascending.
func Sort(latencies []time.Duration) {
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
}

// Ms formats a duration in milliseconds with two decimals.
func Ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64)
}
