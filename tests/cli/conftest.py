from __future__ import annotations

import json

import pytest

from nirs4all_workspace.cli import main
from nirs4all_workspace.engines.registry import find_declaration


@pytest.fixture
def fake_registered():
    """The fake engine, installed for the whole test session by tests/conftest.py."""
    assert find_declaration("fake") is not None


@pytest.fixture
def cli(tmp_path, capsys):
    """Run ``nirs4all ARGS --workspace <tmp>`` in-process; returns (status, stdout, stderr)."""
    root = tmp_path / "ws"

    def invoke(*args: str, workspace: bool = True):
        argv = [*args, "--workspace", str(root)] if workspace else list(args)
        status = main(argv)
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    invoke.root = root
    invoke.json = lambda *args: json.loads(invoke(*args, "--json")[1])
    return invoke
