#!/usr/bin/env python3
"""Small measuring helpers for bench/run_bench.sh (Linux /proc only).

  now                          wall clock, seconds since the epoch (float)
  proc PID                     "utime+stime_seconds vmhwm_kib vmrss_kib" of one process
  pgcpu POSTMASTER_PID         CPU seconds of the postmaster, its live children and the
                               children it already reaped (cutime+cstime)
  first-sent FILE OFFSET       sent_at (epoch seconds) of the first JSON line at/after OFFSET
  outbox-ids OFFSET FILE       "lines distinct": outbox lines at/after OFFSET and the distinct
                               message ids among them, full or compact lines alike
  fanned-out LOG INCIDENT      "jobs ms" from the resolver's event=fanned_out line
  run CMD                      run CMD with bash; print "elapsed_s cpu_s" (cpu: user+sys of
                               CMD and every process it waited for); exits with CMD's status
"""
import json
import os
import re
import sys
from datetime import datetime, timezone

TICK = os.sysconf("SC_CLK_TCK")


def stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    # The command name may contain spaces and parentheses: split after the last ')'.
    return data[data.rindex(")") + 2:].split()


def cpu(pid, children=False):
    f = stat_fields(pid)
    # Fields after the name start at field 3 (state); utime is field 14.
    ticks = int(f[11]) + int(f[12])
    if children:
        ticks += int(f[13]) + int(f[14])
    return ticks / TICK


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def children_of(ppid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            if int(stat_fields(d)[1]) == ppid:
                out.append(int(d))
        except (OSError, ValueError):
            pass
    return out


def parse_ts(s):
    # 2024-05-01T12:34:56.123456Z
    s = s.rstrip("Z")
    if "." in s:
        base, frac = s.split(".")
        s = base + "." + (frac + "000000")[:6]
        fmt = "%Y-%m-%dT%H:%M:%S.%f"
    else:
        fmt = "%Y-%m-%dT%H:%M:%S"
    return datetime.strptime(s, fmt).replace(tzinfo=timezone.utc).timestamp()


def outbox_ids(offset, path):
    """(lines, distinct message ids) of an outbox file from OFFSET on."""
    prefix = b'{"message_id":"'  # every line starts so (FileOutboxChannel)
    lines, ids = 0, set()
    if os.path.exists(path):
        with open(path, "rb") as f:
            f.seek(offset)
            for line in f:
                lines += 1
                if line.startswith(prefix):
                    # hash(): ints keep 13M ids in well under a GiB; a collision could
                    # only show a duplicate that is not there, never hide one.
                    ids.add(hash(line[len(prefix):line.index(b'"', len(prefix))]))
    return lines, len(ids)


def main():
    cmd = sys.argv[1]
    if cmd == "now":
        import time
        print(f"{time.time():.6f}")
    elif cmd == "proc":
        pid = int(sys.argv[2])
        print(f"{cpu(pid):.2f} {status_kib(pid, 'VmHWM')} {status_kib(pid, 'VmRSS')}")
    elif cmd == "pgcpu":
        pid = int(sys.argv[2])
        total = cpu(pid, children=True)
        for c in children_of(pid):
            try:
                total += cpu(c)
            except OSError:
                pass
        print(f"{total:.2f}")
    elif cmd == "first-sent":
        path, offset = sys.argv[2], int(sys.argv[3])
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                line = f.readline()
        except FileNotFoundError:
            line = b""
        if not line.strip():
            print("")
        else:
            print(f"{parse_ts(json.loads(line)['sent_at']):.6f}")
    elif cmd == "outbox-ids":
        print(*outbox_ids(int(sys.argv[2]), sys.argv[3]))
    elif cmd == "fanned-out":
        path, incident = sys.argv[2], sys.argv[3]
        pat = re.compile(r"event=fanned_out incident=" + re.escape(incident) + r" .*jobs=(\d+) ms=(\d+)")
        found = ""
        with open(path, errors="replace") as f:
            for line in f:
                m = pat.search(line)
                if m:
                    found = f"{m.group(1)} {m.group(2)}"
        print(found)
    elif cmd == "run":
        import resource
        import subprocess
        import time
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        rc = subprocess.call(["bash", "-o", "pipefail", "-c", sys.argv[2]])
        elapsed = time.monotonic() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(f"{elapsed:.3f} {used:.2f}")
        sys.exit(rc)
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
