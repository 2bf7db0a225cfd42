# Helpers shared by the proxy benchmark scripts (run-proxy-bench.sh, memory-and-startup.sh,
# profile-edge.sh): sourced, never run. Each script sets SCRIPT_NAME (its messages' prefix) first.

die() {
  echo "$SCRIPT_NAME: $*" >&2
  exit 1
}

positive_int() { # name value
  [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 must be a positive integer, was '$2'"
}

port_in_use() { # port: whether something accepts connections on it on 127.0.0.1
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Resident memory (KiB) of a process and its children at this moment. For nginx it is the sum over
# the master and its workers, which counts the pages they share (the binary, the config) once per
# process: an upper bound, a few MB above what they really hold (the same sum before and after, so
# a difference is not affected).
rss_kb() {
  local total=0 pid rss
  for pid in "$1" $(pgrep -P "$1" || true); do
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || continue
    total=$((total + ${rss:-0}))
  done
  echo "$total"
}
