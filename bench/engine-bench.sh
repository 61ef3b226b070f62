#!/usr/bin/env bash
# Builds the engine (and what it needs) with its test classes and runs EngineBench: 4 KiB random reads, then
# writes, from 8 threads over a hot set through a warm cache vs the bare cache file (the same I/O; the two take
# turns, ROUNDS=N times each, default 2), and reads of the bare origin (a file behind a 5 ms, 100 MB/s,
# one-at-a-time SlowDevice), with both ratios to the bare cache;
# then the heap per cache block of an engine with 10,000,000 cache blocks, driven by hand and threaded (the parallel collector, so that large
# arrays are not rounded up to G1 regions).
# Usage: bench/engine-bench.sh [seconds per run] [directory for the 1.2 GiB of sparse files]
# Set SKIP_BUILD=1 to reuse the last build, PART=speed or PART=ram to run only the throughput or the RAM part.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  ./mvnw -B -q -pl jdmcache-engine -am test-compile
fi
cp=jdmcache-engine/target/test-classes:jdmcache-engine/target/classes
for m in jdmcache-metadata jdmcache-policy jdmcache-pdata; do
  cp="$cp:$m/target/classes"
done
cp="$cp:jdmcache-pdata/target/test-classes"
[ $# -ge 2 ] && mkdir -p "$2"
exec java -Xmx4g -XX:+UseParallelGC -Drounds="${ROUNDS:-2}" -Dpart="${PART:-all}" -cp "$cp" io.jdmcache.engine.bench.EngineBench "$@"
