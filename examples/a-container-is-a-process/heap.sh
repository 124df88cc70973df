#!/bin/sh
# A tiny "runtime" that sizes its heap as the JVM did before it knew about containers: a quarter
# of the memory it believes it has. Where it looks is the argument:
#   host    /proc/meminfo, the machine's memory (a cgroup limit does not change it)
#   cgroup  the container's own limit (memory.max on cgroup v2, memory.limit_in_bytes on v1)
# Then it allocates that heap, with busybox awk doubling a string, and says how far it got.
case "$1" in
  host) total=$(awk '/^MemTotal:/ { printf "%.0f", $2 * 1024 }' /proc/meminfo) ;;
  cgroup) total=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes) ;;
  *) echo "usage: heap.sh host|cgroup" >&2; exit 2 ;;
esac
heap=$((total / 4))
echo "memory $total heap $heap"
awk -v n="$heap" 'BEGIN { s = "x"; while (length(s) * 2 <= n) s = s s; printf "allocated %.0f\n", length(s) }'
