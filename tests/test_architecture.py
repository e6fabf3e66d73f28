"""The import direction of `app/`, read from the source with `ast` (nothing is imported).

From the bottom up: plumbing (HTTP helpers, database, settings, events, queue, security,
models, egress, sandbox), the LangGraph runtime `agents/`, the feature packages, and the
entry points that know the list of features (`routes.py`, `main.py`, `worker.py`,
`cli.py`). Arrows point down, never back up. Every import counts, also those inside
functions and under `TYPE_CHECKING`: a type-only arrow is still an arrow.

The second half of the file runs each checker on a small synthetic tree, so that every
rule is known to fail when it should.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Dotted prefixes: `app.events` covers `app/events.py` as well as `app/events/`.
PLUMBING = (
    "app.web",
    "app.db",
    "app.settings",
    "app.errors",
    "app.events",
    "app.queue",
    "app.security",
    "app.models",
    "app.egress",
    "app.sandbox",
    "app.storage",  # files' bytes: local disk or S3-compatible object storage
    "app.context",
    "app.request_ids",
    "app.metrics",  # what Nova counts for Prometheus, one process or several
    "app.shutdown",  # whether a signal asked this process to stop
    "app.logs",  # log records' fields (request, run, user) and formats
    "app.pagination",
    "app.migrate",
    "app.urls",  # parses typed-in server addresses; imports only the standard library and httpx
    "app.circuit",  # providers' circuit breakers (on the AppContext), in Redis or this process
)
FEATURES = frozenset(
    {
        "accounts",
        "admin",
        "agent_configs",
        "api",
        "calendar",
        "files",
        "health",
        "idempotency",
        "mcp_endpoint",
        "mcp_servers",
        "memory",
        "openai_compat",
        "preferences",
        "providers",
        "runs",
        "system",  # the admins' System page: dependencies, workers, queue, last errors
        "threads",
        "tokens",
        "tool_settings",
        "transfer",  # thread export (Markdown, JSON) and import (Nova JSON, ChatGPT)
    }
)
# The modules that know the list of features: the URL map, the app, the worker, the CLI.
COMPOSITION_ROOTS = ("app.main", "app.routes", "app.worker", "app.cli")
# `nova serve`'s start-up steps, called by the CLI only: above the features, like the roots.
ENTRY_POINTS = (*COMPOSITION_ROOTS, "app.bootstrap")

# The one arrow from plumbing upwards: the context opens the LangGraph checkpointer.
PLUMBING_MAY_IMPORT = {"app.context": ("app.agents.checkpoints",)}

# Everything outside itself that the LangGraph runtime imports today. A new arrow needs a
# reason here; `app.web`, `app.worker` and the page features never belong on this list.
AGENTS_MAY_IMPORT = (
    "app.calendar.client",  # the CalDAV client the calendar tools drive
    "app.calendar.models",
    "app.egress",  # every request a tool makes goes through the egress guard
    "app.sandbox",  # python_exec
    "app.events.types",  # tool and model steps are published as run events
    "app.security.files",  # the SQLite checkpoint database is created private (0600)
)
# `app.calendar` itself only re-exports its client and models; allowed as exactly that.
AGENTS_MAY_IMPORT_EXACTLY = ("app.calendar",)
AGENTS_NEVER_IMPORT = ("starlette", "sse_starlette", "arq")

WEB_FRAMEWORK = ("starlette", "sse_starlette", "app.web")
WEB_FREE_ROLES = frozenset({"service", "repository", "tasks"})
WEB_FREE_MODULES = ("app.runs.lifecycle", "app.runs.plan")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. "app.threads.views"
    target: str  # what it imports, resolved to a module of the tree when it names one
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.module} imports {self.target}"


@dataclass(frozen=True)
class Tree:
    modules: frozenset[str]
    route_modules: frozenset[str]  # modules that define a top-level `routes` list
    imports: tuple[Import, ...]

    def __repr__(self) -> str:  # pytest prints fixtures in failures; the whole graph is noise
        return f"Tree({len(self.modules)} modules, {len(self.imports)} imports)"


def within(name: str, prefixes: Iterable[str]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def feature_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in FEATURES else None


def zone(module: str) -> str:
    if module == "app" or within(module, PLUMBING):
        return "plumbing"
    if within(module, ("app.agents",)):
        return "agents"
    if feature_of(module):
        return "feature"
    if within(module, ENTRY_POINTS):
        return "entry point"
    return "unclassified"


def scan(root: Path) -> Tree:
    """Every import of every module under `root / "app"`, relative forms resolved."""
    sources: dict[str, tuple[Path, bool]] = {}
    for path in sorted((root / "app").rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        sources[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    modules = frozenset(sources)
    imports: list[Import] = []
    route_modules: set[str] = set()
    for module, (path, is_package) in sources.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        if _defines_routes(tree):
            route_modules.add(module)
        package = module if is_package else module.rpartition(".")[0]
        rel = str(path.relative_to(root))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                imports.extend(Import(module, target, rel, node.lineno) for target in _targets(node, package, modules))
    return Tree(modules, frozenset(route_modules), tuple(sorted(imports, key=lambda i: (i.path, i.line))))


def _targets(node: ast.Import | ast.ImportFrom, package: str, modules: frozenset[str]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
        source = ".".join([*base, node.module] if node.module else base)
    else:
        source = node.module or ""
    # `from app.runs import views` imports the module app.runs.views, not a name in app.runs.
    return [f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source for a in node.names]


def _defines_routes(tree: ast.Module) -> bool:
    for statement in tree.body:
        targets = statement.targets if isinstance(statement, ast.Assign) else [getattr(statement, "target", None)]
        if any(isinstance(target, ast.Name) and target.id == "routes" for target in targets):
            return True
    return False


def _report(title: str, problems: list[str]) -> str:
    return "\n".join([title, *(f"  {problem}" for problem in problems)])


# The checkers: each returns one line per offending import (empty when the rule holds).


def unclassified_packages(tree: Tree) -> list[str]:
    tops = sorted({".".join(m.split(".")[:2]) for m in tree.modules if m != "app"})
    return [f"{top}: not plumbing, agents, a feature or an entry point" for top in tops if zone(top) == "unclassified"]


def plumbing_reaching_up(tree: Tree) -> list[str]:
    problems = []
    for imp in tree.imports:
        if zone(imp.module) != "plumbing" or not within(imp.target, ("app",)) or zone(imp.target) == "plumbing":
            continue
        if within(imp.target, PLUMBING_MAY_IMPORT.get(imp.module, ())):
            continue
        problems.append(f"{imp} ({zone(imp.target)}; plumbing must not know about it)")
    return problems


def agents_reaching_out(tree: Tree) -> list[str]:
    problems = []
    for imp in tree.imports:
        if zone(imp.module) != "agents":
            continue
        if within(imp.target, AGENTS_NEVER_IMPORT):
            problems.append(f"{imp} (the LangGraph runtime knows nothing of the web or the worker)")
        elif within(imp.target, ("app",)) and not (
            within(imp.target, ("app.agents", *AGENTS_MAY_IMPORT)) or imp.target in AGENTS_MAY_IMPORT_EXACTLY
        ):
            problems.append(f"{imp} (not in AGENTS_MAY_IMPORT)")
    return problems


def feature_graph(tree: Tree) -> dict[str, dict[str, Import]]:
    """feature -> {feature it imports: the first import that makes the arrow}."""
    graph: dict[str, dict[str, Import]] = {}
    for imp in tree.imports:
        source, target = feature_of(imp.module), feature_of(imp.target)
        if source and target and source != target:
            graph.setdefault(source, {}).setdefault(target, imp)
    return graph


def find_cycle(graph: dict[str, dict[str, Import]]) -> list[str]:
    """Nodes of one cycle, first node repeated at the end; empty if the graph is acyclic."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str]:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return []
        path.append(node)
        for successor in sorted(graph.get(node, {})):
            if cycle := visit(successor):
                return cycle
        path.pop()
        done.add(node)
        return []

    for node in sorted(graph):
        if cycle := visit(node):
            return cycle
    return []


