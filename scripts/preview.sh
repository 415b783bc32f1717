#!/usr/bin/env bash
# Quick start: the widget's preview page with a live backend.
#   - installs the build tools if missing (scripts/setup.sh),
#   - builds and starts the reference backend on 127.0.0.1:3000 (data in
#     target/preview/connect-ui.sqlite3: outside what Trunk watches, see Trunk.toml [watch]),
#   - runs `trunk serve` on http://127.0.0.1:8080 (Trunk.toml proxies /api/ to the backend).
# Ctrl-C stops both. Extra arguments go to `trunk serve` (e.g. --release).
#
# Env: BACKEND_PORT (default 3000; Trunk.toml's proxy expects 3000), CONNECT_UI_DB.

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BACKEND_PORT=${BACKEND_PORT:-3000}
DB=${CONNECT_UI_DB:-target/preview/connect-ui.sqlite3}

"$CONNECT_UI_ROOT/scripts/setup.sh"

install_cleanup
if curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$BACKEND_PORT/health" 2>/dev/null ||
  ! pick_port "$BACKEND_PORT" | grep -qx "$BACKEND_PORT"; then
  die "port $BACKEND_PORT on 127.0.0.1 is already in use (another preview running?)"
fi
if ! pick_port 8080 | grep -qx 8080; then
  die "port 8080 on 127.0.0.1 is already in use (another trunk serve running?)"
fi

mkdir -p "$(dirname "$DB")"
build_backend debug
info "starting the backend on 127.0.0.1:$BACKEND_PORT (log: target/logs/preview-backend.log)"
start_backend "$BACKEND_PORT" "$LOG_DIR/preview-backend.log" --mode dev --db "$DB"
note "backend healthy: $BACKEND_URL/health"

info "trunk serve on http://127.0.0.1:8080/ (Ctrl-C stops the preview and the backend)"
# trunk keeps the terminal: its output is the preview's build log.
setsid trunk serve "$@" </dev/null &
TRUNK_PID=$!
BG_PIDS+=("$TRUNK_PID")

# Stop when either process ends (or on Ctrl-C, via the trap).
while kill -0 "$TRUNK_PID" 2>/dev/null && kill -0 "$BACKEND_PID" 2>/dev/null; do
  sleep 1
done
if ! kill -0 "$BACKEND_PID" 2>/dev/null; then
  show_tail "$LOG_DIR/preview-backend.log"
  die "the backend stopped"
fi
wait "$TRUNK_PID" || die "trunk serve stopped (exit $?)"
