"""services.py is the only app module that calls the core (the layer contract in
pyproject.toml keeps the core from importing the app)."""

from __future__ import annotations

import ast
from pathlib import Path

import kefu

APP = Path(kefu.__file__).parent / "app"
CORE = ("kefu.ingest", "kefu.store", "kefu.metrics", "kefu.qa", "kefu.scoring",
        "kefu.analysis", "kefu.options", "kefu.demo")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
    return names


def test_only_services_imports_the_core() -> None:
    offenders = {
        str(p.relative_to(APP)): sorted(m for m in _imports(p) if m.startswith(CORE))
        for p in APP.rglob("*.py") if p.name != "services.py"
    }
    assert {k: v for k, v in offenders.items() if v} == {}
