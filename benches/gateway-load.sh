#!/usr/bin/env bash
# Load benchmark of sigv4-gateway against the floor of its stack and against nginx, on loopback,
# every contender in the same run with interleaved rounds (drift and noisy neighbours hit all).
#
#   bash benches/gateway-load.sh            # 5 rounds of 4 s per contender, 16 connections
#   ROUNDS=3 SECONDS_PER_ROUND=4 CONNECTIONS=16 KEYS=1000 bash benches/gateway-load.sh
#
# Contenders (all HTTP/1.1 keep-alive, `wrk -t1 -cCONNECTIONS`):
#   upstream        nginx answering `200 ok` (1 worker): the upstream every proxy forwards to
#   nginx-proxy     nginx as a plain reverse proxy (2 workers, access_log off, upstream keepalive 64)
#   bare-proxy      a bare hyper 1 reverse proxy (gateway/examples/load_proxy.rs, no auth)
#   gw-proxy        sigv4-gateway in proxy mode, SigV4 + IAM (demo API: identity + resource
#                   policy), one access key
#   gw-proxy-keys   the same with KEYS distinct access keys in rotation
#   gw-db-keys      gw-proxy-keys with the identities in SQLite (the same users imported with
#                   `sigv4-gateway import-config`): a database store's cached key look-ups
#   bare-hello      a bare hyper 1 "hello" server (gateway/examples/load_hello.rs)
#   gw-echo         sigv4-gateway in echo mode (SigV4 + IAM + JSON answer), one key
#   base-proxy,     the same two with another build of the gateway, when BASELINE_GATEWAY names
#   base-echo       its binary (e.g. one built from main): a change measured in the same run
# Then P99_ROUNDS rounds at P99_CONNECTIONS connections of nginx-proxy and gw-proxy, for p99.
#
# Needs wrk and nginx (installed from Debian's packages when missing and run as root). Stops
# everything it started. Not part of CI: it takes minutes. The gateway's log level is
# GATEWAY_LOG (default `warn`: no access log, like nginx's `access_log off`).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}
SECONDS_PER_ROUND=${SECONDS_PER_ROUND:-4}
CONNECTIONS=${CONNECTIONS:-16}
KEYS=${KEYS:-1000}
P99_CONNECTIONS=${P99_CONNECTIONS:-256}
P99_ROUNDS=${P99_ROUNDS:-3}
GATEWAY_LOG=${GATEWAY_LOG:-warn}
BASELINE_GATEWAY=${BASELINE_GATEWAY:-}

for tool in wrk nginx; do
  if ! command -v "$tool" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$tool" ]; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null
    else
      echo "gateway-load: $tool is missing (apt-get install $tool)" >&2
      exit 1
    fi
  fi
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

cargo build -q --release -p sigv4-gateway --bin sigv4-gateway \
  --example load_hello --example load_proxy --example load_sign
TARGET=${CARGO_TARGET_DIR:-target}/release
GATEWAY=$TARGET/sigv4-gateway
SIGN=$TARGET/examples/load_sign

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

UP=18081 NGX=18082 HELLO=18083 BARE=18084 GWP=18085 GWE=18086 BSP=18087 BSE=18088 GWD=18089

