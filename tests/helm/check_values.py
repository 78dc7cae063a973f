#!/usr/bin/env python3
"""Static checks of the Helm chart's templates, without a helm binary.

usage: check_values.py CHART_DIR [values|syntax|all]

values  Every `.Values.a.b.c` path used in templates/*.yaml, *.tpl and *.txt is defined in
        values.yaml. A reference counts whatever it is prefixed with: `.Values.x`, `$.Values.x`
        or `$root.Values.x` (a variable bound to the root context), and `index .Values "a" "b"`
        with literal keys. Paths relative to a with/range block (`.x`) are not checked; to keep
        that safe, a bare `.Values` (no `$`) inside a with/range block is itself an error,
        because there `.` is not the root context. A reference may stop at a map or a leaf but
        must not go below a leaf or a missing key.
syntax  Every `{{` has its `}}` (no nesting, none unclosed); if/with/range/define/block are
        balanced by `end`; every `include`/`template` names a template defined in the chart;
        each manifest's `kind:` is one of the expected kinds with its usual apiVersion; each
        .yaml template declares at least one kind.

Exits 1 listing every problem, 0 when clean.
"""

import os
import re
import sys

import yaml

EXPECTED_KINDS = {
    "Deployment": "apps/v1",
    "Service": "v1",
    "ConfigMap": "v1",
    "Secret": "v1",
    "ServiceAccount": "v1",
    "HorizontalPodAutoscaler": "autoscaling/v2",
    "PodDisruptionBudget": "policy/v1",
    "Job": "batch/v1",
}

