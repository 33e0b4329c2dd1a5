"""The layer's shape, read from the source: who may import whom (docs/architecture.md draws it).

Imports are collected with ``ast`` from every module of ``shared/healthcode``, at module level and
inside functions (the lazy imports of the composition root count). Imports under ``if TYPE_CHECKING:``
never run, so they are left out of the runtime graph, but the rules about boto3 and about scoring/
hold for them too.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "shared"
PACKAGE = ROOT / "healthcode"
ACTORS = {"residents", "checkpoints", "authority", "partners", "recompute"}  # use cases proper
MAX_LEVELS = 7


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


@cache
def _imports(module: str) -> tuple[frozenset[str], frozenset[str]]:
    """(runtime imports, type-checking-only imports) of ``module``, as dotted names."""
    tree = ast.parse(MODULES[module].read_text("utf-8"))
    runtime: set[str] = set()
    typing_only: set[str] = set()

    def visit(node: ast.AST, into: set[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for grand in child.body:
                    visit_stmt(grand, typing_only)
                for grand in child.orelse:
                    visit_stmt(grand, into)
            else:
                visit_stmt(child, into)

    def visit_stmt(node: ast.AST, into: set[str]) -> None:
        if isinstance(node, ast.Import):
            into.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            into.add(node.module)
            into.update(f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in MODULES)
        visit(node, into)

    visit(tree, runtime)
    return frozenset(runtime), frozenset(typing_only)


def _internal(names: frozenset[str], module: str) -> set[str]:
    return {n for n in names if n in MODULES and n != module}


def _graph() -> dict[str, set[str]]:
    return {m: _internal(_imports(m)[0], m) for m in MODULES}


def _longest_chain(graph: dict[str, set[str]]) -> list[str]:
    best: dict[str, list[str]] = {}

    def walk(m: str, stack: tuple[str, ...]) -> list[str]:
        if m in stack:
            raise AssertionError(f"import cycle: {' -> '.join([*stack, m])}")
        if m not in best:
            tails = [walk(n, (*stack, m)) for n in graph[m]]
            best[m] = [m, *max(tails, key=len, default=[])]
        return best[m]

    return max((walk(m, ()) for m in graph), key=len)


def test_the_import_graph_has_no_cycles_and_at_most_seven_levels():
    chain = _longest_chain(_graph())
    assert len(chain) <= MAX_LEVELS, " -> ".join(chain)


def test_the_levels_are_counted_for_real():
    # a guard on the test itself: the composition root does reach the rules through a use case
    chain = _longest_chain(_graph())
    assert len(chain) >= 4 and chain[0] == "healthcode.wiring", chain


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("healthcode.scoring")))
def test_scoring_imports_nothing_but_scoring_and_models(module):
    runtime, typing_only = _imports(module)
    outside = {
        n
        for n in runtime | typing_only
        if n.startswith("healthcode") and not n.startswith("healthcode.scoring") and n != "healthcode.models"
    }
    assert not outside, outside
    assert not {n for n in runtime | typing_only if n.split(".")[0] in {"boto3", "botocore", "aws_lambda_powertools"}}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_only_adapters_import_boto3_or_botocore(module):
    runtime, typing_only = _imports(module)
    aws = {n for n in runtime | typing_only if n.split(".")[0] in {"boto3", "botocore"}}
    assert not aws or module.startswith("healthcode.adapters."), (module, aws)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("healthcode.usecases.")))
def test_use_cases_do_not_import_other_use_cases(module):
    runtime, typing_only = _imports(module)
    actors = {
        n for n in runtime | typing_only if n.startswith("healthcode.usecases.") and n.rsplit(".", 1)[1] in ACTORS
    }
    assert not actors - {module}, actors
    concrete = {
        n for n in runtime | typing_only if n.startswith("healthcode.adapters.") and n != "healthcode.adapters.base"
    }
    assert not concrete, f"{module} depends on {concrete}; use cases see adapters through adapters.base"


@pytest.mark.parametrize(
    "module", sorted(m for m in MODULES if m.startswith(("healthcode.adapters", "healthcode.api")))
)
def test_adapters_and_http_know_no_use_cases(module):
    runtime, typing_only = _imports(module)
    assert not {n for n in runtime | typing_only if n.startswith("healthcode.usecases")}
