#!/usr/bin/env bash
# The policy league table: 'jdmcache sim' over the synthetic set, the real traces in ../shared/traces
# (block-number traces; the two CSV samples are too short to judge a policy) and the traces of real programs
# recorded through 'serve --trace' in bench/traces (bench/record-traces.sh; 64 KiB blocks), every policy, cache
# sizes of 1%, 5% and 10% of each trace's distinct blocks. Hit ratio per policy, its ratio to LRU and OPT, fills.
#   bench/policy-sim.sh [sim options...]   e.g. --tsv, --plot curves.svg, --policies lru,smq,opt
# Options replace the defaults they name (--cache-blocks 4096 runs the synthetic set at its reference size).
# SKIP_BUILD=1 reuses the last build; SHARED=DIR points at another shared folder; SYNTH_ACCESSES=N sizes the
# synthetic traces (default 2,000,000).
set -euo pipefail
export JDMCACHE_SIM_TIMING=${JDMCACHE_SIM_TIMING:-1}
cd "$(dirname "$0")/.."

if [ "${SKIP_BUILD:-0}" != 1 ] || [ ! -f jdmcache-cli/target/jdmcache.jar ]; then
  ./mvnw -B -q -pl jdmcache-cli -am package -DskipTests
fi
shared=${SHARED:-../shared}
n=${SYNTH_ACCESSES:-2000000}
traces=()
for s in zipf-0.9 zipf-1.2 zipf-0.9-local zipf+scan hot+scan loop phased; do
  traces+=(--trace "synthetic:$s:$n")
done
for f in multi1 multi2 multi3 sprite 2_pools ps loop; do
  [ -f "$shared/traces/$f.trace.gz" ] && traces+=(--trace "$shared/traces/$f.trace.gz")
done
for f in bench/traces/*.jdmtrace.xz; do
  [ -f "$f" ] && traces+=(--trace "$f")
done
sizes=(--cache-blocks 1%,5%,10%)
case " $* " in *" --cache-blocks "* | *" --cache-size "*) sizes=() ;; esac
exec bin/jdmcache sim "${traces[@]}" "${sizes[@]}" "$@"
