#!/usr/bin/env python3
"""The house's size rules, checked by .ci/run (issue 19's "done when"):

- no class file under */src/main/java is over 500 lines;
- no method or constructor in lb-core's main code is over 60 lines.

A method's length runs from the line holding its name to the line of its closing brace; comments
and string literals are blanked first so braces inside them do not count. Prints each breach and
exits 1, or prints the largest of each and exits 0.  Usage: python3 .ci/house-rules.py
"""
import pathlib
import re
import sys

MAX_CLASS_LINES = 500
MAX_CORE_METHOD_LINES = 60
KEYWORDS = {"if", "for", "while", "switch", "catch", "synchronized", "try", "return", "new",
            "else", "do", "throw", "case", "assert"}


def blank(src):
    """The source with comments and string/char literals replaced by spaces (newlines kept)."""
    out, i, n = [], 0, len(src)
    while i < n:
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif src.startswith('"""', i):
            j = src.find('"""', i + 3) + 3
        elif src[i] in "\"'":
            j = i + 1
            while j < n and src[j] != src[i]:
                j += 2 if src[j] == "\\" else 1
            j += 1
        else:
            out.append(src[i])
            i += 1
            continue
        out.append(re.sub(r"[^\n]", " ", src[i:j]))
        i = j
    return "".join(out)


def methods(path):
    """(lines, start line, name) of every method and constructor body in one file."""
    src = blank(path.read_text())
    found = []
    for brace in re.finditer(r"\{", src):
        head = src[: brace.start()].rstrip()
        throws = re.search(r"\)\s*throws\s+[\w.,\s<>]+$", head)
        if throws:
            head = head[: throws.start() + 1]
        if not head.endswith(")"):
            continue
        depth, j = 0, len(head) - 1
        while j >= 0:
            depth += {")": 1, "(": -1}.get(head[j], 0)
            if depth == 0:
                break
            j -= 1
        before = head[:j].rstrip()
        name = re.search(r"([\w$]+)\s*(<[^()]*>)?$", before)
        if not name or name.group(1) in KEYWORDS:
            continue
        prev = before[: name.start()].rstrip()
        if prev.endswith(("record", ".", "->")) or re.search(r"(^|\W)new\s+[\w.<>]*$", prev):
            continue
        depth, end = 0, brace.start()
        while end < len(src):
            depth += {"{": 1, "}": -1}.get(src[end], 0)
            if depth == 0:
                break
            end += 1
        start_line = src.count("\n", 0, name.start()) + 1
        found.append((src.count("\n", 0, end) + 2 - start_line, start_line, name.group(1)))
    return found


def main():
    root = pathlib.Path(__file__).resolve().parent.parent
    breaches = []
    classes = sorted(root.glob("*/src/main/java/**/*.java")) + sorted(
        root.glob("examples/*/src/main/java/**/*.java"))
    sizes = sorted(((len(p.read_text().splitlines()), p) for p in classes), reverse=True)
    for lines, p in sizes:
        if lines > MAX_CLASS_LINES:
            breaches.append(f"{p.relative_to(root)}: {lines} lines (max {MAX_CLASS_LINES})")
    core = [(n, p, line, name) for p in sorted(root.glob("lb-core/src/main/java/**/*.java"))
            for n, line, name in methods(p)]
    core.sort(reverse=True)
    for n, p, line, name in core:
        if n > MAX_CORE_METHOD_LINES:
            breaches.append(f"{p.relative_to(root)}:{line} {name}: {n} lines "
                            f"(max {MAX_CORE_METHOD_LINES} in lb-core)")
    if breaches:
        print("house rules broken:\n  " + "\n  ".join(breaches))
        sys.exit(1)
    lines, p = sizes[0]
    n, mp, line, name = core[0]
    print(f"house rules hold: largest class {p.relative_to(root)} ({lines} lines); longest lb-core "
          f"method {mp.relative_to(root)}:{line} {name} ({n} lines)")


if __name__ == "__main__":
    main()
