#!/usr/bin/env bash
# Builds the docker tests' application images without a registry:
#   upshift-test-app:1 and upshift-test-app:2 — busybox httpd on port 8080
#   serving "upshift-test-app version N" at / (and /health), and 16 MiB at
#   /big (a download a slow client keeps open).
# Needs DOCKER_HOST (or the default socket) and Debian's busybox-static
# (a static binary, so the image can be FROM scratch).
# Usage: test/docker/build-images.sh [--if-missing]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fixtures="$here/../fixtures/docker"
busybox="${BUSYBOX:-/bin/busybox}"

if [ ! -x "$busybox" ] || { command -v file >/dev/null && ! file -L "$busybox" | grep -q 'statically linked'; }; then
  echo "a static busybox is needed at $busybox (apt-get install busybox-static)" >&2
  exit 1
fi

ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
# Bumped when the images' contents change, so --if-missing rebuilds older ones.
rev=2
for v in 1 2; do
  if [ "${1:-}" = "--if-missing" ] && [ "$(timeout 20 docker image inspect -f '{{index .Config.Labels "io.upshift.test.rev"}}' "upshift-test-app:$v" 2>/dev/null)" = "$rev" ]; then
    continue
  fi
  rm -rf "$ctx"/*
  mkdir -p "$ctx/www"
  cp "$fixtures/Dockerfile" "$ctx/Dockerfile"
  cp "$busybox" "$ctx/busybox"
  echo "upshift-test-app version $v" >"$ctx/www/index.html"
  echo ok >"$ctx/www/health"
  head -c 16777216 /dev/zero >"$ctx/www/big"
  timeout 120 docker build -q --label io.upshift.test=1 --label io.upshift.test.rev=$rev -t "upshift-test-app:$v" "$ctx" >/dev/null 2>"$ctx.err" || {
    cat "$ctx.err" >&2; rm -f "$ctx.err"; exit 1
  }
  rm -f "$ctx.err"
  echo "built upshift-test-app:$v"
done
