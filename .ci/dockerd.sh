#!/usr/bin/env bash
# Starts or stops a private Docker engine for the docker tests.
#
#   .ci/dockerd.sh start   starts dockerd (data root, exec root, socket and
#                          pid file under $UPSHIFT_DOCKERD_DIR), waits until it
#                          answers, and prints the DOCKER_HOST to use
#   .ci/dockerd.sh stop    kills the dockerd recorded at start (by its PID
#                          only), waits for it, and removes its directory
#
# The engine touches no firewall rules and forwards nothing
# (--iptables=false --ip-masq=false --ip-forward=false). Containers sit on the
# engine's own bridge; published ports are served on 127.0.0.1 by the
# engine's userland proxy (docker-proxy), which dials the container over the
# bridge, so no NAT rule is needed.
set -euo pipefail

dir="${UPSHIFT_DOCKERD_DIR:-/tmp/upshift-dockerd}"
sock="$dir/docker.sock"
pidfile="$dir/dockerd.pid"
log="$dir/dockerd.log"

start() {
  # Already running (started by an earlier call, and answering): reuse it.
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null \
     && DOCKER_HOST="unix://$sock" timeout 5 docker version >/dev/null 2>&1; then
    echo "unix://$sock"
    return 0
  fi
  command -v dockerd >/dev/null || { echo "dockerd not installed (apt-get install docker.io)" >&2; exit 1; }
  mkdir -p "$dir/data" "$dir/exec"
  # setsid: dockerd gets its own session so a CI step that ends does not take
  # it down with a hangup; it is stopped explicitly by its PID.
  setsid dockerd \
    --data-root "$dir/data" \
    --exec-root "$dir/exec" \
    --pidfile "$dir/engine.pid" \
    --host "unix://$sock" \
    --iptables=false --ip-masq=false --ip-forward=false \
    --userland-proxy=true \
    >"$log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  for _ in $(seq 1 120); do
    if DOCKER_HOST="unix://$sock" timeout 5 docker version >/dev/null 2>&1; then
      echo "unix://$sock"
      return 0
    fi
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "dockerd exited; last lines of $log:" >&2
      tail -20 "$log" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "dockerd did not answer within 60 s; last lines of $log:" >&2
  tail -20 "$log" >&2
  exit 1
}

stop() {
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    # Remove what the tests may have left running, then stop the engine.
    ids="$(DOCKER_HOST="unix://$sock" timeout 20 docker ps -aq 2>/dev/null || true)"
    [ -z "$ids" ] || DOCKER_HOST="unix://$sock" timeout 60 docker rm -f $ids >/dev/null 2>&1 || true
    kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  fi
  # Unmount anything the engine left mounted below its directory, then remove it.
  { grep -o " $dir/[^ ]*" /proc/mounts 2>/dev/null || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
