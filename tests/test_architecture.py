"""The package's layout holds (docs/architecture.md): no import cycles, argparse only
in the command line, function-level imports only with a reason, no history in
comments, and a small public API that imports nothing heavy."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import grimp

HARNESS = Path(__file__).resolve().parents[1] / "harness"
REPO = HARNESS.parent


def _modules() -> list[Path]:
    return sorted(HARNESS.rglob("*.py"))


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module, or a module importing
    itself (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1 or node in graph.get(node, ()):
                    found.append(sorted(comp))
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"a"}}) == [["a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_another_that_imports_it_back() -> None:
    """Every import counts, function-level ones too: a cycle hidden in a function is
    still a cycle."""
    g = grimp.build_graph("teecert")
    graph = {m: set(g.find_modules_directly_imported_by(m)) for m in g.modules}
    assert _cycles(graph) == []


def test_only_the_command_line_parses_arguments() -> None:
    """The plugin, pytest's front door, declares pytest's options: it parses nothing,
    but takes argparse's marker to hide those only ``teecert run`` passes."""
    users = [p.relative_to(HARNESS).as_posix() for p in _modules()
             if re.search(r"^\s*(import argparse|from argparse import)", p.read_text(), re.M)]
    assert users and all(u.startswith("cli/") or u == "certify/plugin.py" for u in users), users


def test_function_level_imports_say_why() -> None:
    """An import inside a function is for an optional or slow dependency, and a
    comment on it (or just above its block) says which."""
    bare = []
    for p in _modules():
        lines = p.read_text().splitlines()
        for fn in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if not isinstance(node, ast.Import | ast.ImportFrom):
                    continue
                first = node.lineno - 1
                while first > 0 and lines[first - 1].strip().startswith(("from ", "import ")):
                    first -= 1
                block = lines[first : node.end_lineno]
                if not (any("#" in line for line in block) or lines[first - 1].strip().startswith("#")):
                    bare.append(f"{p.relative_to(REPO)}:{node.lineno}")
    assert bare == []


ISSUE_REF = re.compile(r"\b[Ii]ssues? #?\d+\b|\([Ii]ssue\b")


def test_no_comment_or_doc_names_an_issue_number() -> None:
    """Comments say why, not when: history belongs in commits."""
    roots = ["harness", "suites", "tests", "benchmarks", "native", "docs", ".ci"]
    hits = []
    for root in roots:
        for p in sorted((REPO / root).rglob("*")):
            if p.is_file() and p.suffix in (".py", ".c", ".h", ".md", ".sh", "") and "__pycache__" not in p.parts:
                try:
                    text = p.read_text()
                except (UnicodeDecodeError, OSError):
                    continue
                hits += [f"{p.relative_to(REPO)}:{i}" for i, line in enumerate(text.splitlines(), 1)
                         if ISSUE_REF.search(line) and p.name != "test_architecture.py"]
    assert hits == []


def test_the_public_api_is_small_and_imports_nothing_heavy() -> None:
    code = (
        "import sys, teecert\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('teecert'))\n"
        "assert loaded == ['teecert', 'teecert._internal', 'teecert._internal.version', 'teecert.errors'], loaded\n"
        "assert teecert.load_profile('development').id == 'development'\n"
        "assert teecert.load_vector_set().name\n"
        "assert callable(teecert.certify) and callable(teecert.verify_report)\n"
        "assert issubclass(teecert.MalformedInput, teecert.TeecertError)\n"
        "missing = [n for n in teecert.__all__ if not hasattr(teecert, n)]\n"
        "assert not missing, missing\n"
        "try:\n"
        "    teecert.no_such_name\n"
        "except AttributeError:\n"
        "    pass\n"
        "else:\n"
        "    raise SystemExit('an unknown name resolved')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
