"""Every package the code imports is one pyproject.toml declares, and the CLI runs with the core dependencies
alone. A package that only happens to be installed (Click arrives with the test extras, not with Typer
0.22+) would pass every other test and fail on a user's `pip install stvqa`."""

import ast
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _norm(dist: str) -> str:
    return dist.lower().replace("_", "-")


def _dist(requirement: str) -> str:
    return _norm(re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip())


CORE = {_dist(r) for r in PYPROJECT["project"]["dependencies"]}


def _closure(names: set[str]) -> set[str]:
    """The distributions `names` need, with what they need in turn (as installed here)."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [_dist(r) for r in requires if "extra ==" not in r]
    return seen
EXTRAS = {_dist(r) for reqs in PYPROJECT["project"]["optional-dependencies"].values() for r in reqs}


def _catches_import_errors(handler: ast.ExceptHandler) -> bool:
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(t, ast.Name) and t.id in ("ImportError", "ModuleNotFoundError", "Exception") for t in types)


def _guarded(tree: ast.AST) -> set[int]:
    """Ids of import nodes inside `try: ... except ImportError` (optional by design: spaCy, torchvision)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(_catches_import_errors(h) for h in node.handlers):
            out |= {id(n) for stmt in node.body for n in ast.walk(stmt) if isinstance(n, ast.Import | ast.ImportFrom)}
    return out


def third_party_imports() -> dict[str, set[str]]:
    """Top-level module name -> the files importing it, for every import outside the standard library."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "stvqa").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        guarded = _guarded(tree)
        for node in ast.walk(tree):
            if id(node) in guarded:
                continue
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "stvqa":
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_imported_package_is_declared() -> None:
    owners = packages_distributions()
    undeclared = {}
    for module, files in third_party_imports().items():
        dists = {_norm(d) for d in owners.get(module, [module])}
        if not dists & (CORE | EXTRAS):
            undeclared[module] = sorted(files)
    assert undeclared == {}, "imported but not in pyproject.toml's dependencies"


def test_the_cli_runs_with_the_core_dependencies_alone(tmp_path) -> None:
    # Block every module that neither the core dependencies nor what they need provide, then run the CLI.
    needed = _closure(CORE)
    blocked = sorted(m for m, dists in packages_distributions().items()
                     if not {_norm(d) for d in dists} & needed and m.isidentifier() and m != "stvqa")
    assert "torch" in blocked and "pytest" in blocked  # the extras really are out of reach
    script = (f"import sys\nfor m in {blocked!r}: sys.modules[m] = None\n"
              "from typer.testing import CliRunner\nfrom stvqa.cli import app\n"
              "for args in (['--help'], ['build', '--help'], ['filter', '--help'], ['inspect', '--help'], ['train', '--help']):\n"
              "    r = CliRunner().invoke(app, args)\n"
              "    assert r.exit_code == 0, (args, r.output, r.exception)\n"
              "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]
