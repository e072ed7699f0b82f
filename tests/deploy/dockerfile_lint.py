"""A small Dockerfile checker for deploy/Dockerfile (hadolint is not packaged in Debian 12).

`lint(text)` returns the rule violations of a Dockerfile as strings "DFnnn: message"; an empty
list means it passes. It understands what deploy/Dockerfile uses: comments, parser directives,
backslash line continuations, `FROM image[:tag][@digest] [AS name]`, JSON (exec) and shell forms.

Rules:
  DF001 every FROM names an image pinned by a tag (not `latest`, not untagged) or a digest
  DF002 multi-stage: at least two stages, the last one a `-slim` Debian image
  DF003 the final stage runs as a numeric, non-root USER (uid 10001)
  DF004 no ADD (COPY is explicit; ADD fetches URLs and unpacks archives)
  DF005 the final stage has a HEALTHCHECK, or a `# No HEALTHCHECK:` comment giving the reason
  DF006 apt-get: update and install in the same RUN, --no-install-recommends, lists removed
  DF007 ENTRYPOINT in exec (JSON array) form
  DF008 the final stage EXPOSEs the gRPC port 50051
  DF009 the final stage declares a VOLUME for the data directory
  DF010 no secret-looking names in ENV or ARG (KEY, TOKEN, PASSWORD, SECRET)
  DF011 no `curl | sh`-style pipes into a shell, no sudo
  DF012 COPY --from names an earlier stage
  DF013 the final stage installs no -dev packages
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

GRPC_PORT = "50051"
RUNTIME_UID = "10001"
SECRET_NAME = re.compile(r"(API_?KEY|TOKEN|PASSWORD|SECRET)", re.IGNORECASE)


@dataclass
class Instruction:
    keyword: str  # upper case, e.g. "RUN"
    args: str  # the arguments with continuations joined
    line: int  # 1-based line of the keyword


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


def parse(text: str) -> list[Stage]:
    """Splits a Dockerfile into stages of instructions (comments kept per stage)."""
    stages: list[Stage] = []
    preamble_comments: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        raw = lines[i]
        stripped = raw.strip()
        start = i + 1
        i += 1
        if not stripped:
            continue
        if stripped.startswith("#"):
            (stages[-1].comments if stages else preamble_comments).append(stripped)
            continue
        parts = [stripped]
        while parts[-1].endswith("\\") and i < len(lines):
            parts[-1] = parts[-1][:-1]
            nxt = lines[i].strip()
            i += 1
            if nxt.startswith("#"):
                continue  # comment lines inside a continuation are dropped by Docker
            parts.append(nxt)
        joined = " ".join(p.strip() for p in parts if p.strip())
        keyword, _, args = joined.partition(" ")
        inst = Instruction(keyword.upper(), args.strip(), start)
        if inst.keyword == "FROM":
            m = re.match(r"^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$", inst.args, re.I)
            image, name = (m.group(1), m.group(2)) if m else (inst.args, None)
            stages.append(Stage(image=image, name=name))
        elif stages:
            stages[-1].instructions.append(inst)
        # Instructions before the first FROM (ARG) are ignored by these rules.
    return stages


def _image_pinned(image: str) -> bool:
    if "@sha256:" in image:
        return True
    name = image.rsplit("/", 1)[-1]
    if ":" not in name:
        return False
    tag = name.split(":", 1)[1]
    return tag != "latest" and bool(tag)


def _apt_packages(run_args: str) -> list[str]:
    """The package names of `apt-get install` commands in one RUN."""
    packages: list[str] = []
    for command in re.split(r"&&|;|\|\|", run_args):
        words = command.split()
        if len(words) >= 2 and words[0] == "apt-get" and "install" in words:
            after = words[words.index("install") + 1 :]
            packages += [w for w in after if not w.startswith("-")]
    return packages


def runtime_packages(text: str) -> list[str]:
    """Packages apt-get installs in the final stage."""
    stages = parse(text)
    if not stages:
        return []
    packages: list[str] = []
    for inst in stages[-1].instructions:
        if inst.keyword == "RUN":
            packages += _apt_packages(inst.args)
    return packages


def final_stage_env(text: str) -> dict[str, str]:
    """ENV of the final stage (KEY=VALUE form)."""
    env: dict[str, str] = {}
    stages = parse(text)
    for inst in stages[-1].instructions if stages else []:
        if inst.keyword == "ENV":
            for key, value in re.findall(r'(\w+)=("[^"]*"|\S+)', inst.args):
                env[key] = value.strip('"')
    return env


def lint(text: str) -> list[str]:
    problems: list[str] = []
    stages = parse(text)
    if not stages:
        return ["DF002: no FROM instruction"]

    names: list[str] = []
    for stage in stages:
        if stage.image.lower() not in names and not _image_pinned(stage.image):
            problems.append(f"DF001: base image {stage.image!r} is not pinned by tag or digest")
        if stage.name:
            names.append(stage.name.lower())

    final = stages[-1]
    if len(stages) < 2:
        problems.append("DF002: not a multi-stage build (one FROM)")
    if not re.match(r"^debian:[^@]*-slim(@sha256:[0-9a-f]+)?$", final.image):
        problems.append(f"DF002: final stage {final.image!r} is not a Debian -slim image")

    users = [inst.args for inst in final.instructions if inst.keyword == "USER"]
    if not users:
        problems.append("DF003: final stage has no USER (runs as root)")
    else:
        uid = users[-1].split(":", 1)[0]
        if not uid.isdigit():
            problems.append(f"DF003: USER {users[-1]!r} is not numeric (runAsNonRoot needs a uid)")
        elif uid == "0":
            problems.append("DF003: USER is root")
        elif uid != RUNTIME_UID:
            problems.append(f"DF003: USER {uid} is not the documented uid {RUNTIME_UID}")

    for stage in stages:
        for inst in stage.instructions:
            if inst.keyword == "ADD":
                kind = "a URL" if re.search(r"\b(https?|git)://|git@", inst.args) else "files"
                problems.append(f"DF004: line {inst.line}: ADD of {kind}; use COPY")

    has_healthcheck = any(inst.keyword == "HEALTHCHECK" for inst in final.instructions)
    reason = [c for c in final.comments if re.match(r"^#\s*No HEALTHCHECK:\s*\S", c)]
    if not has_healthcheck and not reason:
        problems.append("DF005: no HEALTHCHECK and no '# No HEALTHCHECK: <reason>' comment")

    for stage in stages:
        for inst in stage.instructions:
            if inst.keyword != "RUN" or "apt-get" not in inst.args:
                continue
            installs = bool(re.search(r"apt-get\s+(?:-\S+\s+)*install\b", inst.args))
            if "apt-get update" in inst.args and not installs:
                problems.append(f"DF006: line {inst.line}: apt-get update without install")
            if installs:
                if "apt-get update" not in inst.args:
                    problems.append(f"DF006: line {inst.line}: install without update")
                if "--no-install-recommends" not in inst.args:
                    problems.append(f"DF006: line {inst.line}: no --no-install-recommends")
                if "rm -rf /var/lib/apt/lists" not in inst.args:
                    problems.append(f"DF006: line {inst.line}: apt lists not removed")

    entrypoints = [inst for inst in final.instructions if inst.keyword == "ENTRYPOINT"]
    if not entrypoints:
        problems.append("DF007: final stage has no ENTRYPOINT")
    else:
        try:
            form = json.loads(entrypoints[-1].args)
            if not isinstance(form, list) or not form:
                raise ValueError
        except ValueError:
            problems.append("DF007: ENTRYPOINT is not in exec (JSON array) form")

    exposed = [p for inst in final.instructions if inst.keyword == "EXPOSE"
               for p in inst.args.split()]
    if not any(p.split("/")[0] == GRPC_PORT for p in exposed):
        problems.append(f"DF008: final stage does not EXPOSE {GRPC_PORT}")

    if not any(inst.keyword == "VOLUME" for inst in final.instructions):
        problems.append("DF009: final stage declares no VOLUME for the data directory")

    for stage in stages:
        for inst in stage.instructions:
            if inst.keyword in ("ENV", "ARG"):
                for key in re.findall(r"(\w+)(?:=|\s|$)", inst.args):
                    if SECRET_NAME.search(key):
                        problems.append(f"DF010: line {inst.line}: secret-like {inst.keyword} {key}")

    for stage in stages:
        for inst in stage.instructions:
            if inst.keyword == "RUN":
                if re.search(r"\|\s*(ba|da|z)?sh\b", inst.args):
                    problems.append(f"DF011: line {inst.line}: pipes into a shell")
                if re.search(r"\bsudo\b", inst.args):
                    problems.append(f"DF011: line {inst.line}: sudo")

    seen: list[str] = []
    for stage in stages:
        for inst in stage.instructions:
            if inst.keyword == "COPY":
                m = re.search(r"--from=(\S+)", inst.args)
                if m and not m.group(1).isdigit() and m.group(1).lower() not in seen:
                    problems.append(f"DF012: line {inst.line}: COPY --from={m.group(1)} "
                                    "names no earlier stage")
        if stage.name:
            seen.append(stage.name.lower())

    dev = [p for p in runtime_packages(text) if p.endswith("-dev")]
    if dev:
        problems.append(f"DF013: final stage installs development packages {dev}")
    return problems
