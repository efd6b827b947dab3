"""The direction of imports (docs/architecture.md), read from the source with ``ast``.

Every import counts, also one inside a function: hiding a cycle there only moves it to
run time. ``sync/`` and ``media/`` are libraries that know nothing of Flask, the database
or the server; inside ``server/`` there is no cycle, and a stage of the lifecycle imports
only the stages before it.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The stages of server/ in lifecycle order. The audit trail records what every stage
# does, so every stage may import it and it imports none of them.
STAGES = ("registry", "plans", "checks", "evidence", "review", "cases", "bulletins")
ABOVE_STAGES = ("server.sync", "server.web", "server.cli", "server.demo")
FRAMEWORKS = ("flask", "flask_babel", "flask_login", "flask_migrate", "flask_sqlalchemy",
              "flask_wtf", "sqlalchemy", "werkzeug", "server")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(package: str) -> dict[str, Path]:
    return {_module_name(path): path for path in sorted((ROOT / package).rglob("*.py"))}


def _imported(name: str, path: Path, modules=()) -> set[str]:
    """Every module ``path`` imports, at any depth of its code, as absolute names.
    ``from p import x`` imports ``p.x`` when that is one of ``modules``, else ``p``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules
                          else base)
    return found


def _graph(package: str) -> dict[str, set[str]]:
    """module -> the modules of the same package it imports."""
    modules = _modules(package)
    return {name: {other for other in _imported(name, path, modules) if other in modules
                   and other != name}
            for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path of modules, or None."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node) -> list[str] | None:
        state[node], _ = "open", path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node], _ = "done", path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle_hidden_in_a_function(tmp_path):
    hidden = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycle(hidden) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from ..x import y\n    import server.z\n")
    assert _imported("server.pkg.m", source) == {"server.x", "server.z"}
    assert _imported("server.pkg.m", source, {"server.x.y"}) == {"server.x.y", "server.z"}


def test_server_has_no_import_cycle():
    cycle = _cycle(_graph("server"))
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else None


def test_stages_import_only_the_stages_before_them():
    wrong = []
    for module, imports in _graph("server").items():
        stage = _stage(module)
        if stage is None:
            continue
        for other in imports:
            later = _stage(other) and STAGES.index(_stage(other)) > STAGES.index(stage)
            if later or other.startswith(ABOVE_STAGES):
                wrong.append(f"{module} imports {other}")
    assert not wrong, "\n".join(sorted(wrong))


@pytest.mark.parametrize("library", ["sync", "media"])
def test_libraries_import_neither_flask_nor_the_database_nor_the_server(library):
    wrong = [f"{name} imports {other}" for name, path in _modules(library).items()
             for other in _imported(name, path) if other.split(".")[0] in FRAMEWORKS]
    assert not wrong, "\n".join(sorted(wrong))


def test_the_storage_interface_does_not_choose_its_backends():
    imports = _imported("media.storage", ROOT / "media" / "storage.py")
    assert not imports & {"media.storage_local", "media.storage_s3"}
