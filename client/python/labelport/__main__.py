"""labelport's command line: run management for operators and users.

    python -m labelport [--target HOST:PORT] [--token T] [--tls] [--ca FILE]
                        [--cert FILE --key FILE] [--json] COMMAND

Commands:
    list DATASET [--state S] [--slug SLUG]   runs of a dataset
    show RUN                                  one run in full
    rename RUN NEW_KEY                        give a run a new key
    delete RUN                                delete the run record (V7 untouched)
    status RUN                                V7 workflow status counts of the run's items
    cleanup RUN                               remove what the run created in V7
    watch RUN                                 follow the run until it settles
    resume RUN                                retry a FAILED run's upload

RUN is "datasets/DATASET/runs/KEY" or "DATASET/KEY". The target defaults to $LABELPORT_TARGET,
then $FIFTYONE_DARWIN_URL, then localhost:50051. Exit status: 0 on success, 1 when the server
reports an error, 2 on usage errors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Optional, Sequence

from google.protobuf import json_format

from labelport.client import DEFAULT_TARGET, Client, run_name
from labelport.errors import LabelportError
from labelport.v1 import annotation_run_pb2 as run_pb


def _run_name(value: str) -> str:
    if value.startswith("datasets/"):
        return value
    dataset, sep, key = value.rpartition("/")
    if not sep or not dataset or not key:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a run: use datasets/DATASET/runs/KEY or DATASET/KEY")
    return run_name(dataset, key)


def _state(value: str) -> int:
    name = value.upper()
    if not name.startswith("RUN_STATE_"):
        name = "RUN_STATE_" + name
    try:
        return run_pb.RunState.Value(name)
    except ValueError:
        choices = ", ".join(n.removeprefix("RUN_STATE_").lower()
                            for n in run_pb.RunState.keys()[1:])
        raise argparse.ArgumentTypeError(f"unknown state {value!r} (one of {choices})") from None


def _state_name(state: int) -> str:
    return run_pb.RunState.Name(state).removeprefix("RUN_STATE_")


def _progress(run: run_pb.AnnotationRun) -> str:
    p = run.progress
    text = (f"samples {p.samples_completed}/{p.samples_total} done "
            f"(registered {p.samples_registered}, uploaded {p.samples_uploaded}, processed "
            f"{p.samples_processed}, failed {p.samples_failed}); labels {p.labels_imported}/"
            f"{p.labels_total} imported")
    return text


def _describe(run: run_pb.AnnotationRun) -> list:
    lines = [
        f"name:          {run.name}",
        f"uid:           {run.uid}",
        f"state:         {_state_name(run.state)}",
        f"backend:       {run.backend}",
        f"dataset slug:  {run.darwin.dataset_slug}",
    ]
    if run.darwin.external_storage:
        lines.append(f"storage:       {run.darwin.external_storage}")
    lines.append(f"progress:      {_progress(run)}")
    if run.editor_url:
        lines.append(f"editor:        {run.editor_url}")
    if run.failure_reason:
        lines.append(f"failure:       {run.failure_reason}")
    for e in run.sample_errors:
        lines.append(f"sample error:  {e.sample_id} ({e.stage}): {e.message}")
    lines.append("fields:")
    for f in run.label_schema.fields:
        kind = "existing" if f.existing_field else "new"
        classes = [e.name if e.HasField("name") else "<group>" for e in f.classes.entries]
        lines.append(f"  {f.field}: {f.type} ({kind}); classes: {', '.join(classes) or '-'}")
    lines.append(f"created:       {run.create_time.ToDatetime().isoformat()}Z")
    lines.append(f"updated:       {run.update_time.ToDatetime().isoformat()}Z")
    return lines


def _to_json(message) -> dict:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m labelport", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[2:]))
    parser.add_argument("--target", help="labelport-server HOST:PORT")
    parser.add_argument("--token", default=os.environ.get("LABELPORT_TOKEN"),
                        help="bearer token (default $LABELPORT_TOKEN)")
    parser.add_argument("--tls", action="store_true", help="connect with TLS")
    parser.add_argument("--ca", help="PEM file of CA certificates to trust (implies --tls)")
    parser.add_argument("--cert", help="PEM client certificate for mTLS (implies --tls)")
    parser.add_argument("--key", help="PEM private key of --cert")
    parser.add_argument("--timeout", type=float, default=60, help="deadline of each call (s)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="runs of a dataset")
    p.add_argument("dataset")
    p.add_argument("--state", type=_state)
    p.add_argument("--slug", default="", help="only runs with this V7 dataset slug")
    for name, text in (("show", "one run in full"), ("delete", "delete the run record"),
                       ("status", "V7 status counts of the run's items"),
                       ("cleanup", "remove what the run created in V7"),
                       ("watch", "follow the run until it settles"),
                       ("resume", "retry a FAILED run's upload")):
        sub.add_parser(name, help=text).add_argument("run", type=_run_name)
    p = sub.add_parser("rename", help="give a run a new key")
    p.add_argument("run", type=_run_name)
    p.add_argument("new_key")
    return parser


def _read(path: Optional[str]) -> Optional[bytes]:
    if path is None:
        return None
    with open(path, "rb") as f:
        return f.read()


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    target = (args.target or os.environ.get("LABELPORT_TARGET")
              or os.environ.get("FIFTYONE_DARWIN_URL") or DEFAULT_TARGET)
    if (args.cert is None) != (args.key is None):
        print("error: --cert and --key go together", file=sys.stderr)
        return 2
    root, chain, key = (_read(args.ca), _read(args.cert), _read(args.key))
    out = sys.stdout
    try:
        with Client(target, token=args.token, tls=args.tls, root_certificates=root,
                    certificate_chain=chain, private_key=key,
                    timeout=args.timeout) as client:
            return _dispatch(client, args, out)
    except LabelportError as e:
        print(f"error: {e.code.name}: {e.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _dispatch(client: Client, args, out) -> int:
    cmd = args.command

    def reply(as_json: Any, text: str) -> int:
        """Prints `as_json` (JSON-ready data) with --json, else `text`; the exit code 0."""
        print(json.dumps(as_json, indent=2) if args.json else text, file=out)
        return 0

    if cmd == "list":
        runs = list(client.list_runs(args.dataset, state=args.state or 0,
                                     dataset_slug=args.slug))
        if args.json:
            json.dump([_to_json(r) for r in runs], out, indent=2)
            out.write("\n")
            return 0
        if not runs:
            print(f"no runs in dataset '{args.dataset}'", file=out)
            return 0
        width = max(len(r.anno_key) for r in runs)
        print(f"{'KEY':<{width}}  {'STATE':<11}  {'SAMPLES':>7}  {'SLUG'}", file=out)
        for r in runs:
            print(f"{r.anno_key:<{width}}  {_state_name(r.state):<11}  "
                  f"{r.progress.samples_total:>7}  {r.darwin.dataset_slug}", file=out)
        return 0
    if cmd == "show":
        run = client.get_run(args.run)
        return reply(_to_json(run), "\n".join(_describe(run)))
    if cmd == "rename":
        run = client.rename_run(args.run, args.new_key)
        return reply(_to_json(run), f"renamed to {run.name}")
    if cmd == "delete":
        client.delete_run(args.run)
        return reply({"deleted": args.run}, f"deleted {args.run}")
    if cmd == "status":
        status = client.get_run_status(args.run)
        counts = [f"{c.status}: {c.item_count}" for c in status.counts]
        return reply(_to_json(status), "\n".join([*counts, f"total: {status.total_items}"]))
    if cmd == "cleanup":
        response = client.cleanup_run(args.run)
        return reply(_to_json(response),
                     f"{response.run.name}: {_state_name(response.run.state)}; "
                     f"{response.items_deleted} V7 items deleted; V7 dataset deleted: "
                     f"{'yes' if response.dataset_deleted else 'no'}")
    if cmd == "watch":
        def show(run: run_pb.AnnotationRun) -> None:
            if args.json:
                print(json.dumps(_to_json(run)), file=out, flush=True)
            else:
                print(f"{_state_name(run.state):<11} {_progress(run)}", file=out, flush=True)

        run = client.wait_until_settled(args.run, timeout=None, on_event=show)
        if run.state == run_pb.RUN_STATE_FAILED:
            print(f"run failed: {run.failure_reason}", file=sys.stderr)
            return 1
        return 0
    if cmd == "resume":
        run = client.resume_run(args.run)
        return reply(_to_json(run), f"{run.name}: {_state_name(run.state)}")
    raise AssertionError(cmd)


if __name__ == "__main__":
    sys.exit(main())
