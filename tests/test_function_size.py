"""No function in src/kefu is longer than 80 lines (working rule: split long
functions into named steps). Length is ``end_lineno - lineno + 1`` as ``ast``
reports it: from the ``def`` line (decorators excluded) to the last line of the
body, docstring and comments inside included; nested functions count on their own
and inside their parent."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "kefu"
MAX_LINES = 80


def long_functions(source: str, max_lines: int = MAX_LINES) -> list[tuple[int, str, int]]:
    """``(line, name, lines)`` of every function or method of ``source`` over ``max_lines``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            assert node.end_lineno is not None
            lines = node.end_lineno - node.lineno + 1
            if lines > max_lines:
                found.append((node.lineno, node.name, lines))
    return sorted(found)


def test_long_functions_finds_nested_and_async_ones() -> None:
    source = textwrap.dedent(
        """\
        import x

        @decorator
        def outer():
            a = 1
            async def inner():
                b = 2
                return b
            return a


        class C:
            def short(self):
                return 1
        """
    )
    # outer: lines 4-9 = 6 lines (the decorator on line 3 does not count); inner: 6-8 = 3
    assert long_functions(source, max_lines=2) == [(4, "outer", 6), (6, "inner", 3)]
    assert long_functions(source, max_lines=3) == [(4, "outer", 6)]
    assert long_functions(source, max_lines=6) == []


def test_no_function_over_80_lines() -> None:
    paths = sorted(PACKAGE.rglob("*.py"))
    assert paths, f"no sources found under {PACKAGE}"
    offenders = [
        f"{path.relative_to(ROOT)}:{line} {name} ({lines} lines)"
        for path in paths
        for line, name, lines in long_functions(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, (
        f"{len(offenders)} function(s) longer than {MAX_LINES} lines; split them into "
        "named steps:\n" + "\n".join(offenders)
    )