cat >"$WORK/upstream.conf" <<EOF
daemon off; worker_processes 1; pid $WORK/upstream.pid; error_log $WORK/upstream.err warn;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$UP; location / { return 200 "ok"; } } }
EOF
cat >"$WORK/proxy.conf" <<EOF
daemon off; worker_processes 2; pid $WORK/proxy.pid; error_log $WORK/proxy.err warn;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  upstream backend { server 127.0.0.1:$UP; keepalive 64; }
  server { listen 127.0.0.1:$NGX;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
EOF
"$SIGN" config "$KEYS" "127.0.0.1:$UP" >"$WORK/gw-proxy.toml"
"$SIGN" config "$KEYS" "" >"$WORK/gw-echo.toml"

start() { "$@" >"$WORK/$(basename "$1").$$.$RANDOM.log" 2>&1 & PIDS+=($!); }
start "$NGINX" -c "$WORK/upstream.conf" -p "$WORK"
start "$NGINX" -c "$WORK/proxy.conf" -p "$WORK"
start "$TARGET/examples/load_hello" "127.0.0.1:$HELLO"
start "$TARGET/examples/load_proxy" "127.0.0.1:$BARE" "127.0.0.1:$UP"
start env RUST_LOG="$GATEWAY_LOG" "$GATEWAY" --config "$WORK/gw-proxy.toml" --listen "127.0.0.1:$GWP"
start env RUST_LOG="$GATEWAY_LOG" "$GATEWAY" --config "$WORK/gw-echo.toml" --listen "127.0.0.1:$GWE"
"$GATEWAY" init --store "sqlite://$WORK/gw.db" --account 123456789012 --json >/dev/null
"$GATEWAY" import-config --config "$WORK/gw-proxy.toml" --store "sqlite://$WORK/gw.db" >/dev/null
start env RUST_LOG="$GATEWAY_LOG" "$GATEWAY" --config "$WORK/gw-proxy.toml" --store "sqlite://$WORK/gw.db" \
  --listen "127.0.0.1:$GWD"
PORTS="$UP $NGX $HELLO $BARE $GWP $GWE $GWD"
if [ -n "$BASELINE_GATEWAY" ]; then
  start env RUST_LOG="$GATEWAY_LOG" "$BASELINE_GATEWAY" --config "$WORK/gw-proxy.toml" --listen "127.0.0.1:$BSP"
  start env RUST_LOG="$GATEWAY_LOG" "$BASELINE_GATEWAY" --config "$WORK/gw-echo.toml" --listen "127.0.0.1:$BSE"
  PORTS="$PORTS $BSP $BSE"
fi

# Wait until every port answers.
for port in $PORTS; do
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    sleep 0.1
  done
done

cat >"$WORK/wrk.lua" <<'EOF'
local headers = dofile(os.getenv("HEADERS"))
local i = 0
request = function()
  i = i % #headers + 1
  return wrk.format("GET", "/hello", headers[i])
end
EOF

# run NAME PORT KEYS CONNECTIONS: one wrk round; appends "NAME rps p99ms" to results.
run() {
  local name=$1 port=$2 keys=$3 conns=$4
  "$SIGN" headers "$keys" "127.0.0.1:$port" /hello >"$WORK/headers-$name.lua"
  local out
  out=$(HEADERS="$WORK/headers-$name.lua" wrk -t1 -c"$conns" -d"${SECONDS_PER_ROUND}s" --latency \
    -s "$WORK/wrk.lua" "http://127.0.0.1:$port/hello")
  local rps p99 non2xx
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; print v}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  if [ -n "$non2xx" ]; then
    echo "gateway-load: $name answered $non2xx non-2xx responses" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "$name $rps $p99" >>"$WORK/results"
  printf '  %-14s %10.0f req/s  p99 %7.2f ms\n' "$name" "$rps" "$p99"
}

echo "gateway-load: $ROUNDS rounds x ${SECONDS_PER_ROUND}s, $CONNECTIONS connections, $KEYS keys"
for r in $(seq "$ROUNDS"); do
  echo "round $r"
  run upstream $UP 1 "$CONNECTIONS"
  run nginx-proxy $NGX 1 "$CONNECTIONS"
  run bare-proxy $BARE 1 "$CONNECTIONS"
  run gw-proxy $GWP 1 "$CONNECTIONS"
  run gw-proxy-keys $GWP "$KEYS" "$CONNECTIONS"
  run gw-db-keys $GWD "$KEYS" "$CONNECTIONS"
  run bare-hello $HELLO 1 "$CONNECTIONS"
  run gw-echo $GWE 1 "$CONNECTIONS"
  if [ -n "$BASELINE_GATEWAY" ]; then
    run base-proxy $BSP 1 "$CONNECTIONS"
    run base-echo $BSE 1 "$CONNECTIONS"
  fi
done
for r in $(seq "$P99_ROUNDS"); do
  echo "p99 round $r ($P99_CONNECTIONS connections)"
  run nginx-proxy-c$P99_CONNECTIONS $NGX 1 "$P99_CONNECTIONS"
  run gw-proxy-c$P99_CONNECTIONS $GWP 1 "$P99_CONNECTIONS"
done

python3 - "$WORK/results" "$KEYS" "$P99_CONNECTIONS" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, rps, p99 = line.split()
    rows.setdefault(name, []).append((float(rps), float(p99)))
med = {n: (statistics.median(r for r, _ in v), statistics.median(p for _, p in v)) for n, v in rows.items()}
print("\nmedians")
for n, (rps, p99) in med.items():
    print(f"  {n:<20} {rps:10.0f} req/s  p99 {p99:7.2f} ms")
def ratio(a, b, what):
    if a in med and b in med:
        print(f"  {what:<44} {med[a][0] / med[b][0]:5.2f}")
print("\nratios (medians of requests/s)")
ratio("gw-proxy", "bare-proxy", "gw-proxy / bare-proxy (target >= 0.9)")
ratio("gw-proxy", "nginx-proxy", "gw-proxy / nginx-proxy")
ratio("gw-echo", "bare-hello", "gw-echo / bare-hello (target >= 0.7)")
ratio("gw-db-keys", "gw-proxy-keys", f"SQLite store / file store, {sys.argv[2]} keys")
ratio("gw-proxy", "base-proxy", "gw-proxy / base-proxy (this build / baseline)")
ratio("gw-echo", "base-echo", "gw-echo / base-echo (this build / baseline)")
ratio("gw-proxy-keys", "gw-proxy", f"gw-proxy {sys.argv[2]} keys / 1 key (target >= 0.9)")
c = sys.argv[3]
a, b = f"gw-proxy-c{c}", f"nginx-proxy-c{c}"
if a in med and b in med:
    print(f"  {'p99 gw-proxy / nginx-proxy at ' + c + ' connections (target <= 1.5)':<44} {med[a][1] / med[b][1]:5.2f}")
EOF
