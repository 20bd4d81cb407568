#!/usr/bin/env bash
# Vigie's first command on a fresh machine: installs the build prerequisites (cmake and the curl
# headers that rdkafka's bundled librdkafka build needs), builds Vigie, and runs
# `vigie standalone`: all three stages in one process, no Kafka and no ClickHouse. It replays the
# bundled sample, prints what it rejected and the alerts as one timeline (the README shows it line
# for line), then keeps serving HTTP ingest on 127.0.0.1:8080 and gRPC (the API and
# IngestService) on 127.0.0.1:50051, with a development token it prints, until Ctrl-C. Logs go to
# stderr, warnings only unless VIGIE_LOG says otherwise. Extra arguments go to
# `vigie standalone` (e.g. --exit).
set -euo pipefail
cd "$(dirname "$0")"
deploy/local/install.sh --build-only
cargo build --release --bin vigie
exec target/release/vigie standalone "$@"
