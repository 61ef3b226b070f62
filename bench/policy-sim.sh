#!/usr/bin/env bash
# Builds jdmcache-bench (and the policy module it needs) and runs the policy simulator:
# synthetic traces replayed through smq, smq with a migration lag, the cleaner, plain LRU and
# Belady's MIN, hit ratios side by side. Options go to the simulator (--help lists them);
# set SKIP_BUILD=1 to reuse the last build.
set -euo pipefail
cd "$(dirname "$0")/.."

jar=jdmcache-bench/target/benchmarks.jar
if [ "${SKIP_BUILD:-0}" != 1 ] || [ ! -f "$jar" ]; then
  ./mvnw -B -q -pl jdmcache-bench -am package -DskipTests
fi
exec java -Xmx3g -cp "$jar" io.jdmcache.bench.policy.PolicySimulator "$@"
