#!/usr/bin/env python3
"""The code's shape, checked (issue 24): run by `make test`, standard library only.

- no function over 80 lines outside tests, no file over 450 lines before its test module
  (test code: `#[cfg(test)]` modules, `tests/` folders, the `testing` support module, the
  benchmarks' data writers);
- the module graphs of the `shared` and `domain` crates have no import circle: a module is a file,
  an edge is a path it names (`crate::a::b`, `super::c`, `use` lines and paths in code alike), and
  re-exports are followed to the module that defines the name;
- only `stripe::webhook::classify` compares Stripe event type strings;
- `PartnerChange {` literals are written only in the domain crate.

`--report` prints every measure without failing (the figures for a closing note).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_FN_LINES = 80
MAX_FILE_LINES = 450
# Exceptions, each with its reason (the closing note names them too).
FILE_EXCEPTIONS: dict[str, str] = {}
FN_EXCEPTIONS: dict[str, str] = {}


def blank_literals(text: str) -> str:
    """The text with comments, strings and char literals replaced by spaces (newlines kept)."""
    out = []
    i, n = 0, len(text)

    def blank(s: str) -> str:
        return re.sub(r"[^\n]", " ", s)

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(blank(text[i:j]))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(blank(text[i:j]))
            i = j
        elif (m := re.match(r'b?r(#*)"', text[i:])) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            close = '"' + m.group(1)
            j = text.find(close, i + m.end())
            j = n if j < 0 else j + len(close)
            out.append('""' + blank(text[i + 2 : j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('"' + blank(text[i + 1 : j]) + '"')
            i = j + 1
        elif c == "'":
            if i + 1 < n and text[i + 1] == "\\":
                j = text.find("'", i + 2)
                out.append(blank(text[i : j + 1]))
                i = j + 1
            elif i + 2 < n and text[i + 2] == "'":
                out.append("   ")
                i += 3
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def matching_brace(clean: str, open_at: int) -> int:
    depth = 0
    for j in range(open_at, len(clean)):
        if clean[j] == "{":
            depth += 1
        elif clean[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return len(clean) - 1


def line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def test_regions(clean: str) -> list[tuple[int, int]]:
    """Byte ranges of `#[cfg(test)]` items and `#[test]` functions."""
    regions = []
    for m in re.finditer(r"#\[(cfg\(test\)|test|tokio::test[^\]]*)\]", clean):
        k = m.end()
        brace, semi = clean.find("{", k), clean.find(";", k)
        if brace < 0 or (0 <= semi < brace):
            continue
        regions.append((m.start(), matching_brace(clean, brace)))
    return regions


def first_test_module_line(clean: str) -> int | None:
    m = re.search(r"#\[cfg\(test\)\]\s*(pub(\([^)]*\))?\s+)?mod\s+\w+", clean)
    return line_of(clean, m.start()) if m else None


def functions(clean: str):
    """(name, first line, last line, start offset) of every function with a body."""
    for m in re.finditer(r"\bfn\s+(\w+)", clean):
        k = m.end()
        depth = 0
        while k < len(clean):
            ch = clean[k]
            if ch in "([":
                depth += 1
            elif ch in ")]":
                depth -= 1
            elif depth == 0 and ch in "{;":
                break
            k += 1
        if k >= len(clean) or clean[k] == ";":
            continue
        end = matching_brace(clean, k)
        yield m.group(1), line_of(clean, m.start()), line_of(clean, end), m.start()


def is_test_file(path: Path) -> bool:
    """Tests, test support, and the benchmarks' synthetic data writers (`devtool`'s `bench_*.rs`)."""
    parts = path.relative_to(ROOT).parts
    return (
        "tests" in parts
        or "testing" in parts
        or "benches" in parts
        or path.name == "tests.rs"
        or (parts[:2] == ("infra", "devtool") and path.name.startswith("bench_"))
    )


def rust_sources() -> list[Path]:
    files = []
    for top in ("shared", "functions", "infra/devtool"):
        base = ROOT / top
        if base.exists():
            files += [p for p in base.rglob("*.rs") if "target" not in p.parts and "node_modules" not in p.parts]
    return sorted(files)


# ---- module graph --------------------------------------------------------------------------------


class Crate:
    def __init__(self, name: str, src: Path):
        self.name, self.src = name, src
        self.modules: dict[tuple[str, ...], Path] = {}
        for p in src.rglob("*.rs"):
            rel = p.relative_to(src).with_suffix("").parts
            if rel in (("lib",), ("main",)):
                mod: tuple[str, ...] = ()
            elif rel[-1] == "mod":
                mod = rel[:-1]
            else:
                mod = rel
            if "testing" in mod or (mod and mod[-1] == "tests"):
                continue
            self.modules[mod] = p
        self.clean = {m: strip_tests(blank_literals(p.read_text())) for m, p in self.modules.items()}
        self.reexports = {m: reexports(c) for m, c in self.clean.items()}

    def resolve(self, parts: tuple[str, ...], seen=None) -> tuple[str, ...] | None:
        """The module defining the path `parts` (a module, or a name inside one)."""
        seen = seen or set()
        best = None
        for k in range(len(parts), -1, -1):
            if parts[:k] in self.modules:
                best = parts[:k]
                break
        if best is None:
            return None
        rest = parts[len(best) :]
        if rest and (best, rest[0]) not in seen:
            seen.add((best, rest[0]))
            target = self.reexports[best].get(rest[0])
            if target is not None:
                return self.resolve(absolute(best, target) + rest[1:], seen) or best
        return best

    def edges(self) -> dict[tuple[str, ...], set[tuple[str, ...]]]:
        graph: dict[tuple[str, ...], set[tuple[str, ...]]] = {m: set() for m in self.modules}
        for mod, clean in self.clean.items():
            for path in named_paths(clean):
                target = self.resolve(absolute(mod, path))
                if target is None or target == mod:
                    continue
                # A module naming its own child (`mod x; pub use x::Y`) is structure, not a use.
                if target[: len(mod)] == mod and len(mod) < len(target):
                    if is_declaration_only(clean, target[len(mod)]):
                        continue
                graph[mod].add(target)
        return graph


def strip_tests(clean: str) -> str:
    out = list(clean)
    for a, b in test_regions(clean):
        for j in range(a, b + 1):
            if out[j] != "\n":
                out[j] = " "
    return "".join(out)


def reexports(clean: str) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for m in re.finditer(r"\bpub(\([^)]*\))?\s+use\s+([^;]+);", clean):
        for path in expand_use(m.group(2)):
            parts = tuple(path)
            if parts[-1] == "*":
                continue
            alias = parts[-1]
            if " as " in " ".join(parts):
                continue
            found[alias] = parts
    return found


def is_declaration_only(clean: str, child: str) -> bool:
    """The parent names `child` only in `pub use` statements: it declares and re-exports it, and no
    code of the parent uses it."""
    for m in re.finditer(rf"\b{re.escape(child)}::", clean):
        statement = clean[clean.rfind(";", 0, m.start()) + 1 : m.start()]
        if not re.search(r"\bpub(\([^)]*\))?\s+use\b", statement):
            return False
    return True


def expand_use(tree: str) -> list[list[str]]:
    tree = re.sub(r"\s+", "", tree)

    def walk(prefix: list[str], s: str) -> list[list[str]]:
        if "{" not in s:
            if s.endswith("::*"):
                return [prefix + s[:-3].split("::") + ["*"]] if s[:-3] else [prefix + ["*"]]
            name = s.split("as")[0] if "as" in s and not s.startswith("as") else s
            return [prefix + [p for p in name.split("::") if p]]
        head, body = s.split("{", 1)
        body = body[: body.rfind("}")]
        head_parts = [p for p in head.split("::") if p]
        items, depth, cur = [], 0, ""
        for ch in body:
            if ch == "," and depth == 0:
                items.append(cur)
                cur = ""
                continue
            depth += ch == "{"
            depth -= ch == "}"
            cur += ch
        if cur:
            items.append(cur)
        out = []
        for item in items:
            if item == "self":
                out.append(prefix + head_parts)
            elif item:
                out += walk(prefix + head_parts, item)
        return out

    return walk([], tree)


def named_paths(clean: str) -> list[tuple[str, ...]]:
    paths = []
    for m in re.finditer(r"\buse\s+([^;]+);", clean):
        for p in expand_use(m.group(1)):
            if p and p[0] in ("crate", "super", "self"):
                paths.append(tuple(x for x in p if x != "*"))
    for m in re.finditer(r"(?<![\w:])((?:crate|super)(?:::(?:super|\w+))+)", clean):
        paths.append(tuple(m.group(1).split("::")))
    return paths


def absolute(mod: tuple[str, ...], path: tuple[str, ...]) -> tuple[str, ...]:
    if not path:
        return mod
    if path[0] == "crate":
        return path[1:]
    if path[0] == "self":
        return absolute(mod, path[1:]) if len(path) > 1 else mod
    if path[0] == "super":
        return absolute(mod[:-1], ("self",) + path[1:]) if len(path) > 1 else mod[:-1]
    return mod + path  # a child module, or a name re-exported here


def cycles(graph) -> list[list[tuple[str, ...]]]:
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
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
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def name(mod: tuple[str, ...]) -> str:
    return "::".join(mod) or "(root)"


# ---- the checks ----------------------------------------------------------------------------------

EVENT_TYPE = re.compile(
    r'"(?:invoice|customer|charge|payment_intent|payment_method|setup_intent|refund|checkout|'
    r'billing_portal|subscription_schedule)\.[a-z_.]+"'
)


def self_test() -> int:
    """The checks can fail: a circle through a re-export, a long function, a long file, an event type
    compared outside classify, a PartnerChange literal outside the domain; and a child module the
    parent only declares is not a circle."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp)
        (src / "a").mkdir()
        (src / "lib.rs").write_text("pub mod a;\npub mod b;\npub mod c;\n")
        (src / "a" / "mod.rs").write_text("mod inner;\npub use inner::Thing;\n")
        (src / "a" / "inner.rs").write_text("use crate::b::Other;\npub struct Thing(Other);\n")
        (src / "b.rs").write_text("pub struct Other;\npub fn f() { let _ = crate::a::Thing; }\n")
        (src / "c.rs").write_text("use crate::b::Other;\n")
        graph = Crate("t", src).edges()
        found = cycles(graph)
        assert found == [[("a", "inner"), ("b",)]], found
        assert ("a", "inner") not in graph[("a",)], "a parent declaring a child is not a use"
        long_fn = "fn long() {\n" + "    let x = 1;\n" * 85 + "}\n"
        clean = blank_literals(long_fn + '// "invoice.paid"\nlet s = "}";\n')
        assert [(n, b - a + 1) for n, a, b, _ in functions(clean)] == [("long", 87)]
        assert EVENT_TYPE.search('x == "invoice.paid"') and not EVENT_TYPE.search('"invoice paid"')
        tests = "#[cfg(test)]\nmod tests {\n    fn t() {\n" + "        let y = 2;\n" * 90 + "    }\n}\n"
        clean = blank_literals("fn a() {}\n" + tests)
        assert first_test_module_line(clean) == 2 and len(test_regions(clean)) == 1
    print("structure: self-test passed (a circle through a re-export, a long function, test modules, event types)")
    return 0


