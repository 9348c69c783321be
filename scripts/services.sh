# Throwaway PostgreSQL and Redis servers on loopback for the test suite; source this file.
# services_start exports VEXIL_TEST_POSTGRES_URL and VEXIL_TEST_REDIS_URL and removes both
# servers (and their data) on exit. Installs Debian's postgresql / redis-server when missing.

_as_root() { [ "$(id -u)" = 0 ]; }

_apt_install() {
  if ! _as_root; then
    echo "error: $* is not installed and this user cannot install it (apt-get install $*)" >&2
    return 1
  fi
  if [ -z "${_VEXIL_APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    _VEXIL_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_pg_bindir() {
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

services_start() {
  [ -n "$(_pg_bindir)" ] || _apt_install postgresql
  command -v redis-server >/dev/null 2>&1 || _apt_install redis-server
  local bindir; bindir=$(_pg_bindir)
  VEXIL_SERVICES_DIR=$(mktemp -d /tmp/vexil-services.XXXXXX)
  chmod 755 "$VEXIL_SERVICES_DIR"
  local run=()
  if _as_root; then
    # PostgreSQL refuses to run as root.
    chown postgres "$VEXIL_SERVICES_DIR"
    run=(runuser -u postgres --)
  fi
  local pg_port redis_port
  pg_port=$(_free_port)
  redis_port=$(_free_port)
  "${run[@]}" "$bindir/initdb" -D "$VEXIL_SERVICES_DIR/pg" -A trust -U postgres -E UTF8 >/dev/null
  "${run[@]}" "$bindir/pg_ctl" -D "$VEXIL_SERVICES_DIR/pg" -l "$VEXIL_SERVICES_DIR/pg/server.log" -w \
    -o "-p $pg_port -k $VEXIL_SERVICES_DIR/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --pidfile "$VEXIL_SERVICES_DIR/redis.pid" --logfile "$VEXIL_SERVICES_DIR/redis.log" \
    --dir "$VEXIL_SERVICES_DIR"
  VEXIL_SERVICES_RUN=("${run[@]}")
  VEXIL_SERVICES_PGBIN=$bindir
  export VEXIL_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$pg_port/vexil"
  export VEXIL_TEST_REDIS_URL="redis://127.0.0.1:$redis_port/0"
  trap services_stop EXIT
  for _ in $(seq 50); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
}

services_stop() {
  [ -n "${VEXIL_SERVICES_DIR:-}" ] || return 0
  if [ -f "$VEXIL_SERVICES_DIR/redis.pid" ]; then kill "$(cat "$VEXIL_SERVICES_DIR/redis.pid")" 2>/dev/null || true; fi
  "${VEXIL_SERVICES_RUN[@]}" "$VEXIL_SERVICES_PGBIN/pg_ctl" -D "$VEXIL_SERVICES_DIR/pg" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$VEXIL_SERVICES_DIR"
  VEXIL_SERVICES_DIR=
}
