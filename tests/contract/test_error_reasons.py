"""proto/labelport/v1/error_reason.proto lists every google.rpc.ErrorInfo.reason the server sends.

The server code (service/) passes reasons as UPPER_SNAKE string literals (directly to
common::InvalidArgument / NotFound / AlreadyExists / WithDetails, through small helpers, or
through named constants). Every such literal must be a value of the ErrorReason enum (without its
ERROR_REASON_ prefix), every enum value must still be sent somewhere, and each value's comment
must start with its gRPC status code. No build needed: both sides are read as text.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SERVICE = REPO / "service"
ENUM_FILE = REPO / "proto" / "labelport" / "v1" / "error_reason.proto"
PREFIX = "ERROR_REASON_"

# gRPC status code names: service/ spells them as metric labels, never as reasons.
GRPC_CODES = {
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
    "UNAUTHENTICATED",
}
# Other UPPER_SNAKE literals of service/ that are not reasons, by file: strings of V7's API.
NOT_REASONS = {
    "service/backend/darwin/darwin_client.cc": {"INSUFFICIENT_REMAINING_STORAGE"},
    # The V7 limiter is not slowed down by V7's storage-quota 429 (waiting does not cure it).
    "service/server/http_stacks.cc": {"INSUFFICIENT_REMAINING_STORAGE"},
}
# Flag environment variables (LABELPORT_<FLAG>, FIFTYONE_DARWIN_API_KEY).
ENV_NAME = re.compile(r"^(LABELPORT|FIFTYONE)_")
LITERAL = re.compile(r'"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"')


def reasons_in(text: str, path: str) -> dict[str, int]:
    """UPPER_SNAKE string literals of one C++ file that are reasons: {reason: first line}."""
    found: dict[str, int] = {}
    for m in LITERAL.finditer(text):
        value = m.group(1)
        if value in GRPC_CODES or ENV_NAME.match(value) or value in NOT_REASONS.get(path, ()):
            continue
        found.setdefault(value, text.count("\n", 0, m.start()) + 1)
    return found


def service_reasons() -> dict[str, str]:
    """{reason: "file:line"} over service/."""
    found: dict[str, str] = {}
    for path in sorted(SERVICE.rglob("*")):
        if path.suffix not in (".cc", ".h"):
            continue
        rel = path.relative_to(REPO).as_posix()
        for reason, line in reasons_in(path.read_text(), rel).items():
            found.setdefault(reason, f"{rel}:{line}")
    return found


def enum_values() -> dict[str, str]:
    """{reason (without prefix): the comment above it} of the ErrorReason enum."""
    values: dict[str, str] = {}
    comment: list[str] = []
    for line in ENUM_FILE.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("//"):
            comment.append(stripped[2:].strip())
            continue
        m = re.match(rf"^{PREFIX}(\w+) = (\d+);$", stripped)
        if m:
            values[m.group(1)] = " ".join(comment)
        comment = []
    return values


def test_the_scanner_finds_reasons_however_they_are_passed():
    snippet = '''
      return common::InvalidArgument("header.anno_key", "NEW_REASON_ONE", "msg");
      inline constexpr absl::string_view kSomeReason = "NEW_REASON_TWO";
      return Bad("NEW_REASON_THREE", absl::StrCat("x"));
      // env: "LABELPORT_LISTEN", metric label "NOT_FOUND"
    '''
    assert set(reasons_in(snippet, "service/x.cc")) == {
        "NEW_REASON_ONE", "NEW_REASON_TWO", "NEW_REASON_THREE"}


def test_the_enum_and_the_server_are_not_empty():
    assert len(enum_values()) > 50
    sent = service_reasons()
    # Reasons passed through a named constant and through helpers are seen too.
    assert {"MEDIA_PATH_NOT_ALLOWED", "MEDIA_URL_DESTINATION_FORBIDDEN", "RUN_NOT_FOUND",
            "LABEL_ID_REQUIRED"} <= set(sent)


def test_every_reason_the_server_sends_is_in_the_enum():
    values = enum_values()
    missing = {r: where for r, where in service_reasons().items() if r not in values}
    assert not missing, (
        "ErrorInfo reasons used in service/ but missing from the ErrorReason enum "
        f"(add them to {ENUM_FILE.relative_to(REPO)} with their code and meaning): {missing}")


def test_every_enum_value_is_still_sent():
    sent = service_reasons()
    stale = sorted(r for r in enum_values() if r != "UNSPECIFIED" and r not in sent)
    assert not stale, f"ErrorReason values no code in service/ sends any more: {stale}"


def test_each_value_states_its_status_code_and_meaning():
    for reason, comment in enum_values().items():
        if reason == "UNSPECIFIED":
            continue
        code, _, meaning = comment.partition(":")
        assert code in GRPC_CODES - {"OK"}, f"{PREFIX}{reason}: comment must start 'CODE: ...'"
        assert len(meaning.strip()) > 10, f"{PREFIX}{reason}: say what the reason means"


def test_reasons_follow_the_error_info_rules():
    # google.rpc.ErrorInfo.reason: UPPER_SNAKE_CASE, at most 63 characters.
    for reason in enum_values():
        assert re.fullmatch(r"[A-Z][A-Z0-9_]+[A-Z0-9]", reason), reason
        assert len(reason) <= 63, reason
