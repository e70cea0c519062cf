#!/usr/bin/env bash
# POST-to-readable latency of the command API (outbox -> relay -> broker -> orders projector -> GET with the
# consistency token), on this machine. About 2 minutes. Prints the figures (see docs/benchmarks.md).
#   BENCH_COMMANDS=2000 BENCH_CLIENTS=8 BENCH_SECONDS=30 bench/commands.sh
set -euo pipefail
cd "$(dirname "$0")/.."

./mvnw -q --batch-mode --no-transfer-progress package -DskipTests
./mvnw -q --batch-mode --no-transfer-progress dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/bench.classpath

exec java -Xmx1g -cp "target/test-classes:target/classes:$(cat target/bench.classpath)" \
  -Dbench.commands="${BENCH_COMMANDS:-2000}" -Dbench.clients="${BENCH_CLIENTS:-8}" \
  -Dbench.seconds="${BENCH_SECONDS:-30}" \
  io.readside.bench.CommandLatency
