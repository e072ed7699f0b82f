// Command read_path measures labelport-server's read path: GetRun and ListRuns (a page of 50)
// from many concurrent callers, beside a gRPC health check measured the same way in the same
// run (absolute numbers move with the machine; the health check is the floor of a call).
//
// It starts the built server on a fresh SQLite store (or uses -target), seeds -runs runs in one
// dataset, then drives each call for -duration with -concurrency callers spread over
// -connections HTTP/2 connections, and prints requests/s, p50/p99 latency and the server's
// CPU time per call. Not a test; see README.md.
//
//	cd tests/bench/read_path && go run . -duration 10s
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/encoding/protowire"

	labelport "github.com/labelport/labelport/client/go"
	labelportv1 "github.com/labelport/labelport/client/go/gen/labelport/v1"
	"github.com/labelport/labelport/tests/bench/internal/benchenv"
)

const dataset = "bench"

func main() {
	server := benchenv.ServerFlags()
	target := flag.String("target", "", "use this running server (HOST:PORT) instead")
	duration := flag.Duration("duration", 10*time.Second, "measurement time per call")
	warmup := flag.Duration("warmup", 2*time.Second, "unmeasured time before each call's run")
	concurrency := flag.Int("concurrency", 16, "concurrent callers")
	connections := flag.Int("connections", 4, "HTTP/2 connections the callers share")
	runs := flag.Int("runs", 100, "runs to seed")
	pageSize := flag.Int("page_size", 50, "ListRuns page size")
	only := flag.String("only", "health,GetRun,ListRuns", "calls to measure, comma-separated")
	decode := flag.Bool("decode", false, "decode every response fully (costs this process CPU "+
		"that the server then lacks)")
	flag.Parse()
	if err := run(server, *target, *duration, *warmup, *concurrency, *connections,
		*runs, *pageSize, *only, *decode); err != nil {
		fmt.Fprintln(os.Stderr, "read_path:", err)
		os.Exit(1)
	}
}

