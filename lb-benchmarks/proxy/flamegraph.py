#!/usr/bin/env python3
"""Collapsed stacks -> an SVG CPU flame graph and a "where the time goes" summary (issue 16).

Input: async-profiler's collapsed output ("frame;frame;...;leaf COUNT" per line), best with its
`ann` option, which suffixes Java frames with _[j] (JIT-compiled), _[i] (inlined), _[0]
(interpreted), _[1] (C1) and kernel frames with _[k]; without it, kernel frames are still told by
_[k] and Java frames by their package path. Standard library only, so it runs wherever python3 does.

  python3 flamegraph.py STACKS.collapsed --svg OUT.svg [--summary OUT.md]
      [--title T] [--subtitle S] [--width 1600]

Layout as in Brendan Gregg's flamegraph.pl: the root at the bottom, each frame's width proportional
to the samples under it, siblings sorted by name (so two runs are laid out alike). Colors by kind:
Java green (inlined aqua), kernel orange, JVM C++ yellow, other native red, and every frame of a
JIT compiler or GC thread purple, so the JVM's own work stands out as one block.
"""

import argparse
import html
import re
import sys
from collections import Counter, defaultdict

ANNOTATION = re.compile(r"_\[([jik01])\]$")
# Threads whose samples are the JVM's own work: the JIT compilers and the garbage collector.
JIT_GC = re.compile(
    r"CompileBroker|C2Compiler|Compiler::compile|CompilerThread|GangWorker|WorkerThread|"
    r"G1[A-Z]|ConcurrentGCThread|ConcurrentMark|GCTaskThread|VMThread|ParallelTask|"
    r"SafepointSynchronize|Parallel GC|GC Thread|G1 "
)
JAVA_PACKAGE = re.compile(r"^(\[?L?)(java|javax|jdk|sun|com|io|org|net|one)[/.]")

GROUPS = [
    ("kernel", "kernel / syscalls"),
    ("netty-codec", "Netty HTTP codec (io.netty.handler.codec)"),
    ("netty", "Netty, other (event loop, channels, buffers)"),
    ("lb-edge", "lb-edge (io.miniloadbalancer.edge)"),
    ("lb-core", "lb-core (io.miniloadbalancer.core)"),
    ("jdk", "JDK (java., jdk., sun.)"),
    ("java-other", "other Java"),
    ("jit-gc", "JIT compiler / GC threads"),
    ("native", "native: libc, JVM runtime, other C/C++"),
]


def parse(path):
    """Returns [(frames, count)], frames root first; exits with a clear message on bad input."""
    stacks = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                sys.exit(f"flamegraph.py: {path}:{number}: not 'frame;...;frame COUNT': {line[:80]!r}")
            stacks.append((stack.split(";"), int(count)))
    if not stacks:
        sys.exit(f"flamegraph.py: {path}: no samples (was the profiler running under load?)")
    return stacks


def display(frame):
    """The frame's name without async-profiler's annotation, Java packages with dots."""
    name = ANNOTATION.sub("", frame)
    if frame.endswith("_[k]"):
        return name
    if JAVA_PACKAGE.match(name) or ANNOTATION.search(frame):
        name = name.replace("/", ".")
    return name


def kind(frame):
    """java, inlined, kernel, jvm (C++) or native."""
    m = ANNOTATION.search(frame)
    if m:
        return {"k": "kernel", "i": "inlined"}.get(m.group(1), "java")
    if JAVA_PACKAGE.match(frame) and "::" not in frame:
        return "java"
    if "::" in frame:
        return "jvm"
    return "native"


def is_jit_gc(frames):
    return any(JIT_GC.search(f) for f in frames)


def group_of(frame):
    """The summary group of one Java or native frame (kernel and JIT/GC are decided per stack)."""
    k = kind(frame)
    if k == "kernel":
        return "kernel"
    if k in ("java", "inlined"):
        name = display(frame)
        if name.startswith("io.netty.handler.codec"):
            return "netty-codec"
        if name.startswith("io.netty."):
            return "netty"
        if name.startswith("io.miniloadbalancer.edge"):
            return "lb-edge"
        if name.startswith("io.miniloadbalancer.core"):
            return "lb-core"
        if name.startswith(("java.", "javax.", "jdk.", "sun.", "com.sun.")):
            return "jdk"
        return "java-other"
    return "native"


