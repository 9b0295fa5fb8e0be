"""The layering in pyproject.toml's import-linter contracts holds, and each contract can actually fail."""

from __future__ import annotations

import pytest
from importlinter.cli import lint_imports

from tests.paths import REPO_ROOT

PACKAGES = ("stream", "decider", "encoders", "infra")


@pytest.fixture
def in_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)


def test_every_contract_is_kept(in_repo_root: None) -> None:
    assert lint_imports(no_cache=True, no_logo=True) == 0


@pytest.mark.parametrize(
    ("offender", "imported"),
    [
        ("infra/_layering_probe.py", "encoders.listing"),  # a lower layer importing a higher one
        ("encoders/_layering_probe.py", "decider.pairs"),
        ("decider/_layering_probe.py", "stream.events"),
        ("decider/models/_layering_probe.py", "decider.training.job"),  # the worker's path importing offline tooling
        ("stream/worker/_layering_probe.py", "stream.commands.cli"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(in_repo_root: None, offender: str, imported: str) -> None:
    probe = REPO_ROOT / offender
    probe.write_text(f"import {imported}  # written by tests/unit/test_architecture.py\n")
    try:
        assert lint_imports(no_cache=True, no_logo=True) != 0
    finally:
        probe.unlink()


def test_the_layers_contract_names_every_package() -> None:
    pyproject = (REPO_ROOT / "pyproject.toml").read_text()
    layers_line = next(line for line in pyproject.splitlines() if line.startswith("layers = "))
    assert [name.strip(' "') for name in layers_line.split("=", 1)[1].strip(" []").split(",")] == list(PACKAGES)
    assert sorted(PACKAGES) == sorted(
        entry.name for entry in REPO_ROOT.iterdir() if (entry / "__init__.py").is_file() and entry.name != "tests"
    )
