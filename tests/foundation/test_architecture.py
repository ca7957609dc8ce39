"""The domain imports no web or storage framework; modules stay small."""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "geo_sigap"
FORBIDDEN = ("fastapi", "starlette", "sqlalchemy", "geoalchemy2", "uvicorn", "alembic",
             "psycopg", "typer")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


def test_domain_imports_no_framework():
    for path in (PKG / "domain").rglob("*.py"):
        bad = _imports(path) & set(FORBIDDEN)
        assert not bad, f"{path.name} imports {bad}"


def test_modules_stay_small():
    big = [(p.relative_to(PKG), n) for p in PKG.rglob("*.py")
           if "migrations" not in p.parts
           and (n := len(p.read_text("utf-8").splitlines())) > 700]
    assert not big, f"split these modules: {big}"