def main() -> int:
    if "--self-test" in sys.argv:
        return self_test()
    report = "--report" in sys.argv
    failures: list[str] = []
    long_fns, long_files = [], []
    for path in rust_sources():
        rel = str(path.relative_to(ROOT))
        text = path.read_text()
        clean = blank_literals(text)
        if is_test_file(path):
            continue
        tests = test_regions(clean)
        for fname, first, last, start in functions(clean):
            if any(a <= start <= b for a, b in tests):
                continue
            lines = last - first + 1
            if lines > MAX_FN_LINES:
                long_fns.append((lines, f"{rel}:{first} {fname}"))
        before = first_test_module_line(clean)
        count = (before - 1) if before else text.count("\n")
        if count > MAX_FILE_LINES:
            long_files.append((count, rel))
        # Event type strings compared outside classify.
        if not rel.endswith("shared/src/stripe/webhook/classify.rs"):
            code = strip_tests(clean)
            for m in EVENT_TYPE.finditer(text):
                # only string literals that survive as code (not comments), outside tests
                if code[m.start()] == '"' and not text[m.start() - 1] == "\\":
                    failures_line = f"{rel}:{line_of(text, m.start())} compares {m.group(0)} outside classify"
                    failures.append(failures_line)
        if "PartnerChange {" in strip_tests(clean).replace("PartnerChange{", "PartnerChange {"):
            in_domain = rel.startswith("shared/domain/")
            code = strip_tests(clean)
            for m in re.finditer(r"\bPartnerChange\s*\{", code):
                before_text = code[max(0, m.start() - 40) : m.start()]
                # a definition, an impl, or taking one apart (`let PartnerChange { .. } = change`)
                if re.search(r"(struct|impl|for|let)\s*$", before_text) or in_domain:
                    continue
                failures.append(f"{rel}:{line_of(code, m.start())} writes a PartnerChange literal outside the domain")

    for lines, where in sorted(long_fns, reverse=True):
        key = where.split(":")[0] + " " + where.split(" ")[-1]
        if key in FN_EXCEPTIONS:
            continue
        failures.append(f"{where}: {lines} lines (over {MAX_FN_LINES})")
    for lines, rel in sorted(long_files, reverse=True):
        if rel in FILE_EXCEPTIONS:
            continue
        failures.append(f"{rel}: {lines} lines before its tests (over {MAX_FILE_LINES})")

    crates = [("shared", ROOT / "shared/src"), ("domain", ROOT / "shared/domain/src")]
    for cname, src in crates:
        if not src.exists():
            continue
        crate = Crate(cname, src)
        graph = crate.edges()
        edges = sum(len(v) for v in graph.values())
        found = cycles(graph)
        if report:
            print(f"{cname}: {len(graph)} modules, {edges} edges, {len(found)} circles")
        for comp in found:
            members = set(comp)
            detail = "; ".join(
                f"{name(a)} -> {', '.join(name(b) for b in sorted(graph[a] & members))}" for a in comp
            )
            failures.append(f"{cname}: import circle among {len(comp)} modules: {detail}")

    for f in failures:
        print(f)
    if report:
        print(f"{len(long_fns)} functions over {MAX_FN_LINES} lines, {len(long_files)} files over {MAX_FILE_LINES}")
        return 0
    if failures:
        print(f"structure: {len(failures)} findings", file=sys.stderr)
        return 1
    print("structure: functions, files, import circles, event types and PartnerChange literals all within bounds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
