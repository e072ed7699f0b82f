// Command labelportctl manages labelport annotation runs from the shell.
//
//	labelportctl [global flags] runs list DATASET
//	labelportctl runs get|status|cleanup|delete|watch|resume NAME
//	labelportctl runs rename NAME NEW_KEY
//	labelportctl annotate --dataset D --key K --manifest samples.jsonl --schema schema.json
//	labelportctl load NAME [--out changes.jsonl]
//
// NAME is "datasets/{dataset}/runs/{anno_key}" or the shorthand "{dataset}/{anno_key}".
// Global flags may appear anywhere: --addr (env LABELPORT_ADDR), --token (env
// LABELPORT_TOKEN), --tls, --ca-file, --cert-file/--key-file (mTLS), --timeout, -o table|json.
//
// JSON output (-o json) is the proto3 JSON mapping with .proto field names. A command about one
// run (runs get, rename, resume, annotate) prints that AnnotationRun object; runs list prints a
// JSON array of such objects (every page); runs status, runs cleanup and load print their
// response messages; runs watch prints one WatchRunResponse per line.
//
// Exit codes: 0 success; 1 usage or local input error; 2 server error (the status code and
// message are printed); 3 the run settled in state FAILED (annotate, runs watch/resume --wait).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	labelport "github.com/labelport/labelport/client/go"
)

// Exit codes.
const (
	exitOK        = 0
	exitUsage     = 1
	exitServer    = 2
	exitRunFailed = 3
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

const usageText = `usage: labelportctl [global flags] COMMAND [args]

Commands:
  runs list DATASET            list the runs of a dataset [--state S] [--backend B] [--slug S]
  runs get NAME                show one run
  runs rename NAME NEW_KEY     give a run a new key
  runs delete NAME             delete the run record (V7 data is untouched)
  runs status NAME             V7 workflow status counts of the run's items
  runs cleanup NAME            remove what the run created in V7
  runs watch NAME              follow a run until it settles [--after SEQ]
  runs resume NAME             resume a FAILED run [--wait]
  annotate                     create a run from a sample manifest and a label schema
                               --dataset D --key K --manifest F [--schema F | --label-field F --label-type T]
                               [--slug S] [--external-storage S] [--request-id ID] [--existing-field F=DocType]...
                               [--metadata K=V]... [--no-wait]
  load NAME                    load the annotations back as JSON Lines of per-sample changes
                               [--out F] [--dest-field F] [--cleanup]

NAME is datasets/{dataset}/runs/{anno_key} or {dataset}/{anno_key}.

Global flags (anywhere on the line, before or after the command):
  --addr HOST:PORT   server address (env LABELPORT_ADDR, default localhost:50051)
  --token T          bearer token (env LABELPORT_TOKEN)
  --tls              connect with TLS (system roots)
  --ca-file F        connect with TLS trusting the PEM CA certificates in F
  --cert-file F      with --key-file: present this PEM client certificate (mTLS; implies --tls)
  --key-file F       the PEM private key of --cert-file
  --timeout D        deadline of each call (default 60s; streams are unbounded)
  -o table|json      output format (default table); with json, a run is an AnnotationRun
                     object and runs list prints an array of them

Exit codes: 0 ok, 1 usage or input error, 2 server error, 3 the run settled FAILED.
`

// globals are the flags every command accepts.
type globals struct {
	addr     string
	token    string
	tls      bool
	caFile   string
	certFile string
	keyFile  string
	timeout  time.Duration
	output   string
}

func (g *globals) register(fs *flag.FlagSet, getenv func(string) string) {
	addr := getenv("LABELPORT_ADDR")
	if addr == "" {
		addr = "localhost:50051"
	}
	fs.StringVar(&g.addr, "addr", addr, "server address HOST:PORT")
	fs.StringVar(&g.token, "token", getenv("LABELPORT_TOKEN"), "bearer token")
	fs.BoolVar(&g.tls, "tls", false, "connect with TLS")
	fs.StringVar(&g.caFile, "ca-file", "", "PEM CA certificates to trust (implies --tls)")
	fs.StringVar(&g.certFile, "cert-file", "", "PEM client certificate for mTLS (implies --tls)")
	fs.StringVar(&g.keyFile, "key-file", "", "PEM private key of --cert-file")
	fs.DurationVar(&g.timeout, "timeout", labelport.DefaultTimeout, "deadline of each call")
	fs.StringVar(&g.output, "o", "table", "output: table or json")
}

// env is what a command runs with.
type env struct {
	ctx    context.Context
	g      *globals
	stdout io.Writer
	stderr io.Writer
	args   []string // positional arguments
}

// usageError is a command-line mistake (exit 1, usage hint).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// inputError is a local problem (unreadable or invalid manifest, schema, output file): exit 1.
type inputError struct{ err error }

func (e inputError) Error() string { return e.err.Error() }
func (e inputError) Unwrap() error { return e.err }

// runFailed reports a run that settled FAILED: exit 3.
type runFailed struct{ name, reason string }

func (e runFailed) Error() string { return fmt.Sprintf("run %s FAILED: %s", e.name, e.reason) }

type command struct {
	path  string                 // e.g. "runs list"
	flags func(fs *flag.FlagSet) // command flags, registered before parsing
	run   func(e *env) error
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usageText)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	// Global flags may come before the command: they are set aside and parsed with the
	// command's own flags below.
	leading, words, err := splitLeadingGlobals(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usageText)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "labelportctl: %v (global flags only before the command; see labelportctl --help)\n", err)
		return exitUsage
	}
	if len(words) == 0 {
		fmt.Fprint(stderr, "labelportctl: no command\n\n"+usageText)
		return exitUsage
	}
	path, rest := words[0], words[1:]
	if words[0] == "runs" {
		// ... and between "runs" and its subcommand.
		between, sub, err := splitLeadingGlobals(words[1:], getenv)
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "labelportctl runs: %v (see labelportctl --help)\n", err)
			return exitUsage
		}
		if len(sub) == 0 || errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, "labelportctl: runs needs a subcommand\n\n"+usageText)
			return exitUsage
		}
		leading = append(leading, between...)
		path, rest = "runs "+sub[0], sub[1:]
	}
	rest = append(leading, rest...)
	newCmd := commands[path]
	if newCmd == nil {
		fmt.Fprintf(stderr, "labelportctl: unknown command %q\n\n%s", path, usageText)
		return exitUsage
	}
	cmd := newCmd()
	fs := flag.NewFlagSet("labelportctl "+cmd.path, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	g := &globals{}
	g.register(fs, getenv)
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	positional, err := parseInterleaved(fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, "usage of labelportctl %s:\n", cmd.path)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "labelportctl %s: %v (see labelportctl --help)\n", cmd.path, err)
		return exitUsage
	}
	if g.output != "table" && g.output != "json" {
		fmt.Fprintf(stderr, "labelportctl: -o must be table or json, not %q\n", g.output)
		return exitUsage
	}
	err = cmd.run(&env{ctx: ctx, g: g, stdout: stdout, stderr: stderr, args: positional})
	return report(err, cmd.path, stderr)
}

