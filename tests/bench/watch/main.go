// Command watch measures WatchRun at scale: the CPU that idle watchers cost the server, and how
// fast a change of the run reaches every watcher.
//
// It starts the built labelport-server on a fresh SQLite store (no V7 key: nothing changes the
// run but this benchmark), creates one run and opens -watchers WatchRun streams on it over
// -connections HTTP/2 connections. Then:
//
//  1. idle: the server's CPU time (user + system, from /proc/<pid>/stat) over -idle while
//     every watcher waits, beside the same measurement before any watcher connected;
//  2. changes: -rounds times, renames the run (a change of its record, which reaches watchers
//     the same way as a state change by the upload worker) and waits until every watcher has
//     the event; the latency of each delivery is the time from the RenameRun call's start to
//     the event's arrival at the watcher. Prints p50, p99 and the maximum over all deliveries.
//
// Not a test; see README.md.
//
//	cd tests/bench/watch && go run .
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protowire"

	labelport "github.com/labelport/labelport/client/go"
	labelportv1 "github.com/labelport/labelport/client/go/gen/labelport/v1"
	"github.com/labelport/labelport/tests/bench/internal/benchenv"
)

const dataset = "bench"

func main() {
	server := benchenv.ServerFlags()
	watchers := flag.Int("watchers", 1000, "WatchRun streams on the run")
	connections := flag.Int("connections", 10, "HTTP/2 connections the streams share")
	idle := flag.Duration("idle", 10*time.Second, "idle time over which server CPU is measured")
	rounds := flag.Int("rounds", 20, "changes to deliver")
	pause := flag.Duration("pause", 200*time.Millisecond, "pause between changes")
	flag.Parse()
	if err := run(server, *watchers, *connections, *idle, *rounds, *pause); err != nil {
		fmt.Fprintln(os.Stderr, "watch:", err)
		os.Exit(1)
	}
}

// idleCPU is the CPU time process `pid` spends over `idle`, measured after a short settling time.
func idleCPU(pid int, idle time.Duration) (float64, error) {
	time.Sleep(2 * time.Second)
	before, err := benchenv.CPUSeconds(pid)
	if err != nil {
		return 0, err
	}
	time.Sleep(idle)
	after, err := benchenv.CPUSeconds(pid)
	return after - before, err
}

// event is one delivery to one watcher.
type event struct {
	sequence int64
	at       time.Time
}