def self_group(frames):
    if is_jit_gc(frames):
        return "jit-gc"
    return group_of(frames[-1])


# ---------------------------------------------------------------------------------------------
# SVG

COLORS = {
    "java": ((50, 180, 50), (110, 230, 110)),
    "inlined": ((60, 170, 170), (120, 220, 220)),
    "kernel": ((225, 120, 0), (250, 175, 60)),
    "jvm": ((200, 190, 40), (235, 230, 100)),
    "native": ((200, 50, 40), (245, 120, 100)),
    "jit-gc": ((140, 90, 200), (190, 150, 240)),
}
LEGEND = [
    ("java", "Java (JIT)"),
    ("inlined", "Java (inlined)"),
    ("kernel", "kernel"),
    ("jvm", "JVM C++"),
    ("native", "native C"),
    ("jit-gc", "JIT / GC thread"),
]


def color(kind_name, name):
    """A stable shade within the kind's range, from the name, so a frame keeps its color."""
    lo, hi = COLORS[kind_name]
    h = 0
    for ch in name:
        h = (h * 31 + ord(ch)) & 0xFFFF
    t = (h % 1000) / 1000.0
    return "rgb(%d,%d,%d)" % tuple(int(a + (b - a) * t) for a, b in zip(lo, hi))


def build_tree(stacks):
    root = {"n": 0, "c": {}}
    for frames, count in stacks:
        root["n"] += count
        node = root
        jit_gc = is_jit_gc(frames)
        for frame in frames:
            child = node["c"].get(frame)
            if child is None:
                child = node["c"][frame] = {"n": 0, "c": {}, "jit_gc": jit_gc}
            child["n"] += count
            node = child
    return root


def render_svg(stacks, title, subtitle, width):
    root = build_tree(stacks)
    total = root["n"]
    frame_h, pad, font_px, char_w = 16, 10, 11, 6.7
    top = 78  # title, subtitle, legend
    depth = max(len(frames) for frames, _ in stacks)
    height = top + (depth + 1) * frame_h + pad + 18
    scale = (width - 2 * pad) / total
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans Mono, monospace" '
        f'font-size="{font_px}">',
        f'<rect width="{width}" height="{height}" fill="#f8f8f4"/>',
        f'<text x="{width / 2}" y="24" text-anchor="middle" font-size="18" '
        f'font-family="DejaVu Sans, sans-serif" font-weight="bold">{html.escape(title)}</text>',
        f'<text x="{width / 2}" y="44" text-anchor="middle" fill="#444">'
        f"{html.escape(subtitle)}</text>",
    ]
    x = pad
    for key, label in LEGEND:
        out.append(
            f'<rect x="{x}" y="54" width="14" height="12" fill="{color(key, label)}" stroke="#666" '
            f'stroke-width="0.5"/><text x="{x + 18}" y="64">{html.escape(label)}</text>'
        )
        x += 24 + len(label) * char_w + 16
    out.append(
        f'<text x="{width - pad}" y="64" text-anchor="end" fill="#444">'
        f"{total} samples; width = share of CPU samples</text>"
    )
    base_y = height - pad - 18 - frame_h  # the root row's top

    def draw(node, name, level, x0):
        w = node["n"] * scale
        if w < 0.3:
            return
        y = base_y - level * frame_h
        if name is None:
            label, k = "all", "native"
            fill = "rgb(200,200,200)"
        else:
            label = display(name)
            k = "jit-gc" if node.get("jit_gc") and kind(name) not in ("kernel",) else kind(name)
            fill = color(k, label)
        share = 100.0 * node["n"] / total
        tip = f"{label} ({node['n']} samples, {share:.2f}%)"
        out.append(
            f'<g><title>{html.escape(tip)}</title><rect x="{x0:.2f}" y="{y}" width="{w:.2f}" '
            f'height="{frame_h - 1}" fill="{fill}" rx="1"/>'
        )
        chars = int((w - 4) / char_w)
        if chars >= 3:
            text = label if len(label) <= chars else label[: chars - 2] + ".."
            out.append(f'<text x="{x0 + 2:.2f}" y="{y + frame_h - 4}">{html.escape(text)}</text>')
        out.append("</g>")
        cx = x0
        for child_name in sorted(node["c"]):
            child = node["c"][child_name]
            draw(child, child_name, level + 1, cx)
            cx += child["n"] * scale

    sys.setrecursionlimit(max(1000, depth * 4 + 100))
    draw(root, None, 0, pad)
    out.append("</svg>")
    return "\n".join(out) + "\n", height


