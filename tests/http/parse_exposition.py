#!/usr/bin/env python3
"""Scrapes a /metrics URL and parses it with prometheus_client's text-format
parser (the Prometheus project's Python client; Debian python3-prometheus-client).

Exits 1 with a message on stderr when the body is not valid exposition text:
an unparsable line, a family without HELP and TYPE lines or with either twice,
a family of unknown type, or a histogram whose buckets are not cumulative,
do not end in le="+Inf" equal to its _count, or lack a _sum.

Otherwise prints, sorted, one line per family and one per sample:
  help FAMILY "help text"
  FAMILY_TYPE SAMPLE_NAME {"label": "value", ...} VALUE
with strings as JSON (sorted keys, non-ASCII kept) and VALUE as Python's repr
of the parsed float, so a caller can check that what it registered reads back.
(The parser names a counter family without its _total suffix.)
"""
import collections
import json
import math
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def check_comment_lines(body):
    """Every family has exactly one HELP and one TYPE line."""
    seen = collections.Counter()
    for line in body.splitlines():
        parts = line.split(" ", 3)
        if len(parts) >= 3 and parts[0] == "#" and parts[1] in ("HELP", "TYPE"):
            seen[(parts[1], parts[2])] += 1
    names = {name for (_, name) in seen}
    for name in names:
        for kind in ("HELP", "TYPE"):
            if seen[(kind, name)] != 1:
                fail(f"{name}: {seen[(kind, name)]} {kind} lines")
    return names


def check_histogram(family):
    series = collections.defaultdict(dict)
    for s in family.samples:
        key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
        if s.name.endswith("_bucket"):
            series[key].setdefault("buckets", []).append((float(s.labels["le"]), s.value))
        else:
            series[key][s.name[len(family.name):]] = s.value
    for key, parts in series.items():
        buckets = parts.get("buckets", [])
        bounds = [b for b, _ in buckets]
        counts = [c for _, c in buckets]
        if not buckets or bounds != sorted(bounds) or bounds[-1] != math.inf:
            fail(f"{family.name}{dict(key)}: buckets {bounds} not ascending to +Inf")
        if counts != sorted(counts):
            fail(f"{family.name}{dict(key)}: bucket counts {counts} not cumulative")
        if parts.get("_count") != counts[-1] or "_sum" not in parts:
            fail(f"{family.name}{dict(key)}: _count {parts.get('_count')} / _sum missing or != +Inf bucket")


def main():
    with urllib.request.urlopen(sys.argv[1], timeout=10) as response:
        body = response.read().decode("utf-8")
    declared = check_comment_lines(body)
    try:
        families = list(text_string_to_metric_families(body))
    except ValueError as e:
        fail(f"not valid exposition text: {e}")
    lines = []
    for family in families:
        if family.type not in ("counter", "gauge", "histogram"):
            fail(f"{family.name}: type {family.type}")
        if not ({family.name, family.name + "_total"} & declared):
            fail(f"{family.name}: no HELP/TYPE lines")
        if family.type == "histogram":
            check_histogram(family)
        lines.append(f"help {family.name} {json.dumps(family.documentation, ensure_ascii=False)}")
        for s in family.samples:
            labels = json.dumps(s.labels, sort_keys=True, ensure_ascii=False)
            lines.append(f"{family.type} {s.name} {labels} {s.value!r}")
    print("\n".join(sorted(lines)))


if __name__ == "__main__":
    main()
