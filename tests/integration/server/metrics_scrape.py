"""Reading labelport-server's Prometheus endpoint in tests: where it listens (from its start-up
log line) and its samples."""

from __future__ import annotations

import re
import urllib.request

from .waiting import wait_until

SAMPLE_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def metrics_url(server) -> str:
    """The /metrics URL the server logged at start-up (it listens on a free port)."""
    found = wait_until(lambda: re.search(r"metrics on (http://\S+/metrics)", server.log()), 10,
                       "the 'metrics on' line", details=server.stderr)
    return found.group(1)


def scrape(url: str) -> list:
    """[(name, {label: value}, value)] of every sample in the text exposition."""
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200
        text = resp.read().decode()
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE_LINE.match(line)
        assert m, f"not a sample line: {line!r}"
        samples.append((m.group(1), dict(LABEL.findall(m.group(3) or "")), float(m.group(4))))
    return samples


def value(samples: list, name: str, **labels) -> float:
    """The sum of `name` over the samples whose labels include `labels` (0 when none)."""
    return sum(v for n, lbl, v in samples if n == name and labels.items() <= lbl.items())