# ---------------------------------------------------------------------------------------------
# Summary


def summary(stacks, title, subtitle, top_n=15):
    total = sum(c for _, c in stacks)
    self_by_frame = Counter()
    frame_group = {}
    self_by_group = Counter()
    incl_by_group = Counter()
    incl_by_frame = Counter()
    for frames, count in stacks:
        leaf = frames[-1]
        g = self_group(frames)
        name = display(leaf)
        self_by_frame[name] += count
        frame_group[name] = g
        self_by_group[g] += count
        groups = {"jit-gc"} if is_jit_gc(frames) else {group_of(f) for f in frames}
        for grp in groups:
            incl_by_group[grp] += count
        for f in set(frames):
            if group_of(f) in ("lb-edge", "lb-core"):
                incl_by_frame[display(f)] += count

    def pct(n):
        return f"{100.0 * n / total:.1f}%"

    label = dict(GROUPS)
    lines = [
        f"# {title}",
        "",
        subtitle,
        "",
        f"{total} samples. *Self* = samples whose innermost frame is in the group (where the CPU",
        "was when sampled); *inclusive* = samples with the group anywhere on the stack (the work",
        "done under it, callees included). A JIT compiler or GC thread's samples count only as",
        "JIT/GC. Every event-loop thread's stack starts in the JDK (Thread.run), Netty's event",
        "loop and native thread entry frames, so those groups' inclusive shares are near 100%.",
        "",
        "## By group",
        "",
        "| group | self | inclusive |",
        "| --- | ---: | ---: |",
    ]
    for key, text in GROUPS:
        lines.append(f"| {text} | {pct(self_by_group[key])} | {pct(incl_by_group[key])} |")
    lines += [
        "",
        f"## Top {top_n} frames by self samples",
        "",
        "| # | frame | group | self |",
        "| ---: | --- | --- | ---: |",
    ]
    for i, (name, n) in enumerate(self_by_frame.most_common(top_n), 1):
        lines.append(f"| {i} | `{name}` | {frame_group[name]} | {pct(n)} |")
    if incl_by_frame:
        lines += [
            "",
            "## Our code (lb-edge, lb-core): top 10 frames by inclusive samples",
            "",
            "| frame | inclusive |",
            "| --- | ---: |",
        ]
        for name, n in incl_by_frame.most_common(10):
            lines.append(f"| `{name}` | {pct(n)} |")
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("collapsed", help="collapsed stacks file")
    p.add_argument("--svg", required=True, help="SVG to write")
    p.add_argument("--summary", help="markdown summary to write")
    p.add_argument("--title", default="CPU flame graph")
    p.add_argument("--subtitle", default="")
    p.add_argument("--width", type=int, default=1600)
    a = p.parse_args()
    if a.width < 400:
        sys.exit("flamegraph.py: --width must be at least 400")
    stacks = parse(a.collapsed)
    svg, height = render_svg(stacks, a.title, a.subtitle, a.width)
    with open(a.svg, "w", encoding="utf-8") as f:
        f.write(svg)
    if a.summary:
        with open(a.summary, "w", encoding="utf-8") as f:
            f.write(summary(stacks, a.title, a.subtitle))
    print(height)  # the caller sizes the screenshot with it


if __name__ == "__main__":
    main()