func run(server *benchenv.ServerCommand, watchers, connections int, idle time.Duration, rounds int,
	pause time.Duration) error {
	s, err := server.Start()
	if err != nil {
		return err
	}
	defer s.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client, err := labelport.Dial(ctx, s.Address, labelport.WithInsecure())
	if err != nil {
		return err
	}
	defer client.Close()
	names, err := benchenv.SeedRuns(ctx, client, dataset, 1)
	if err != nil {
		return err
	}

	// The same idle time without watchers first: what the server costs anyway (its readiness
	// check and replica heartbeat tick every few seconds).
	baseline, err := idleCPU(s.Pid(), idle)
	if err != nil {
		return err
	}

	start := time.Now()
	conns, closeConns, err := benchenv.Connections(s.Address, connections)
	if err != nil {
		return err
	}
	defer closeConns()
	// Each watcher reports every event on its own channel.
	events := make([]chan event, watchers)
	var failed sync.Once
	failure := make(chan error, 1)
	for i := range watchers {
		events[i] = make(chan event, rounds+2)
		stream, err := conns[i%connections].NewStream(ctx, &grpc.StreamDesc{ServerStreams: true},
			labelportv1.AnnotationService_WatchRun_FullMethodName, grpc.ForceCodec(benchenv.ScanCodec{}))
		if err != nil {
			return err
		}
		if err := stream.SendMsg(&labelportv1.WatchRunRequest{Name: names[0]}); err != nil {
			return err
		}
		if err := stream.CloseSend(); err != nil {
			return err
		}
		go func() {
			for {
				var got sequenceOnly
				if err := stream.RecvMsg(&got); err != nil {
					if ctx.Err() == nil {
						failed.Do(func() { failure <- fmt.Errorf("watcher %d: %w", i, err) })
					}
					return
				}
				events[i] <- event{sequence: got.sequence, at: time.Now()}
			}
		}()
	}
	// await waits until every watcher has the event with `sequence`; returns the deliveries.
	await := func(sequence int64) ([]time.Time, error) {
		arrivals := make([]time.Time, watchers)
		deadline := time.After(60 * time.Second)
		for i := range watchers {
			for {
				select {
				case e := <-events[i]:
					if e.sequence < sequence {
						continue
					}
					if e.sequence > sequence {
						return nil, fmt.Errorf("watcher %d got sequence %d, expected %d", i, e.sequence, sequence)
					}
					arrivals[i] = e.at
				case err := <-failure:
					return nil, err
				case <-deadline:
					return nil, fmt.Errorf("watcher %d: no event %d within 60 s", i, sequence)
				}
				break
			}
		}
		return arrivals, nil
	}
	if _, err := await(1); err != nil {
		return err
	}
	fmt.Printf("watch: %d watchers of one run on %d connections, all following after %s\n",
		watchers, connections, time.Since(start).Round(time.Millisecond))

	withWatchers, err := idleCPU(s.Pid(), idle)
	if err != nil {
		return err
	}
	fmt.Printf("idle: server CPU %.2f s over %s with %d watchers (%.2f s with none)\n",
		withWatchers, idle, watchers, baseline)

	stub := client.Stub()
	keys := []string{"run_000000", "run_000000_renamed"}
	var latencies, lasts []time.Duration
	serverBefore, err := benchenv.CPUSeconds(s.Pid())
	if err != nil {
		return err
	}
	clientBefore := benchenv.OwnCPUSeconds()
	for round := range rounds {
		from, to := keys[round%2], keys[(round+1)%2]
		sent := time.Now()
		renamed, err := stub.RenameRun(ctx, &labelportv1.RenameRunRequest{
			Name: labelport.RunName(dataset, from), NewAnnoKey: to})
		if err != nil {
			return fmt.Errorf("round %d: %s", round, labelport.Describe(err))
		}
		arrivals, err := await(renamed.GetRun().GetRevision())
		if err != nil {
			return fmt.Errorf("round %d: %w", round, err)
		}
		last := time.Duration(0)
		for _, at := range arrivals {
			latencies = append(latencies, at.Sub(sent))
			last = max(last, at.Sub(sent))
		}
		lasts = append(lasts, last)
		time.Sleep(pause)
	}
	serverAfter, err := benchenv.CPUSeconds(s.Pid())
	if err != nil {
		return err
	}
	clientCPU := benchenv.OwnCPUSeconds() - clientBefore
	benchenv.Sort(latencies)
	benchenv.Sort(lasts)
	fmt.Printf("changes: %d rounds x %d watchers = %d deliveries; change to watcher p50 %s ms, "+
		"p99 %s ms, max %s ms\n", rounds, watchers, len(latencies),
		benchenv.Ms(benchenv.Percentile(latencies, 50)), benchenv.Ms(benchenv.Percentile(latencies, 99)),
		benchenv.Ms(latencies[len(latencies)-1]))
	fmt.Printf("per change: last watcher reached after p50 %s ms; CPU per delivery: server %.1f µs, "+
		"this load generator %.1f µs\n", benchenv.Ms(benchenv.Percentile(lasts, 50)),
		(serverAfter-serverBefore)/float64(len(latencies))*1e6, clientCPU/float64(len(latencies))*1e6)
	fmt.Printf("reproduce: cd tests/bench/watch && go run . %s\n", strings.Join(os.Args[1:], " "))
	return nil
}

// sequenceOnly is a WatchRunResponse of which only the sequence number is decoded: the load
// generator shares the machine's two cores with the server, so it spends as little CPU per
// event as it can (a full decode of the run would cost more than the server's delivery).
type sequenceOnly struct{ sequence int64 }

// Scan decodes WatchRunResponse.sequence and nothing else.
func (out *sequenceOnly) Scan(data []byte) error {
	found := false
	err := benchenv.ScanFields(data, func(number protowire.Number, kind protowire.Type, value []byte) (bool, error) {
		if number != 1 || kind != protowire.VarintType { // WatchRunResponse.sequence
			return false, nil
		}
		sequence, m := protowire.ConsumeVarint(value)
		if m < 0 {
			return true, protowire.ParseError(m)
		}
		out.sequence, found = int64(sequence), true
		return true, nil
	})
	if err == nil && !found {
		err = fmt.Errorf("a WatchRunResponse without sequence")
	}
	return err
}