// report prints err and maps it to an exit code.
func report(err error, path string, stderr io.Writer) int {
	var ue usageError
	var ie inputError
	var rf runFailed
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "labelportctl %s: %s (see labelportctl --help)\n", path, ue.msg)
		return exitUsage
	case errors.As(err, &ie):
		fmt.Fprintf(stderr, "labelportctl %s: %v\n", path, ie.err)
		return exitUsage
	case errors.As(err, &rf):
		fmt.Fprintf(stderr, "labelportctl %s: %v\n", path, rf)
		return exitRunFailed
	default:
		fmt.Fprintf(stderr, "labelportctl %s: server error: %s\n", path, labelport.Describe(err))
		return exitServer
	}
}

// splitLeadingGlobals splits the global flags that precede the command ("labelportctl --addr X
// -o json runs list D") from the rest of the line, which starts with the command. A "--"
// ending the leading flags is dropped. A flag that is not global is an error there: command
// flags follow the command.
func splitLeadingGlobals(args []string, getenv func(string) string) (leading, rest []string, err error) {
	fs := flag.NewFlagSet("labelportctl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	(&globals{}).register(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	rest = fs.Args()
	leading = slices.Clone(args[:len(args)-len(rest)])
	if n := len(leading); n > 0 && leading[n-1] == "--" {
		leading = leading[:n-1]
	}
	return leading, rest, nil
}

// parseInterleaved parses flags that may come before, between or after positional arguments
// ("--" ends flag parsing).
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// dial connects with the global flags.
func (e *env) dial() (*labelport.Client, error) {
	opts := []labelport.Option{labelport.WithTimeout(e.g.timeout), labelport.WithUserAgent("labelportctl")}
	switch {
	case e.g.caFile != "":
		opts = append(opts, labelport.WithCAFile(e.g.caFile))
	case e.g.tls:
		opts = append(opts, labelport.WithTLS(nil))
	default:
		opts = append(opts, labelport.WithInsecure())
	}
	if (e.g.certFile == "") != (e.g.keyFile == "") {
		return nil, usagef("--cert-file and --key-file go together")
	}
	if e.g.certFile != "" {
		opts = append(opts, labelport.WithClientCertificate(e.g.certFile, e.g.keyFile))
	}
	if e.g.token != "" {
		opts = append(opts, labelport.WithBearerToken(e.g.token))
	}
	ctx, cancel := context.WithTimeout(e.ctx, min(e.g.timeout, 15*time.Second))
	defer cancel()
	c, err := labelport.Dial(ctx, e.g.addr, opts...)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return nil, status.Errorf(codes.Unavailable, "cannot reach labelport-server at %s", e.g.addr)
		}
		return nil, inputError{err}
	}
	return c, nil
}

// runName resolves a NAME argument.
func runName(arg string) (string, error) {
	d, k, err := labelport.ParseRunName(arg)
	if err != nil {
		return "", usageError{strings.TrimPrefix(err.Error(), "labelport: ")}
	}
	return labelport.RunName(d, k), nil
}

// want checks the number of positional arguments.
func (e *env) want(names ...string) error {
	if len(e.args) != len(names) {
		return usagef("expects %s, got %d argument(s)", strings.Join(names, " "), len(e.args))
	}
	return nil
}