def feature_cycle(tree: Tree) -> list[str]:
    graph = feature_graph(tree)
    cycle = find_cycle(graph)
    if not cycle:
        return []
    arrows = [f"{a} -> {b}: {graph[a][b]}" for a, b in pairwise(cycle)]
    return [" -> ".join(cycle), *arrows]


def runs_importing_threads(tree: Tree) -> list[str]:
    return [
        f"{imp} (threads asks runs to start a run; runs never calls back)"
        for imp in tree.imports
        if feature_of(imp.module) == "runs" and feature_of(imp.target) == "threads"
    ]


def web_in_services(tree: Tree) -> list[str]:
    return [
        str(imp)
        for imp in tree.imports
        if (imp.module.rpartition(".")[2] in WEB_FREE_ROLES or imp.module in WEB_FREE_MODULES)
        and within(imp.target, WEB_FRAMEWORK)
    ]


def feature_list_outside_roots(tree: Tree) -> list[str]:
    """Route modules (`views`, or any module with a `routes` list), job modules and the
    entry points themselves are imported by the composition roots only."""
    problems = []
    for imp in tree.imports:
        if within(imp.module, COMPOSITION_ROOTS):
            continue
        target = imp.target
        role = target.rpartition(".")[2]
        if feature_of(target) and (role in ("views", "tasks") or target in tree.route_modules):
            problems.append(f"{imp} (a feature's {'jobs' if role == 'tasks' else 'routes'})")
        elif within(target, ENTRY_POINTS):
            problems.append(f"{imp} (an entry point)")
    return problems


