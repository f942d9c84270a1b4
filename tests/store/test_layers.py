"""The store sits beneath every method: nothing under videostar/store imports star/, savi/ or engine/."""

import ast
from pathlib import Path

STORE = Path(__file__).resolve().parents[2] / "videostar" / "store"
ABOVE = ("videostar.star", "videostar.savi", "videostar.engine", "videostar.eval", "videostar.rl")


def test_store_imports_nothing_above_it():
    found = []
    for path in sorted(STORE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            found += [f"{path.name}: {name}" for name in names if name.startswith(ABOVE)]
    assert found == []
