package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	labelport "github.com/labelport/labelport/client/go"
	labelportv1 "github.com/labelport/labelport/client/go/gen/labelport/v1"
)

// commands builds the commands afresh (their flag variables are per command line).
var commands = map[string]func() *command{
	"runs list": runsList, "runs get": runsGet, "runs rename": runsRename, "runs delete": runsDelete,
	"runs status": runsStatus, "runs cleanup": runsCleanup, "runs watch": runsWatch, "runs resume": runsResume,
	"annotate": annotateCommand, "load": loadCommand,
}

// withClient dials, runs f and closes.
func (e *env) withClient(f func(c *labelport.Client) error) error {
	c, err := e.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	return f(c)
}

func (e *env) json() bool { return e.g.output == "json" }

// reply prints what a call returned: m as JSON with -o json, else text(stdout, m); a call's
// error is returned as it is.
func reply[M proto.Message](e *env, m M, err error, text func(w io.Writer, m M) error) error {
	if err != nil {
		return err
	}
	if e.json() {
		return writeJSON(e.stdout, m)
	}
	return text(e.stdout, m)
}

// showRun prints a run in the selected format.
func (e *env) showRun(r *labelportv1.AnnotationRun) error { return reply(e, r, nil, writeRun) }

func runsList() *command {
	var state, backend, slug string
	var pageSize int
	return &command{
		path: "runs list",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&state, "state", "", "only runs in this state (pending, uploading, annotating, failed, cleaned_up)")
			fs.StringVar(&backend, "backend", "", "only runs of this backend")
			fs.StringVar(&slug, "slug", "", "only runs with this V7 dataset slug")
			fs.IntVar(&pageSize, "page-size", 0, "runs per request (server default 50)")
		},
		run: func(e *env) error {
			if err := e.want("DATASET"); err != nil {
				return err
			}
			req := &labelportv1.ListRunsRequest{
				Parent: labelport.DatasetName(e.args[0]), Backend: backend, DatasetSlug: slug, PageSize: int32(pageSize),
			}
			if state != "" {
				s, err := parseState(state)
				if err != nil {
					return err
				}
				req.State = s
			}
			return e.withClient(func(c *labelport.Client) error {
				var runs []*labelportv1.AnnotationRun
				for r, err := range c.AllRuns(e.ctx, req) {
					if err != nil {
						return err
					}
					runs = append(runs, r)
				}
				if e.json() {
					// Every page, as an array of the objects `runs get -o json` prints.
					return writeJSONArray(e.stdout, runs)
				}
				return writeRunsTable(e.stdout, runs)
			})
		},
	}
}

// nameCommand is a command taking one NAME.
func nameCommand(path string, f func(e *env, c *labelport.Client, name string) error) *command {
	return &command{path: path, run: func(e *env) error {
		if err := e.want("NAME"); err != nil {
			return err
		}
		name, err := runName(e.args[0])
		if err != nil {
			return err
		}
		return e.withClient(func(c *labelport.Client) error { return f(e, c, name) })
	}}
}

func runsGet() *command {
	return nameCommand("runs get", func(e *env, c *labelport.Client, name string) error {
		r, err := c.GetRun(e.ctx, name)
		return reply(e, r, err, writeRun)
	})
}

func runsRename() *command {
	return &command{path: "runs rename", run: func(e *env) error {
		if err := e.want("NAME", "NEW_KEY"); err != nil {
			return err
		}
		name, err := runName(e.args[0])
		if err != nil {
			return err
		}
		return e.withClient(func(c *labelport.Client) error {
			r, err := c.RenameRun(e.ctx, name, e.args[1])
			return reply(e, r, err, func(w io.Writer, r *labelportv1.AnnotationRun) error {
				_, err := fmt.Fprintf(w, "renamed %s to %s\n", name, r.GetName())
				return err
			})
		})
	}}
}

func runsDelete() *command {
	return nameCommand("runs delete", func(e *env, c *labelport.Client, name string) error {
		// -o json prints the request: DeleteRun answers nothing worth printing.
		err := c.DeleteRun(e.ctx, name)
		return reply(e, &labelportv1.DeleteRunRequest{Name: name}, err,
			func(w io.Writer, _ *labelportv1.DeleteRunRequest) error {
				_, err := fmt.Fprintf(w, "deleted %s (the V7 dataset is untouched)\n", name)
				return err
			})
	})
}

func runsStatus() *command {
	return nameCommand("runs status", func(e *env, c *labelport.Client, name string) error {
		s, err := c.GetRunStatus(e.ctx, name)
		return reply(e, s, err, writeStatus)
	})
}

