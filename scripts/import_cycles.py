#!/usr/bin/env python3
"""Fails when the library's module import graph has a circle.

Each file under src/ is a module. An edge A -> B means code in A names an item that B
defines: through a `use` line or a path in the code (`crate::x::y`, `super::z`, a child
module's name). Re-exports are followed to the module that defines the item, as
`cargo modules dependencies` does, so `use crate::domain::User` is an edge to
`domain::user`, not to `domain`. Declaring a child (`mod x;`) is not an edge, and test
modules (`#[cfg(test)] mod tests`) are left out: they may reach anywhere.

Usage: scripts/import_cycles.py [src-dir]   (prints the circles, exits 1 if there are any)
"""

import re
import sys
from pathlib import Path

SRC = Path(sys.argv[1] if len(sys.argv) > 1 else "src")


def module_of(path: Path) -> tuple:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts == ["lib"]:
        return ()
    if parts[-1] == "mod":
        parts = parts[:-1]
    return tuple(parts)


def code_of(text: str) -> str:
    """The file's text without its test module, comments and string literals."""
    cut = re.search(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", text)
    if cut:
        text = text[: cut.start()]
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'(?<!\w)r(#*)"(?:.|\n)*?"\1', '""', text)
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', text)


def expand(tree: str) -> list:
    """`a::{b, c::{d, e as f}}` -> [a::b, a::c::d, a::c::e]; a leading `::` is dropped."""
    tree = re.sub(r"\s+", "", tree).lstrip(":")
    depth, start = 0, None
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                prefix, inner = tree[:start], tree[start + 1 : i]
                parts, level, last = [], 0, 0
                for j, c in enumerate(inner + ","):
                    if c in "{":
                        level += 1
                    elif c in "}":
                        level -= 1
                    elif c == "," and level == 0:
                        if inner[last:j]:
                            parts.append(inner[last:j])
                        last = j + 1
                out = []
                for part in parts:
                    for sub in expand(part):
                        out.append(prefix + sub if sub != "self" else prefix.rstrip(":"))
                return out
    return [re.sub(r"\bas\w+$", "", tree.replace(" ", "")).split(" as ")[0]]


def strip_alias(path: str) -> str:
    return re.split(r"(?<=\w)as(?=[A-Z_a-z])", path)[0] if "as" in path else path


files = {module_of(p): p for p in SRC.rglob("*.rs") if p.name != "main.rs"}
modules = set(files)
code = {m: code_of(p.read_text()) for m, p in files.items()}
children = {m: set(re.findall(r"\bmod\s+(\w+)\s*;", c)) for m, c in code.items()}

USE = re.compile(r"\b(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);")


def absolute(module: tuple, path: str):
    """The segments of `path` as written in `module`, from the crate root; None if external."""
    segs = [s for s in path.split("::") if s]
    if not segs:
        return None
    base = list(module)
    if segs[0] == "crate":
        base, segs = [], segs[1:]
    elif segs[0] == "self":
        segs = segs[1:]
    elif segs[0] == "super":
        while segs and segs[0] == "super":
            base, segs = base[:-1], segs[1:]
    elif segs[0] in children.get(module, ()):
        pass
    else:
        return None
    return base + segs


reexports = {}
for m, c in code.items():
    # Private imports count too: a child module sees its parent's.
    for _, tree in USE.findall(c):
        for path in expand(tree):
            path = strip_alias(path)
            full = absolute(m, path)
            if full:
                reexports.setdefault(m, {})[full[-1]] = full


def resolve(segs: list, seen=None) -> tuple:
    """The module that defines what `segs` names."""
    seen = seen or set()
    best = ()
    for i in range(len(segs), 0, -1):
        if tuple(segs[:i]) in modules:
            best = tuple(segs[:i])
            rest = segs[i:]
            break
    else:
        rest = segs
    if rest:
        target = reexports.get(best, {}).get(rest[0])
        key = (best, rest[0])
        if target and key not in seen:
            seen.add(key)
            return resolve(target + rest[1:], seen)
    return best


edges = {m: set() for m in modules}
INLINE = re.compile(r"(?<![\w:])((?:crate|super|self)(?:::\w+)+|\w+(?:::\w+)+)")
for m, c in code.items():
    paths = []
    for _, tree in USE.findall(c):
        paths += [strip_alias(p) for p in expand(tree)]
    body = USE.sub("", c)
    paths += INLINE.findall(body)
    for path in paths:
        full = absolute(m, path)
        if full is None:
            continue
        target = resolve(full)
        if target != m and target in modules:
            edges[m].add(target)

# Tarjan's strongly connected components.
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in sorted(edges[v]):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            sccs.append(comp)


sys.setrecursionlimit(10000)
for v in sorted(modules):
    if v not in index:
        visit(v)

name = lambda m: "::".join(("crate",) + m)
if sccs:
    for comp in sccs:
        members = set(comp)
        print("import circle among: " + ", ".join(sorted(name(m) for m in comp)))
        for m in sorted(comp):
            for t in sorted(edges[m] & members):
                print(f"  {name(m)} -> {name(t)}")
    sys.exit(1)
print(f"import graph: {len(modules)} modules, {sum(map(len, edges.values()))} edges, no circle")
