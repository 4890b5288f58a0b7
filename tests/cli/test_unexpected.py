"""An error nobody foresaw still reaches the user as one line, never a traceback."""

from __future__ import annotations

import importlib

import pytest

app_module = importlib.import_module("nirs4all_workspace.cli.app")  # the module, not its Typer app


def test_an_unexpected_error_is_one_line_naming_it_and_how_to_see_more(cli, monkeypatch):
    def broken(*_args, **_kwargs):
        raise KeyError("a bug of ours")

    monkeypatch.setattr(app_module, "_whole_help", broken)
    monkeypatch.delenv("NIRS4ALL_DEBUG", raising=False)
    status, _out, err = cli("runs", "list")
    assert status == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "unexpected KeyError: 'a bug of ours'" in lines[0] and "NIRS4ALL_DEBUG=1" in lines[0]


def test_nirs4all_debug_shows_the_traceback(cli, monkeypatch):
    def broken(*_args, **_kwargs):
        raise KeyError("a bug of ours")

    monkeypatch.setattr(app_module, "_whole_help", broken)
    monkeypatch.setenv("NIRS4ALL_DEBUG", "1")
    with pytest.raises(KeyError):
        cli("runs", "list")
