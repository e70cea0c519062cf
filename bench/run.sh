#!/usr/bin/env bash
# Readside beside two hand-written loops (A: orders only; B: the same work), on this machine, in one run
# (see docs/benchmarks.md).
#   bench/run.sh                       300,000 orders, 3 runs of each measurement (about 30 minutes on 2 cores)
#   BENCH_ORDERS=100000 BENCH_RUNS=1 bench/run.sh    a quick look
#   BENCH_PARTS=drain BENCH_ORDERS=300000 BENCH_RUNS=1 BENCH_JFR=1 bench/run.sh
#                                      the drains only (Readside, loop A, loop B), Readside's flight-recorded
# BENCH_PARTS: any of drain,latency,query,ready,commands (default all); readside alone: Readside's drains only. BENCH_JFR=1 records Readside's drains (and its
# reads under wrk) with Java Flight Recorder (settings=profile) and prints its hot methods; BENCH_JFR=all records
# loops A and B too.
# BENCH_OPTS: more -D options for the benchmark, e.g. -Dbench.service.<key>=<value> to start Readside with a setting.
# Prints the table and writes it to target/bench/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."

PARTS="${BENCH_PARTS:-drain,latency,query,ready,commands}"
case "${BENCH_JFR:-}" in
  "" | 0) JFR="" ;;
  all) JFR=all ;;
  *) JFR=readside ;;
esac

if [[ ",$PARTS," == *,query,* ]] && ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq wrk >/dev/null; else echo "bench: needs wrk (apt-get install wrk)" >&2; exit 1; fi
fi
[[ ",$PARTS," != *,query,* ]] || command -v pgbench >/dev/null || { echo "bench: needs pgbench (postgresql-contrib / postgresql-client)" >&2; exit 1; }

./mvnw -q --batch-mode --no-transfer-progress package -DskipTests
./mvnw -q --batch-mode --no-transfer-progress dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/bench.classpath

exec java -Xmx2g -cp "target/test-classes:target/classes:$(cat target/bench.classpath)" \
  -Dbench.orders="${BENCH_ORDERS:-300000}" -Dbench.runs="${BENCH_RUNS:-3}" -Dbench.parts="$PARTS" \
  ${JFR:+-Dbench.jfr-drain="$JFR"} ${BENCH_OPTS:-} \
  io.readside.bench.Benchmark
