#!/usr/bin/env bash
# Readside beside the hand-written limit pipeline, on this machine, in one run (see docs/benchmarks.md).
#   bench/run.sh                       1,000,000 orders, 3 runs of each measurement (about 40 minutes on 2 cores)
#   BENCH_ORDERS=100000 BENCH_RUNS=1 bench/run.sh    a quick look
# Prints the table and writes it to target/bench/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq wrk >/dev/null; else echo "bench: needs wrk (apt-get install wrk)" >&2; exit 1; fi
fi
command -v pgbench >/dev/null || { echo "bench: needs pgbench (postgresql-contrib / postgresql-client)" >&2; exit 1; }

./mvnw -q --batch-mode --no-transfer-progress package -DskipTests
./mvnw -q --batch-mode --no-transfer-progress dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/bench.classpath

exec java -Xmx2g -cp "target/test-classes:target/classes:$(cat target/bench.classpath)" \
  -Dbench.orders="${BENCH_ORDERS:-1000000}" -Dbench.runs="${BENCH_RUNS:-3}" \
  io.readside.bench.Benchmark