@pytest.fixture(scope="module")
def app_tree() -> Tree:
    return scan(ROOT)


def test_every_top_level_module_is_classified(app_tree: Tree) -> None:
    problems = unclassified_packages(app_tree)
    assert not problems, _report("Add these to PLUMBING, FEATURES or ENTRY_POINTS:", problems)


def test_plumbing_never_imports_features(app_tree: Tree) -> None:
    problems = plumbing_reaching_up(app_tree)
    assert not problems, _report("Plumbing imports upwards (move the code down, or pass it in):", problems)


def test_agents_import_only_the_runtime_allowlist(app_tree: Tree) -> None:
    problems = agents_reaching_out(app_tree)
    assert not problems, _report("agents/ imports outside its allowlist:", problems)


def test_feature_packages_form_no_cycle(app_tree: Tree) -> None:
    problems = feature_cycle(app_tree)
    assert not problems, _report("Feature packages import each other in a cycle:", problems)


def test_runs_never_imports_threads(app_tree: Tree) -> None:
    problems = runs_importing_threads(app_tree)
    assert not problems, _report("runs imports threads:", problems)


def test_services_and_repositories_never_import_the_web(app_tree: Tree) -> None:
    problems = web_in_services(app_tree)
    assert not problems, _report("Services, repositories, jobs and the run lifecycle import the web:", problems)


def test_only_composition_roots_know_the_list_of_features(app_tree: Tree) -> None:
    problems = feature_list_outside_roots(app_tree)
    assert not problems, _report(f"Only {', '.join(COMPOSITION_ROOTS)} import these:", problems)


def test_the_scan_sees_the_known_arrows(app_tree: Tree) -> None:
    """The rules above pass vacuously if the scan finds nothing; it must see the URL map."""
    assert any(imp.module == "app.routes" and imp.target == "app.threads.views" for imp in app_tree.imports)
    assert "app.threads.views" in app_tree.route_modules


# Each checker on a synthetic tree that breaks its rule.

SYNTHETIC = {
    "app/__init__.py": "",
    "app/web/__init__.py": "",
    "app/web/deps.py": "def limiter():\n    from app.accounts import ratelimit\n    return ratelimit\n",
    "app/context.py": "from app.agents import checkpoints\nfrom app.agents.llm import make\n",
    "app/gadgets/__init__.py": "",
    "app/agents/__init__.py": "",
    "app/agents/checkpoints.py": "",
    "app/agents/llm.py": "from starlette.requests import Request\nfrom app.calendar import Client\n",
    "app/agents/tools.py": "from ..calendar import transport\nfrom app.web.templates import render\n",
    "app/accounts/__init__.py": "",
    "app/accounts/ratelimit.py": "",
    "app/accounts/service.py": "import sse_starlette\n",
    "app/calendar/__init__.py": "",
    "app/calendar/transport.py": "",
    "app/runs/__init__.py": "",
    "app/runs/service.py": "from .. import threads\n",
    "app/runs/plan.py": "from ..web import deps\n",
    "app/runs/views.py": "routes = []\n",
    "app/runs/stream.py": "routes: list[object] = []\n",
    "app/threads/__init__.py": "",
    "app/threads/service.py": "from app.runs import service\n",
    "app/threads/views.py": "from . import service\nfrom app.runs.views import run_view\nimport app.runs.stream\n",
    "app/threads/jobs.py": "from app import worker\n",
    "app/worker.py": "from app.runs import tasks\n",
    "app/routes.py": "from app.runs.views import routes\n",
}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Tree:
    root = tmp_path_factory.mktemp("synthetic")
    for name, source in SYNTHETIC.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(source)
    return scan(root)


