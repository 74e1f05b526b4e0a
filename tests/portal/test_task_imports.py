"""A task shares its service's name (STYLE §8), so a module that defines the service and imports
the task must import it as `<name>_task`: otherwise, inside that function, the service's name
means the task, and a call meant for the service queues a task instead (or the reverse)."""

from __future__ import annotations

import ast

from tests.portal.test_settings import ROOT

APPS = ["portal", "accounts", "bookings", "calendars", "memberships", "passes", "vouchers"]
MODULES = sorted(
    path for app in APPS for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts
)


def shadowing_task_imports(path) -> list[str]:
    tree = ast.parse(path.read_text())
    own_functions = {
        node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    return [
        f"line {node.lineno}: {alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("tasks")
        for alias in node.names
        if (alias.asname or alias.name) in own_functions
    ]


def test_no_module_imports_a_task_under_the_name_of_its_own_function():
    found = {
        str(path.relative_to(ROOT)): lines for path in MODULES if (lines := shadowing_task_imports(path))
    }
    assert found == {}
