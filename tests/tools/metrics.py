#!/usr/bin/env python3
"""metrics.py - the parsing half of `make metrics` (tests/tools/metrics.sh).

Every subcommand reads what the compiler produced from smtp.h, so nothing
here knows a function name of the implementation (only the public
smtp_session, and the roots given on the command line).

  struct PRE.i                 top-level members of struct smtp_session in
                               preprocessed source: counts, then one line
                               per member name (for the sizeof program)
  functions HEADER PRE.i...    the function definitions of HEADER found in
                               preprocessed files (union), longest first
  su HEADER N FILE.su          the N largest frames of HEADER (-fstack-usage)
  callgraph FILE.ci ROOT...    worst static stack path from each ROOT
                               (-fcallgraph-info=su)
"""
import os
import re
import sys

TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|[A-Za-z_]\w*|\d[\w.]*|\S')
MARKER = re.compile(r'^#\s*(\d+)\s+"([^"]*)"')


def tokens(path):
    # a marker "# N file" means: the NEXT line is line N
    out = []
    cur_file, nxt = path, 1
    with open(path, errors="replace") as f:
        for raw in f:
            m = MARKER.match(raw)
            if m:
                nxt, cur_file = int(m.group(1)), m.group(2)
                continue
            line = nxt
            nxt += 1
            if raw.lstrip().startswith("#"):
                continue
            for t in TOKEN.findall(raw):
                out.append((t, cur_file, line))
    return out


# ---------------------------------------------------------------- struct

def struct_members(path, name="smtp_session"):
    toks = [t for t, _, _ in tokens(path)]
    start = None
    for i in range(len(toks) - 2):
        if toks[i] == "struct" and toks[i + 1] == name and toks[i + 2] == "{":
            start = i + 3
            break
    if start is None:
        sys.exit("metrics.py: no definition of struct %s" % name)
    decls, cur, depth = [], [], 0
    i = start
    while True:
        t = toks[i]
        i += 1
        if t in "({[":
            depth += 1
        elif t in ")]}":
            if depth == 0:          # the closing brace of the struct
                break
            depth -= 1
        if t == ";" and depth == 0:
            decls.append(cur)
            cur = []
        else:
            cur.append(t)
    names = []
    for d in decls:
        # split the declaration into declarators at top-level commas
        parts, part, depth = [], [], 0
        for t in d:
            if t in "({[":
                depth += 1
            elif t in ")]}":
                depth -= 1
            if t == "," and depth == 0:
                parts.append(part)
                part = []
            else:
                part.append(t)
        parts.append(part)
        for p in parts:
            names.append(declarator_name(p))
    return decls, names


def declarator_name(p):
    # drop [..] and {..} contents, a bit-field width; "(*name)" is a function pointer
    flat, depth = [], 0
    for t in p:
        if t in "[{":
            depth += 1
            continue
        if t in "]}":
            depth -= 1
            continue
        if depth == 0:
            flat.append(t)
    if ":" in flat:
        flat = flat[:flat.index(":")]
    for k in range(len(flat) - 2):
        if flat[k] == "(" and flat[k + 1] == "*" and re.match(r"[A-Za-z_]\w*$", flat[k + 2]):
            return flat[k + 2]
    if "}" in p:                    # struct {...} name: what follows the brace
        after = p[len(p) - p[::-1].index("}"):]
        flat = [t for t in flat if t in after] if after else []
    ids = [t for t in flat if re.match(r"[A-Za-z_]\w*$", t)]
    return ids[-1] if ids else "?"  # "?": an anonymous struct or union member


def cmd_struct(path):
    decls, names = struct_members(path)
    print("declarations %d" % len(decls))
    print("fields %d" % len(names))
    for n in names:
        print("name %s" % n)


# ---------------------------------------------------------------- functions

def functions(header, path):
    """[(name, first line, last line)] of function bodies whose name is in header."""
    toks = tokens(path)
    base = os.path.basename(header)
    found, depth, i = [], 0, 0
    n = len(toks)
    while i < n:
        t = toks[i][0]
        if t == "{":
            if depth == 0:
                name_at = function_name(toks, i)
                if name_at is not None:
                    # find the matching brace
                    d, j = 0, i
                    while j < n:
                        if toks[j][0] == "{":
                            d += 1
                        elif toks[j][0] == "}":
                            d -= 1
                            if d == 0:
                                break
                        j += 1
                    nt, nf, nl = toks[name_at]
                    if os.path.basename(nf) == base and j < n:
                        found.append((nt, nl, toks[j][2]))
                    i = j + 1
                    continue
            depth += 1
        elif t == "}":
            depth -= 1
        i += 1
    return found


def function_name(toks, i):
    """index of the function's name if the '{' at i opens a function body."""
    k = i - 1
    while k >= 0:
        if toks[k][0] != ")":
            return None
        d = 0
        while k >= 0:               # back to the matching '('
            if toks[k][0] == ")":
                d += 1
            elif toks[k][0] == "(":
                d -= 1
                if d == 0:
                    break
            k -= 1
        k -= 1
        if k < 0:
            return None
        prev = toks[k][0]
        if prev in ("__attribute__", "__asm__", "asm", "__asm"):
            k -= 1                  # an attribute after the parameters: keep going back
            continue
        if prev == "(":             # the inner parentheses of __attribute__((...))
            k -= 1
            if k >= 0 and toks[k][0] == "__attribute__":
                k -= 1
                continue
            return None
        if re.match(r"[A-Za-z_]\w*$", prev) and prev not in ("if", "while", "for", "switch", "return", "sizeof"):
            return k
        return None
    return None