def test_scan_resolves_relative_and_submodule_imports(synthetic: Tree) -> None:
    found = {(imp.module, imp.target) for imp in synthetic.imports}
    assert ("app.runs.service", "app.threads") in found  # from .. import threads
    assert ("app.threads.views", "app.threads.service") in found  # from . import service
    assert ("app.runs.plan", "app.web.deps") in found  # from ..web import deps
    assert ("app.agents.tools", "app.calendar.transport") in found  # from ..calendar import transport
    assert ("app.web.deps", "app.accounts.ratelimit") in found  # inside a function
    assert ("app.agents.llm", "app.calendar") in found  # a name, not a module
    assert synthetic.route_modules == {"app.runs.views", "app.runs.stream"}


def test_checker_flags_unclassified_packages(synthetic: Tree) -> None:
    assert unclassified_packages(synthetic) == ["app.gadgets: not plumbing, agents, a feature or an entry point"]


def test_checker_flags_plumbing_importing_upwards(synthetic: Tree) -> None:
    assert plumbing_reaching_up(synthetic) == [
        "app/context.py:2: app.context imports app.agents.llm (agents; plumbing must not know about it)",
        "app/web/deps.py:2: app.web.deps imports app.accounts.ratelimit (feature; plumbing must not know about it)",
    ]


def test_checker_flags_agents_reaching_out(synthetic: Tree) -> None:
    assert agents_reaching_out(synthetic) == [
        "app/agents/llm.py:1: app.agents.llm imports starlette.requests"
        " (the LangGraph runtime knows nothing of the web or the worker)",
        "app/agents/tools.py:1: app.agents.tools imports app.calendar.transport (not in AGENTS_MAY_IMPORT)",
        "app/agents/tools.py:2: app.agents.tools imports app.web.templates (not in AGENTS_MAY_IMPORT)",
    ]


def test_checker_prints_the_cycle(synthetic: Tree) -> None:
    assert feature_cycle(synthetic) == [
        "runs -> threads -> runs",
        "runs -> threads: app/runs/service.py:1: app.runs.service imports app.threads",
        "threads -> runs: app/threads/service.py:1: app.threads.service imports app.runs.service",
    ]
    assert find_cycle({"a": {"b": _stub()}, "b": {"c": _stub()}, "c": {}}) == []


def test_checker_flags_runs_importing_threads(synthetic: Tree) -> None:
    assert runs_importing_threads(synthetic) == [
        "app/runs/service.py:1: app.runs.service imports app.threads (threads asks runs to start a run;"
        " runs never calls back)"
    ]


def test_checker_flags_web_in_services(synthetic: Tree) -> None:
    assert web_in_services(synthetic) == [
        "app/accounts/service.py:1: app.accounts.service imports sse_starlette",
        "app/runs/plan.py:1: app.runs.plan imports app.web.deps",
    ]


def test_checker_flags_feature_list_outside_roots(synthetic: Tree) -> None:
    assert feature_list_outside_roots(synthetic) == [
        "app/threads/jobs.py:1: app.threads.jobs imports app.worker (an entry point)",
        "app/threads/views.py:2: app.threads.views imports app.runs.views (a feature's routes)",
        "app/threads/views.py:3: app.threads.views imports app.runs.stream (a feature's routes)",
    ]


def _stub() -> Import:
    return Import("app.x", "app.y", "app/x.py", 1)
