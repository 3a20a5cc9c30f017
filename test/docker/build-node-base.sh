#!/usr/bin/env bash
# Builds upshift-node-base:local without a registry: the host's node binary
# and the shared libraries it loads, npm, and a static busybox for /bin/sh,
# in an image FROM scratch. It serves as the Dockerfile's BASE_IMAGE here.
# Usage: test/docker/build-node-base.sh [--if-missing]
set -euo pipefail
tag="${UPSHIFT_NODE_BASE:-upshift-node-base:local}"
if [ "${1:-}" = "--if-missing" ] && timeout 20 docker image inspect "$tag" >/dev/null 2>&1; then
  exit 0
fi
node="$(readlink -f "$(command -v node)")"
npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
busybox="${BUSYBOX:-/bin/busybox}"
[ -x "$busybox" ] || { echo "a static busybox is needed at $busybox (apt-get install busybox-static)" >&2; exit 1; }

ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/root/usr/local/bin" "$ctx/root/usr/local/lib/node_modules" "$ctx/root/bin" "$ctx/root/usr/bin" "$ctx/root/tmp"
cp "$node" "$ctx/root/usr/local/bin/node"
# Every library node loads, at the path the loader looks for it.
ldd "$node" | grep -o '/[^ ]*' | while read -r lib; do
  mkdir -p "$ctx/root$(dirname "$lib")"
  cp -L "$lib" "$ctx/root$lib"
done
cp -a "$npm_dir" "$ctx/root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ctx/root/usr/local/bin/npm"
cp "$busybox" "$ctx/root/bin/busybox"
chmod 1777 "$ctx/root/tmp"
cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY root/ /
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN ["/bin/busybox", "ln", "-s", "/bin/busybox", "/usr/bin/env"]
ENV PATH=/usr/local/bin:/usr/bin:/bin
CMD ["node"]
DOCKERFILE
timeout 300 docker build -q --label io.upshift.test=1 -t "$tag" "$ctx" >/dev/null
echo "built $tag"
