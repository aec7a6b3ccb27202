#!/usr/bin/env bash
# Time `make demo` the way a newcomer meets it: a fresh clone, an empty
# harness cache, then the same command a second time (replay from the cache).
#
# Usage: benchmarks/demo_timing.sh [WORK_DIR]
# Writes the timings to WORK_DIR/timings.txt (default WORK_DIR: a new temp folder).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
clone="$work/clone"
export HARNESS_CACHE_DIR="$work/harness-cache"
timings="$work/timings.txt"

rm -rf "$clone" "$HARNESS_CACHE_DIR"
git clone --quiet "$repo" "$clone"
cd "$clone"

stamp() { date +%s; }
{
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -m), load before start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "commit: $(git rev-parse --short HEAD)"
} > "$timings"

t0=$(stamp); make setup > "$work/setup.log" 2>&1; t1=$(stamp)
echo "setup (venv, pinned dependencies, llama.cpp compile): $((t1 - t0)) s" >> "$timings"

make weights > "$work/weights.log" 2>&1; t2=$(stamp)
echo "weights (download, join, SHA-256 check of 4 GGUF files): $((t2 - t1)) s" >> "$timings"

.venv/bin/harness run --display plain > "$work/first-run.log" 2>&1; t3=$(stamp)
echo "first run (harness run, default pool and limit): $((t3 - t2)) s" >> "$timings"

t4=$(stamp); make demo > "$work/second-run.log" 2>&1; t5=$(stamp)
echo "second make demo (replay from the cache): $((t5 - t4)) s" >> "$timings"

grep -E "Zero model calls|Model calls" "$work/first-run.log" "$work/second-run.log" >> "$timings" || true
if diff <(sed -n '/^Accuracy in %/,/^$/p' "$work/first-run.log") <(sed -n '/^Accuracy in %/,/^$/p' "$work/second-run.log") > /dev/null; then
  echo "tables of the two runs: identical" >> "$timings"
else
  echo "tables of the two runs: DIFFERENT" >> "$timings"
fi
cat "$timings"
