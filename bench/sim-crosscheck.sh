#!/usr/bin/env bash
# sim-crosscheck.sh [TRACE...] - 'jdmcache sim' against an independent simulator (bench/refsim.py, Python's
# standard library only) on the same block-number traces: LRU and OPT hits at 1%, 5% and 10% of each trace's
# distinct blocks (SIZES=... to change), side by side, with the difference in points of hit ratio.
# Default traces: the block traces in ../shared/traces (SHARED=DIR for another folder). SimCrossCheckTest runs
# the same comparison in CI (plus synthetic traces). SKIP_BUILD=1 reuses the last build.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SKIP_BUILD:-0}" != 1 ] || [ ! -f jdmcache-cli/target/jdmcache.jar ]; then
  ./mvnw -B -q -pl jdmcache-cli -am package -DskipTests
fi
shared=${SHARED:-../shared}
sizes=${SIZES:-1%,5%,10%}
traces=("$@")
if [ ${#traces[@]} -eq 0 ]; then
  for f in multi1 multi2 multi3 sprite 2_pools ps loop; do
    [ -f "$shared/traces/$f.trace.gz" ] && traces+=("$shared/traces/$f.trace.gz")
  done
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/refsim.py --cache-blocks "$sizes" "${traces[@]}" > "$work/ref.tsv"
args=()
for t in "${traces[@]}"; do args+=(--trace "$t"); done
bin/jdmcache sim "${args[@]}" --format blocks --cache-blocks "$sizes" --policies lru,opt --tsv > "$work/sim.tsv" 2>/dev/null
python3 - "$work/ref.tsv" "$work/sim.tsv" <<'PY'
import sys
def rows(p):
    out = {}
    for l in open(p).read().splitlines()[1:]:
        t, pol, size, acc, hits, _ = l.split("\t")
        out[(t, pol, int(size))] = (int(acc), int(hits))
    return out
ref, sim = rows(sys.argv[1]), rows(sys.argv[2])
print(f"{'trace':<16} {'policy':<6} {'cache':>7} {'accesses':>9} {'refsim hits':>11} {'sim hits':>9} {'refsim':>8} {'sim':>8} {'diff (points)':>13}")
worst = 0.0
for k in ref:
    a, h = ref[k]
    a2, h2 = sim.get(k, (0, -1))
    d = 100 * (h2 / max(a2, 1) - h / max(a, 1))
    worst = max(worst, abs(d)) if k in sim else float("inf")
    print(f"{k[0]:<16} {k[1]:<6} {k[2]:>7} {a:>9} {h:>11} {h2:>9} {100*h/a:>7.2f}% {100*h2/max(a2,1):>7.2f}% {d:>13.3f}")
missing = set(sim) ^ set(ref)
print(f"largest difference: {worst:.3f} points over {len(ref)} rows" + (f"; rows in one only: {sorted(missing)}" if missing else ""))
sys.exit(0 if worst <= 0.1 and not missing else 1)
PY
