"""The package's import map: no cycles between scrapersky modules, and the layers import downward.

The package root holds only Scrapy's template modules (settings, items, pipelines, middlewares,
exporters, signals) and packages; modules that left it keep their old paths in scrapersky.MOVED.

Every module under scrapersky/ is parsed with `ast` (nothing is imported), taking its imports at
module level and inside functions alike, since a function-level import is how a cycle hides.
Rules:
- no cycle among scrapersky's modules (a package's __init__ counts as the package's own module);
- the pure cores (core/, sitemaps/, metadata/) import no Scrapy or Twisted and no scrapersky
  module but each other;
- scrapersky.db imports nothing from the spiders, commands, api, pipelines, extensions,
  scheduling, the network/browser code or config (it takes settings' values from its callers);
- items.py imports nothing from scrapersky.db.
An exception is an entry in ALLOWED with the reason; there are none today.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "scrapersky"

PURE_CORES = ("scrapersky.core", "scrapersky.sitemaps", "scrapersky.metadata")
ABOVE_DB = (
    "scrapersky.spiders",
    "scrapersky.commands",
    "scrapersky.api",
    "scrapersky.pipelines",
    "scrapersky.extensions",
    "scrapersky.scheduling",
    "scrapersky.net",
    "scrapersky.rendering",
    "scrapersky.config",
)
FRAMEWORKS = ("scrapy", "twisted")
# What the package root may hold besides packages: Scrapy's project template, and __init__.
ROOT_MODULES = {"__init__", "settings", "items", "pipelines", "middlewares", "exporters", "signals"}

# (importer, imported) pairs exempt from the rules above, each with the reason. Empty: an entry
# is a known debt, named here rather than hidden in a rule.
ALLOWED: dict[tuple[str, str], str] = {}


def module_name(path: Path, package_dir: Path) -> str:
    parts = path.relative_to(package_dir.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path, name: str, modules: set[str]) -> set[str]:
    """Every module `path` imports anywhere in its body, as absolute dotted names.

    `from package import submodule` names the submodule only: the package itself counts only
    when a name taken from it is not one of `modules` (the scrapersky modules).
    """
    is_package = path.name == "__init__.py"
    base = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                module = ".".join(anchor + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            submodules = {f"{module}.{alias.name}" for alias in node.names}
            found.update(submodules & modules)
            if not submodules <= modules:
                found.add(module)
    return found


def build_graph(package_dir: Path = PACKAGE_DIR) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(internal graph: module -> scrapersky modules it imports, every import by module)."""
    files = {module_name(path, package_dir): path for path in sorted(package_dir.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    every: dict[str, set[str]] = {}
    for name, path in files.items():
        imports = imported_names(path, name, set(files))
        every[name] = imports
        graph[name] = {target for target in imports if target in files and target != name}
    return graph, every


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if (node, target) in ALLOWED:
                continue
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def violations(
    graph: dict[str, set[str]],
    every: dict[str, set[str]],
    importers: tuple[str, ...],
    forbidden: tuple[str, ...],
) -> list[str]:
    return sorted(
        f"{name} imports {target}"
        for name, imports in every.items()
        if within(name, importers)
        for target in imports
        if within(target, forbidden) and (name, target) not in ALLOWED
    )


GRAPH, EVERY = build_graph()


def test_the_map_covers_the_package() -> None:
    assert {"scrapersky", "scrapersky.db", "scrapersky.db.jobs", "scrapersky.items"} <= GRAPH.keys()
    assert "scrapersky.core.states" in GRAPH["scrapersky.items"]


def test_no_import_cycle() -> None:
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_pure_cores_import_no_framework_and_nothing_above() -> None:
    above = tuple(name for name in GRAPH if name != "scrapersky" and not within(name, PURE_CORES))
    assert violations(GRAPH, EVERY, PURE_CORES, FRAMEWORKS + above) == []


def test_db_imports_nothing_above_it() -> None:
    assert violations(GRAPH, EVERY, ("scrapersky.db",), ABOVE_DB) == []


def test_items_import_no_database() -> None:
    assert violations(GRAPH, EVERY, ("scrapersky.items",), ("scrapersky.db",)) == []


def root_strays(package_dir: Path = PACKAGE_DIR) -> list[str]:
    """What the package root holds besides the template modules and packages."""
    return sorted(
        path.name
        for path in package_dir.iterdir()
        if (path.suffix == ".py" and path.stem not in ROOT_MODULES)
        or (path.is_dir() and path.name != "__pycache__" and not (path / "__init__.py").exists())
    )


def test_the_root_holds_only_template_modules_and_packages() -> None:
    assert root_strays() == [], "move it into a package; its old path goes in scrapersky.MOVED"


def test_root_rule_sees_a_planted_module_and_a_plain_directory(tmp_path: Path) -> None:
    package = tmp_path / "scrapersky"
    (package / "core").mkdir(parents=True)
    (package / "core" / "__init__.py").write_text("")
    (package / "static").mkdir()
    for name in ("__init__.py", "settings.py", "pipelines.py", "helpers.py"):
        (package / name).write_text("")
    assert root_strays(package) == ["helpers.py", "static"]


def test_cycle_finder_sees_a_function_level_cycle(tmp_path: Path) -> None:
    package = tmp_path / "scrapersky"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from scrapersky import b\n")
    (package / "b.py").write_text("def later():\n    from .a import x\n")
    graph, _ = build_graph(package)
    assert find_cycle(graph) == ["scrapersky.a", "scrapersky.b", "scrapersky.a"]


def test_allowed_entries_are_still_needed() -> None:
    stale = [pair for pair in ALLOWED if pair[1] not in EVERY.get(pair[0], set())]
    assert stale == [], "no longer imported: drop them from ALLOWED"