def cmd_functions(header, paths, top=10, limit=60):
    seen = {}
    for p in paths:
        for name, a, b in functions(header, p):
            seen[(name, a)] = max(seen.get((name, a), 0), b - a + 1)
    rows = sorted(((ln, name, a) for (name, a), ln in seen.items()), key=lambda r: (-r[0], r[2]))
    print("  %d function definitions; %d longer than %d lines; %d lines in function bodies in all"
          % (len(rows), sum(1 for r in rows if r[0] > limit), limit, sum(r[0] for r in rows)))
    print("  the %d longest (lines from the name to the closing brace):" % top)
    for ln, name, a in rows[:top]:
        print("    %5d  %-34s smtp.h:%d" % (ln, name, a))


# ---------------------------------------------------------------- stack

def cmd_su(header, top, path):
    base = os.path.basename(header)
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3:
                continue
            loc, size, kind = parts
            m = re.match(r"(.*):(\d+):(\d+):(.*)$", loc)
            if not m or os.path.basename(m.group(1)) != base:
                continue
            rows.append((int(size), m.group(4), int(m.group(2)), kind))
    rows.sort(key=lambda r: (-r[0], r[2]))
    total = len(rows)
    print("  %d frames; %d of 1 KB or more; the %d largest:" % (total, sum(1 for r in rows if r[0] >= 1024), top))
    for size, name, line, kind in rows[:int(top)]:
        print("    %6d  %-34s smtp.h:%-5d %s" % (size, name, line, kind))


NODE = re.compile(r'node:\s*\{\s*title:\s*"([^"]*)"\s*label:\s*"([^"]*)"')
EDGE = re.compile(r'edge:\s*\{\s*sourcename:\s*"([^"]*)"\s*targetname:\s*"([^"]*)"')


def read_ci(path):
    nodes, edges = {}, {}
    with open(path) as f:
        for line in f:
            m = NODE.search(line)
            if m:
                title, label = m.group(1), m.group(2)
                parts = label.split("\\n")
                size = None
                for p in parts[1:]:
                    mm = re.match(r"(\d+) bytes \(([^)]*)\)", p)
                    if mm:
                        size = (int(mm.group(1)), mm.group(2))
                nodes[title] = (parts[0], size)
                continue
            m = EDGE.search(line)
            if m:
                edges.setdefault(m.group(1), [])
                if m.group(2) not in edges[m.group(1)]:
                    edges[m.group(1)].append(m.group(2))
    return nodes, edges


def cmd_callgraph(path, roots):
    nodes, edges = read_ci(path)
    memo = {}

    def worst(n, stack):
        """(bytes, path, unknowns) of the deepest known path from n; unknowns: set of
        what the figure leaves out on that whole subtree (indirect calls,
        external functions, recursion, unbounded dynamic frames)."""
        if n in memo:
            return memo[n]
        label, size = nodes.get(n, (n, None))
        if size is None:                        # not compiled here: libc, BearSSL
            return (0, [], {"external " + label.replace("__builtin_", "")})
        own, kind = size
        unknown = set()
        if "dynamic" in kind and "bounded" not in kind:
            unknown.add("unbounded dynamic frame in " + label)
        best = (0, [])
        stack.add(n)
        for c in edges.get(n, []):
            if c == "__indirect_call":
                unknown.add("indirect call from " + label)
                continue
            if c in stack:
                unknown.add("recursion " + label + " -> " + nodes.get(c, (c,))[0])
                continue
            b, p, u = worst(c, stack)
            unknown |= u
            if b > best[0]:
                best = (b, p)
        stack.discard(n)
        r = (own + best[0], [(label, own)] + best[1], unknown)
        memo[n] = r
        return r

    for root in roots:
        if root not in nodes:
            print("  %s: not in the call graph" % root)
            continue
        memo.clear()
        total, p, unknown = worst(root, set())
        print("  %s: %d bytes at least (deepest path of frames compiled from smtp.h)" % (root, total))
        print("    path: " + " -> ".join("%s %d" % (name, sz) for name, sz in p))
        ind = sorted(u[len("indirect call from "):] for u in unknown if u.startswith("indirect call from "))
        ext = sorted(u[len("external "):] for u in unknown if u.startswith("external "))
        rec = sorted(u for u in unknown if u.startswith("recursion"))
        dyn = sorted(u for u in unknown if u.startswith("unbounded"))
        below = []
        if ind:
            below.append("indirect calls from %d functions (%s)" % (len(ind), ", ".join(ind[:4]) + (", ..." if len(ind) > 4 else "")))
        if ext:
            br = [e for e in ext if e.startswith("br_")]
            other = [e for e in ext if not e.startswith("br_")]
            for what, names in (("BearSSL", br), ("libc", other)):
                if names:
                    below.append("%d %s functions (%s)" % (len(names), what,
                                                          ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")))
        if rec:
            below.append("recursion: " + "; ".join(rec))
        if dyn:
            below.append("; ".join(dyn))
        print("    unknown, not counted: " + ("; ".join(below) if below else "nothing"))


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd = argv[1]
    if cmd == "struct":
        cmd_struct(argv[2])
    elif cmd == "functions":
        cmd_functions(argv[2], argv[3:])
    elif cmd == "su":
        cmd_su(argv[2], int(argv[3]), argv[4])
    elif cmd == "callgraph":
        cmd_callgraph(argv[2], argv[3:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
