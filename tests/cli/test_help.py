import typer.main

from nirs4all_workspace.cli import app, main


def _commands(group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if hasattr(command, "commands"):
            yield from _commands(command, (*prefix, name))


def test_every_command_has_help_and_takes_workspace(capsys):
    root = typer.main.get_command(app)
    seen = []
    for path, command in _commands(root):
        assert command.help, f"{' '.join(path)} has no help text"
        assert main([*path, "--help"]) == 0
        out = capsys.readouterr().out
        assert "Usage" in out
        if not hasattr(command, "commands"):
            assert "--workspace" in out, f"{' '.join(path)} does not take --workspace"
        seen.append(" ".join(path))
    assert {
        "run",
        "runs list",
        "runs show",
        "catalog list",
        "catalog best",
        "catalog query",
        "catalog compact",
        "catalog archive",
        "catalog rebuild",
        "runs delete",
        "runs archive",
        "workspace verify",
        "workspace gc",
        "workspace du",
    } <= set(seen)


def test_an_unknown_command_is_a_usage_error(capsys):
    assert main(["frobnicate"]) == 2
    assert "No such command" in capsys.readouterr().err