func run(server *benchenv.ServerCommand, target string, duration, warmup time.Duration, concurrency,
	connections, runs, pageSize int, only string, decode bool) error {
	ctx := context.Background()
	address, pid := target, 0
	if address == "" {
		// The seeded runs stay PENDING (no V7 key): lift the per-tenant cap on runs in flight.
		s, err := server.Start("--max_runs_in_flight_per_tenant", "100000")
		if err != nil {
			return err
		}
		defer s.Stop()
		address, pid = s.Address, s.Pid()
	}
	client, err := labelport.Dial(ctx, address, labelport.WithInsecure())
	if err != nil {
		return err
	}
	defer client.Close()
	names, err := benchenv.SeedRuns(ctx, client, dataset, runs)
	if err != nil {
		return err
	}

	conns, closeConns, err := benchenv.Connections(address, connections)
	if err != nil {
		return err
	}
	defer closeConns()
	calls := map[string]func(conn *grpc.ClientConn, r *rand.Rand) error{
		"health": func(conn *grpc.ClientConn, _ *rand.Rand) error {
			_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
			return err
		},
		"GetRun": func(conn *grpc.ClientConn, r *rand.Rand) error {
			req := &labelportv1.GetRunRequest{Name: names[r.IntN(len(names))]}
			if decode {
				_, err := labelportv1.NewAnnotationServiceClient(conn).GetRun(ctx, req)
				return err
			}
			var resp scanned
			err := conn.Invoke(ctx, labelportv1.AnnotationService_GetRun_FullMethodName, req, &resp,
				grpc.ForceCodec(benchenv.ScanCodec{}))
			if err == nil && resp.field1 != 1 {
				err = fmt.Errorf("GetRun returned no run")
			}
			return err
		},
		"ListRuns": func(conn *grpc.ClientConn, _ *rand.Rand) error {
			req := &labelportv1.ListRunsRequest{Parent: "datasets/" + dataset, PageSize: int32(pageSize)}
			runs := 0
			if decode {
				resp, err := labelportv1.NewAnnotationServiceClient(conn).ListRuns(ctx, req)
				if err != nil {
					return err
				}
				runs = len(resp.GetRuns())
			} else {
				var resp scanned
				if err := conn.Invoke(ctx, labelportv1.AnnotationService_ListRuns_FullMethodName, req,
					&resp, grpc.ForceCodec(benchenv.ScanCodec{})); err != nil {
					return err
				}
				runs = resp.field1
			}
			if runs != min(pageSize, len(names)) {
				return fmt.Errorf("ListRuns returned %d runs", runs)
			}
			return nil
		},
	}

	fmt.Printf("read path: %d callers on %d connections, %s per call (after %s warm-up), %d runs, "+
		"ListRuns page %d, responses decoded: %v\n", concurrency, connections, duration, warmup,
		len(names), pageSize, decode)
	fmt.Printf("%-9s %10s %9s %9s %16s %16s\n", "call", "requests/s", "p50 ms", "p99 ms",
		"server CPU/call", "client CPU/call")
	for _, name := range strings.Split(only, ",") {
		call, ok := calls[name]
		if !ok {
			return fmt.Errorf("-only: unknown call %q", name)
		}
		drive(conns, concurrency, warmup, call)
		cpuBefore, err := cpu(pid)
		if err != nil {
			return err
		}
		ownBefore := benchenv.OwnCPUSeconds()
		result := drive(conns, concurrency, duration, call)
		ownPerCall := (benchenv.OwnCPUSeconds() - ownBefore) / float64(result.count) * 1e6
		if result.err != nil {
			return fmt.Errorf("%s: %w", name, result.err)
		}
		cpuAfter, err := cpu(pid)
		if err != nil {
			return err
		}
		cpuPerCall := "-"
		if pid != 0 {
			cpuPerCall = fmt.Sprintf("%.1f µs", (cpuAfter-cpuBefore)/float64(result.count)*1e6)
		}
		benchenv.Sort(result.latencies)
		fmt.Printf("%-9s %10.0f %9s %9s %16s %16s\n", name,
			float64(result.count)/duration.Seconds(),
			benchenv.Ms(benchenv.Percentile(result.latencies, 50)),
			benchenv.Ms(benchenv.Percentile(result.latencies, 99)), cpuPerCall,
			fmt.Sprintf("%.1f µs", ownPerCall))
	}
	fmt.Printf("reproduce: cd tests/bench/read_path && go run . %s\n", strings.Join(os.Args[1:], " "))
	return nil
}

type result struct {
	count     int64
	latencies []time.Duration
	err       error
}

// drive calls `call` from `concurrency` goroutines (caller i on connection i % len(conns))
// until `d` has passed.
func drive(conns []*grpc.ClientConn, concurrency int, d time.Duration,
	call func(*grpc.ClientConn, *rand.Rand) error) result {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		out   result
		count atomic.Int64
	)
	deadline := time.Now().Add(d)
	for i := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 1))
			conn := conns[i%len(conns)]
			latencies := make([]time.Duration, 0, 1<<16)
			var err error
			for {
				start := time.Now()
				if start.After(deadline) {
					break
				}
				if err = call(conn, r); err != nil {
					break
				}
				latencies = append(latencies, time.Since(start))
			}
			count.Add(int64(len(latencies)))
			mu.Lock()
			out.latencies = append(out.latencies, latencies...)
			if err != nil && out.err == nil {
				out.err = err
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	out.count = count.Load()
	return out
}

// cpu is the CPU time of process `pid` (0: none, an external -target).
func cpu(pid int) (float64, error) {
	if pid == 0 {
		return 0, nil
	}
	return benchenv.CPUSeconds(pid)
}

// scanned is a response of which only the top-level occurrences of field 1 are counted (the run
// of GetRunResponse, the runs of ListRunsResponse), without decoding them: the load generator
// shares the machine's two cores with the server, so it spends as little CPU per response as it
// can (-decode decodes them fully instead).
type scanned struct{ field1 int }

// Scan counts the top-level occurrences of field 1.
func (s *scanned) Scan(data []byte) error {
	return benchenv.ScanFields(data, func(number protowire.Number, _ protowire.Type, _ []byte) (bool, error) {
		if number == 1 {
			s.field1++
		}
		return false, nil
	})
}