func runsCleanup() *command {
	return nameCommand("runs cleanup", func(e *env, c *labelport.Client, name string) error {
		r, err := c.CleanupRun(e.ctx, name)
		return reply(e, r, err, func(w io.Writer, r *labelportv1.CleanupRunResponse) error {
			deleted := "no"
			if r.GetDatasetDeleted() {
				deleted = "yes"
			}
			_, err := fmt.Fprintf(w, "cleaned up %s: %d item(s) deleted, dataset deleted: %s\n",
				name, r.GetItemsDeleted(), deleted)
			return err
		})
	})
}

// follow watches a run until it settles, printing events; runFailed when it ends FAILED.
func (e *env) follow(c *labelport.Client, name string, after int64) error {
	var last *labelportv1.AnnotationRun
	for ev, err := range c.WatchRun(e.ctx, name, after) {
		if err != nil {
			return err
		}
		last = ev.GetRun()
		if e.json() {
			if err := writeJSONLine(e.stdout, ev); err != nil {
				return err
			}
		} else {
			fmt.Fprintln(e.stdout, watchLine(ev))
		}
	}
	if last == nil {
		var err error
		if last, err = c.GetRun(e.ctx, name); err != nil {
			return err
		}
	}
	if last.GetState() == labelportv1.RunState_RUN_STATE_FAILED {
		return runFailed{name: name, reason: last.GetFailureReason()}
	}
	return nil
}

func runsWatch() *command {
	var after int64
	c := nameCommand("runs watch", func(e *env, c *labelport.Client, name string) error {
		return e.follow(c, name, after)
	})
	c.flags = func(fs *flag.FlagSet) {
		fs.Int64Var(&after, "after", 0, "only events after this sequence number")
	}
	return c
}

func runsResume() *command {
	var wait bool
	c := nameCommand("runs resume", func(e *env, c *labelport.Client, name string) error {
		r, err := c.ResumeRun(e.ctx, name)
		if err != nil {
			return err
		}
		if wait {
			return e.follow(c, name, r.GetRevision()-1)
		}
		return e.showRun(r)
	})
	c.flags = func(fs *flag.FlagSet) {
		fs.BoolVar(&wait, "wait", false, "follow the run until it settles")
	}
	return c
}

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// pairs splits K=V values.
func pairs(flagName string, values []string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range values {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return nil, usagef("--%s wants KEY=VALUE, not %q", flagName, v)
		}
		out[k] = val
	}
	return out, nil
}