ACTION = re.compile(r"\{\{(.*?)\}\}", re.S)
COMMENT = re.compile(r"^-?\s*/\*.*\*/\s*-?$", re.S)
VALUES_REF = re.compile(r"(\$[A-Za-z0-9_]*)?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
BARE_VALUES = re.compile(r"(?<![\w$])\.Values\b")
INDEX_REF = re.compile(r"index\s+(\$[A-Za-z0-9_]*)?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)*)((?:\s+\"[^\"]*\")+)")
OPENERS = ("if", "with", "range", "define", "block")
KEYWORD = re.compile(r"^-?\s*(\w+)")
INCLUDE = re.compile(r"\b(?:include|template)\s+\"([^\"]+)\"")
DEFINE = re.compile(r"\bdefine\s+\"([^\"]+)\"")


def template_files(chart):
    tdir = os.path.join(chart, "templates")
    for name in sorted(os.listdir(tdir)):
        if name.endswith((".yaml", ".yml", ".tpl", ".txt")):
            yield name, os.path.join(tdir, name)


def actions(text):
    """(line, body) of every {{ ... }} action, comments excluded."""
    for m in ACTION.finditer(text):
        body = m.group(1)
        if COMMENT.match(body.strip()):
            continue
        yield text.count("\n", 0, m.start()) + 1, body


def lookup(values, path):
    node = values
    for i, key in enumerate(path):
        if not isinstance(node, dict):
            return "'%s' is not a map" % ".".join(path[:i])
        if key not in node:
            return "'%s' is not defined" % ".".join(path[: i + 1])
        node = node[key]
    return None


def check_values(chart):
    with open(os.path.join(chart, "values.yaml"), encoding="utf-8") as f:
        values = yaml.safe_load(f) or {}
    problems = []
    used = 0
    for name, path in template_files(chart):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        scopes = []  # keywords of the open blocks
        for line, body in actions(text):
            stripped = body.strip().lstrip("-").strip()
            kw = KEYWORD.match(stripped)
            word = kw.group(1) if kw else ""
            in_scope = any(s in ("with", "range") for s in scopes)
            if word == "end":
                if scopes:
                    scopes.pop()
            elif word in ("with", "range"):
                # The with/range pipeline itself is evaluated in the enclosing scope.
                if in_scope and BARE_VALUES.search(body):
                    problems.append("%s:%d: bare .Values inside a with/range block; use $.Values" % (name, line))
                scopes.append(word)
                in_scope = None  # already checked
            elif word in OPENERS:
                scopes.append(word)
            if in_scope and BARE_VALUES.search(body):
                problems.append("%s:%d: bare .Values inside a with/range block; use $.Values" % (name, line))
            for m in VALUES_REF.finditer(body):
                used += 1
                err = lookup(values, m.group(2)[1:].split("."))
                if err:
                    problems.append("%s:%d: .Values%s: %s in values.yaml" % (name, line, m.group(2), err))
            for m in INDEX_REF.finditer(body):
                keys = (m.group(2)[1:].split(".") if m.group(2) else []) + re.findall(r"\"([^\"]*)\"", m.group(3))
                used += 1
                err = lookup(values, keys)
                if err:
                    problems.append("%s:%d: index .Values %s: %s in values.yaml" % (name, line, keys, err))
    if used == 0:
        problems.append("no .Values references found: is %s the chart?" % chart)
    return problems


def check_syntax(chart):
    problems = []
    defined = set()
    included = []
    kinds_seen = set()
    for name, path in template_files(chart):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        # Delimiters: scan left to right; every {{ must close before the next {{.
        pos = 0
        while True:
            open_at = text.find("{{", pos)
            close_at = text.find("}}", pos)
            if open_at < 0:
                if close_at >= 0:
                    problems.append("%s:%d: '}}' without '{{'" % (name, text.count("\n", 0, close_at) + 1))
                break
            if 0 <= close_at < open_at:
                problems.append("%s:%d: '}}' without '{{'" % (name, text.count("\n", 0, close_at) + 1))
            next_close = text.find("}}", open_at + 2)
            next_open = text.find("{{", open_at + 2)
            line = text.count("\n", 0, open_at) + 1
            if next_close < 0:
                problems.append("%s:%d: '{{' never closed" % (name, line))
                break
            if 0 <= next_open < next_close:
                problems.append("%s:%d: '{{' opened again before '}}'" % (name, line))
            pos = next_close + 2
        # Blocks.
        stack = []
        for line, body in actions(text):
            stripped = body.strip().lstrip("-").strip()
            kw = KEYWORD.match(stripped)
            word = kw.group(1) if kw else ""
            if word in OPENERS:
                stack.append((word, line))
            elif word == "end":
                if not stack:
                    problems.append("%s:%d: 'end' without an open block" % (name, line))
                else:
                    stack.pop()
            elif word == "else" and not stack:
                problems.append("%s:%d: 'else' outside a block" % (name, line))
            defined.update(DEFINE.findall(body))
            included.extend((name, line, n) for n in INCLUDE.findall(body))
        for word, line in stack:
            problems.append("%s:%d: '%s' never ended" % (name, line, word))
        # Kinds, on the text with template actions removed.
        if name.endswith((".yaml", ".yml")):
            plain = ACTION.sub("", text)
            kinds = re.findall(r"^kind:\s*(\S+)\s*$", plain, re.M)
            apis = re.findall(r"^apiVersion:\s*(\S+)\s*$", plain, re.M)
            if not kinds:
                problems.append("%s: no top-level 'kind:'" % name)
            if len(apis) != len(kinds):
                problems.append("%s: %d kind: lines but %d apiVersion: lines" % (name, len(kinds), len(apis)))
            for kind, api in zip(kinds, apis):
                if kind not in EXPECTED_KINDS:
                    problems.append("%s: unexpected kind %s" % (name, kind))
                elif EXPECTED_KINDS[kind] != api:
                    problems.append("%s: %s should be apiVersion %s, not %s" % (name, kind, EXPECTED_KINDS[kind], api))
                kinds_seen.add(kind)
    for name, line, n in included:
        if n not in defined:
            problems.append("%s:%d: include of undefined template %r" % (name, line, n))
    for kind in sorted(set(EXPECTED_KINDS) - kinds_seen):
        problems.append("no template produces a %s" % kind)
    return problems


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    chart = argv[1]
    mode = argv[2] if len(argv) > 2 else "all"
    problems = []
    if mode in ("values", "all"):
        problems += check_values(chart)
    if mode in ("syntax", "all"):
        problems += check_syntax(chart)
    if mode not in ("values", "syntax", "all"):
        print("unknown mode %s" % mode, file=sys.stderr)
        return 2
    for p in problems:
        print("FAIL " + p)
    if problems:
        return 1
    print("ok: %s (%s)" % (chart, mode))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
