"""Every command is documented in docs/commands.md (and the README's commands run)."""

from pathlib import Path

import typer.main

from nirs4all_workspace.cli import app

DOCS = Path(__file__).parents[2] / "docs" / "commands.md"


def _leaf_commands(group, prefix=()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _leaf_commands(command, (*prefix, name))
        else:
            yield " ".join((*prefix, name))


def test_every_command_is_in_the_docs():
    text = DOCS.read_text()
    missing = [c for c in _leaf_commands(typer.main.get_command(app)) if f"`nirs4all {c}" not in text]
    assert not missing, f"commands missing from docs/commands.md: {missing}"
