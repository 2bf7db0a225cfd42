#!/usr/bin/env bash
# Starts or stops a real Consul agent in dev mode on 127.0.0.1 for lb-consul's integration tests.
#
#   lb-consul/scripts/consul-agent.sh start   # prints the HTTP address, waits for a leader
#   lb-consul/scripts/consul-agent.sh stop
#
# Every port the agent binds comes from an argument or the environment, so two agents on one
# machine (parallel CI jobs, an agent started by hand) need not collide. Defaults in brackets;
# -1 disables that listener. Give `stop` the same HTTP port as `start`.
#
#   --http-port N      CONSUL_HTTP_PORT      [18500]
#   --dns-port N       CONSUL_DNS_PORT       [-1]
#   --server-port N    CONSUL_SERVER_PORT    [8300]
#   --serf-lan-port N  CONSUL_SERF_LAN_PORT  [8301]
#   --serf-wan-port N  CONSUL_SERF_WAN_PORT  [-1]
#   --grpc-port N      CONSUL_GRPC_PORT      [-1]
#
# Uses `consul` from PATH when there is one. Otherwise it downloads Debian bullseye's `consul`
# package (1.8.7; the current Debian release ships none) with `apt-get download`, against a
# throw-away sources list built from the URI this machine's own apt sources already use (no host
# name is written here), and unpacks it with `dpkg-deb -x` under lb-consul/target/: no install, no
# change to the system. Exits 3 when no agent can be had, so callers can skip loudly.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
work="$here/target/consul"
http_port="${CONSUL_HTTP_PORT:-18500}"
dns_port="${CONSUL_DNS_PORT:--1}"
server_port="${CONSUL_SERVER_PORT:-8300}"
serf_lan_port="${CONSUL_SERF_LAN_PORT:-8301}"
serf_wan_port="${CONSUL_SERF_WAN_PORT:--1}"
grpc_port="${CONSUL_GRPC_PORT:--1}"

command="${1:-}"
[[ $# -gt 0 ]] && shift
while [[ $# -gt 0 ]]; do
  if [[ $# -lt 2 || ! "$2" =~ ^-?[0-9]+$ ]]; then
    echo "$1 needs a port number (or -1 to disable)" >&2
    exit 2
  fi
  case "$1" in
    --http-port) http_port="$2" ;;
    --dns-port) dns_port="$2" ;;
    --server-port) server_port="$2" ;;
    --serf-lan-port) serf_lan_port="$2" ;;
    --serf-wan-port) serf_wan_port="$2" ;;
    --grpc-port) grpc_port="$2" ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done

# One agent per HTTP port: its pid, data and log apart; the downloaded binary shared.
if [[ "$http_port" == 18500 ]]; then
  run="$work"
else
  run="$work/agent-$http_port"
fi
pidfile="$run/agent.pid"
mkdir -p "$work" "$run"

find_binary() {
  if command -v consul >/dev/null 2>&1; then
    command -v consul
    return 0
  fi
  if [[ -x "$work/root/usr/bin/consul" ]]; then
    echo "$work/root/usr/bin/consul"
    return 0
  fi
  local uri
  uri="$(grep -h -E '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
    | grep -v -- '-security' | head -1 | sed -E 's/^URIs:[[:space:]]*//; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//; s/[[:space:]].*$//')"
  if [[ -z "$uri" ]]; then
    echo "no Debian apt source found to derive the package URI from" >&2
    return 3
  fi
  local apt="$work/apt"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/etc"
  echo "deb [trusted=yes] $uri bullseye main" > "$apt/etc/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$apt/etc/sources.list" -o "Dir::Etc::SourceParts=-"
              -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
              -o "APT::Get::List-Cleanup=0" -o "Acquire::Languages=none")
  apt-get "${opts[@]}" -qq update >&2 || { echo "apt-get update (bullseye) failed" >&2; return 3; }
  (cd "$work" && apt-get "${opts[@]}" -o "APT::Sandbox::User=root" -qq download consul >&2) \
    || { echo "apt-get download consul (bullseye) failed" >&2; return 3; }
  dpkg-deb -x "$(ls "$work"/consul_*.deb | head -1)" "$work/root"
  echo "$work/root/usr/bin/consul"
}

start() {
  local bin
  bin="$(find_binary)" || exit 3
  if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "http://127.0.0.1:$http_port"
    return 0
  fi
  rm -rf "$run/data"
  "$bin" agent -dev -bind=127.0.0.1 -client=127.0.0.1 -http-port="$http_port" \
    -dns-port="$dns_port" -grpc-port="$grpc_port" -server-port="$server_port" \
    -serf-lan-port="$serf_lan_port" -serf-wan-port="$serf_wan_port" \
    -hcl 'disable_update_check = true' \
    -data-dir="$run/data" -log-level=warn > "$run/agent.log" 2>&1 &
  echo $! > "$pidfile"
  for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$http_port/v1/status/leader" 2>/dev/null | grep -q '"127.0.0.1'; then
      echo "consul $("$bin" version | sed -n '1s/^Consul //p') ready on 127.0.0.1:$http_port" >&2
      echo "http://127.0.0.1:$http_port"
      return 0
    fi
    sleep 0.1
  done
  echo "consul agent did not elect a leader within 10 s; log: $run/agent.log" >&2
  stop
  exit 3
}

stop() {
  if [[ -f "$pidfile" ]]; then
    local pid
    pid="$(cat "$pidfile")"
    kill "$pid" 2>/dev/null || true
    # Wait for it to exit, so a restart can bind the same port at once.
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  fi
}

case "$command" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop [--http-port N] [--dns-port N] [--server-port N]" \
       "[--serf-lan-port N] [--serf-wan-port N] [--grpc-port N]" >&2; exit 2 ;;
esac
