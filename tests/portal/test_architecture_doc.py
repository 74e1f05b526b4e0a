"""docs/architecture.md's dependency picture is the code's: regenerated, it does not change."""

from __future__ import annotations

import importlib.util

from tests.portal.test_settings import ROOT


def test_the_dependency_picture_matches_the_imports():
    spec = importlib.util.spec_from_file_location("dependencies", ROOT / "docs" / "dependencies.py")
    dependencies = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dependencies)

    assert dependencies.main(["--check"]) == 0, "run: .venv/bin/python docs/dependencies.py"
