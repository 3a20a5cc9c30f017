#!/usr/bin/env bash
# Builds the sidecar image upshift-sidecar:test from the repo's Dockerfile
# without a registry: BASE_IMAGE is upshift-node-base:local (made from the
# host's node by build-node-base.sh) and PREBUILT=1 reuses dist/ (run
# `npm run build` first; `npm test` does). The image is labelled with a
# digest of dist/ and package-lock.json, and rebuilt only when they changed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tag="${UPSHIFT_SIDECAR_IMAGE:-upshift-sidecar:test}"
[ -f "$root/dist/sidecar/bin.js" ] || { echo "dist/ is missing: run npm run build first" >&2; exit 1; }

digest="$(cd "$root" && find dist -type f -print0 | sort -z | xargs -0 sha256sum | cat - package-lock.json | sha256sum | cut -c1-32)"
have="$(timeout 20 docker image inspect -f '{{ index .Config.Labels "io.upshift.dist" }}' "$tag" 2>/dev/null || true)"
if [ "$have" = "$digest" ]; then
  exit 0
fi
"$here/build-node-base.sh" --if-missing
# A lean build context: the repo's Dockerfile, package files, dist/ and only
# the sidecar's packages (production ones and dockerode; the whole
# node_modules is ~10x larger, and sending and pruning it takes minutes on a
# busy machine).
ctx="$(mktemp -d)"
log="$(mktemp)"
trap 'rm -rf "$ctx" "$log"' EXIT
cd "$root"
cp Dockerfile .dockerignore package.json package-lock.json tsconfig.json tsconfig.build.json "$ctx/"
cp -a dist "$ctx/dist"
mkdir -p "$ctx/node_modules"
node scripts/sidecar-modules.mjs | while read -r rel; do
  # A package nested in one copied already came with it.
  [ -e "$ctx/$rel" ] && continue
  mkdir -p "$ctx/$(dirname "$rel")"
  cp -a "$root/$rel" "$ctx/$rel"
done
timeout 900 docker build -q \
  --build-arg BASE_IMAGE="${UPSHIFT_NODE_BASE:-upshift-node-base:local}" --build-arg PREBUILT=1 \
  --label io.upshift.test=1 --label "io.upshift.dist=$digest" \
  -t "$tag" "$ctx" >/dev/null 2>"$log" || { cat "$log" >&2; exit 1; }
echo "built $tag"
