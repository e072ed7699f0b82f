#!/usr/bin/env bash
# run_fuzzer.sh FUZZER SCRATCH CORPUS REGRESSIONS SECONDS
# Replays every file of REGRESSIONS (crashes found before: each must pass now),
# then fuzzes for SECONDS starting from CORPUS, writing new inputs to SCRATCH
# only (the repository's corpus is read-only here). Exits non-zero on any crash,
# leak, timeout or sanitizer report.
set -euo pipefail
fuzzer="$1" scratch="$2" corpus="$3" regressions="$4" seconds="$5"
mkdir -p "$scratch"
if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
  "$fuzzer" -runs=0 "$regressions"/*
fi
cd "$scratch"
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  "$scratch" "$corpus"