func annotateCommand() *command {
	var dataset, key, manifest, schemaFile, slug, storage, requestID, labelField, labelType, mediaField string
	var existing, metadata multiFlag
	var noWait bool
	return &command{
		path: "annotate",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&dataset, "dataset", "", "the client dataset (required)")
			fs.StringVar(&key, "key", "", "the run key, a valid identifier (required)")
			fs.StringVar(&manifest, "manifest", "", "sample manifest, JSON or JSON Lines (required)")
			fs.StringVar(&schemaFile, "schema", "", "label schema, JSON (protojson LabelSchema)")
			fs.StringVar(&labelField, "label-field", "", "shorthand schema: the label field (without --schema)")
			fs.StringVar(&labelType, "label-type", "", "shorthand schema: the label type, with --label-field")
			fs.StringVar(&slug, "slug", "", "V7 dataset slug (default: generated)")
			fs.StringVar(&storage, "external-storage", "", "V7 external storage slug (for storage_key samples)")
			fs.StringVar(&requestID, "request-id", "", "idempotency key (default: a fresh UUID)")
			fs.StringVar(&mediaField, "media-field", "", "the media field name to record")
			fs.Var(&existing, "existing-field", "FIELD=DocumentType of an existing field (repeatable; default: inferred from the manifest's labels)")
			fs.Var(&metadata, "metadata", "KEY=VALUE client metadata (repeatable)")
			fs.BoolVar(&noWait, "no-wait", false, "return once the run is created instead of following it until it settles")
		},
		run: func(e *env) error {
			if err := e.want(); err != nil {
				return err
			}
			if dataset == "" || key == "" || manifest == "" {
				return usagef("--dataset, --key and --manifest are required")
			}
			if (schemaFile == "") == (labelField == "") {
				return usagef("give either --schema or --label-field")
			}
			header := &labelportv1.CreateRunHeader{
				Parent: labelport.DatasetName(dataset), AnnoKey: key, RequestId: requestID, MediaField: mediaField,
				Darwin: &labelportv1.DarwinOptions{DatasetSlug: slug, ExternalStorage: storage},
			}
			if schemaFile != "" {
				s, err := readSchemaFile(schemaFile)
				if err != nil {
					return inputError{err}
				}
				header.LabelSchema = s
			} else {
				header.LabelField = labelField
				if labelType != "" {
					header.LabelType = &labelType
				}
			}
			md, err := pairs("metadata", metadata)
			if err != nil {
				return err
			}
			if len(md) > 0 {
				header.ClientMetadata = md
			}
			ex, err := pairs("existing-field", existing)
			if err != nil {
				return err
			}
			entries, err := readManifestFile(manifest, storage)
			if err != nil {
				return inputError{err}
			}
			samples := make([]*labelportv1.Sample, len(entries))
			var files []string
			for i, m := range entries {
				samples[i] = m.Sample
				if m.LocalFile != "" {
					files = append(files, m.LocalFile)
				}
			}
			header.ExistingFields = labelport.ExistingFields(samples)
			for _, f := range header.ExistingFields {
				if t, ok := ex[f.Field]; ok {
					f.DocumentType = t
					delete(ex, f.Field)
				}
			}
			for _, f := range slices.Sorted(maps.Keys(ex)) {
				header.ExistingFields = append(header.ExistingFields, &labelportv1.ExistingField{Field: f, DocumentType: ex[f]})
			}
			return e.withClient(func(c *labelport.Client) error {
				if len(files) > 0 {
					for _, f := range files {
						if _, err := os.Stat(f); err != nil {
							return inputError{err}
						}
					}
					uploaded, err := c.UploadFiles(e.ctx, files...)
					if err != nil {
						if _, isStatus := status.FromError(err); !isStatus {
							return inputError{err} // a local file could not be read
						}
						return err
					}
					sent := 0
					byPath := map[string]labelport.UploadedFile{}
					for _, u := range uploaded {
						byPath[u.Path] = u
						if u.Uploaded {
							sent++
						}
					}
					for _, m := range entries {
						if m.LocalFile != "" {
							ref := byPath[m.LocalFile].Media()
							if n := m.Sample.GetMedia().GetFileName(); n != "" {
								ref.FileName = n
							}
							m.Sample.Media = ref
						}
					}
					fmt.Fprintf(e.stderr, "media: %d local file(s), %d uploaded, %d already on the server\n",
						len(files), sent, len(files)-sent)
				}
				resp, err := c.CreateRun(e.ctx, header, samples)
				if err != nil {
					return err
				}
				for _, w := range resp.GetWarnings() {
					fmt.Fprintf(e.stderr, "warning: %s\n", w)
				}
				run := resp.GetRun()
				if !resp.GetCreated() {
					fmt.Fprintf(e.stderr, "request id %s was used before: returning the run it created\n", header.GetRequestId())
				}
				if !noWait && !labelport.IsSettled(run.GetState()) {
					settled, err := c.WaitRun(e.ctx, run.GetName(), nil)
					if err != nil {
						return err
					}
					run = settled
				}
				if err := e.showRun(run); err != nil {
					return err
				}
				if run.GetState() == labelportv1.RunState_RUN_STATE_FAILED {
					return runFailed{name: run.GetName(), reason: run.GetFailureReason()}
				}
				return nil
			})
		},
	}
}

func loadCommand() *command {
	var out, destField string
	var destFields multiFlag
	var cleanup bool
	return &command{
		path: "load",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&out, "out", "-", "where to write the JSON Lines of changes (- is stdout)")
			fs.StringVar(&destField, "dest-field", "", "load every field into this field as new labels (one-field schemas)")
			fs.Var(&destFields, "dest-fields", "FIELD=DEST: load a schema field into another field (repeatable)")
			fs.BoolVar(&cleanup, "cleanup", false, "clean the run up in V7 after a successful load")
		},
		run: func(e *env) error {
			if err := e.want("NAME"); err != nil {
				return err
			}
			name, err := runName(e.args[0])
			if err != nil {
				return err
			}
			dests, err := pairs("dest-fields", destFields)
			if err != nil {
				return err
			}
			req := &labelportv1.LoadAnnotationsRequest{Name: name, DestField: destField, Cleanup: cleanup}
			if len(dests) > 0 {
				req.DestFields = dests
			}
			// The summary goes to stdout when the changes go to a file, else to stderr.
			var w io.Writer = e.stdout
			summaryTo := e.stderr
			var file *os.File
			if out != "-" {
				f, err := os.Create(out)
				if err != nil {
					return inputError{err}
				}
				file = f
				w = f
				summaryTo = e.stdout
			}
			bw := bufio.NewWriter(w)
			var summary *labelportv1.LoadSummary
			err = e.withClient(func(c *labelport.Client) error {
				var err error
				summary, err = c.Load(e.ctx, req, labelport.LoadHandlers{
					Changes: func(ch *labelportv1.SampleFieldChanges) error {
						return writeJSONLine(bw, ch)
					},
				})
				return err
			})
			if ferr := bw.Flush(); ferr != nil && err == nil {
				err = inputError{ferr}
			}
			if file != nil {
				if cerr := file.Close(); cerr != nil && err == nil {
					err = inputError{cerr}
				}
			}
			if err != nil {
				return err
			}
			if e.json() {
				return writeJSON(summaryTo, summary)
			}
			return writeLoadSummary(summaryTo, summary)
		},
	}
}
