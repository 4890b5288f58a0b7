"""Asking before a destructive command acts."""

from __future__ import annotations

import sys

import typer

from ..errors import InputError


def can_ask() -> bool:
    """Whether a person can answer: standard input is a terminal."""
    return sys.stdin is not None and sys.stdin.isatty()


def confirm_or_refuse(question: str, yes: bool) -> None:
    """Go on with ``--yes`` or when the user agrees; abort on "no".

    Without a terminal to ask (a script, a pipe) and without ``--yes``, raise
    InputError (exit status 2) rather than act unasked.
    """
    if yes:
        return
    if not can_ask():
        raise InputError(f"{question} No terminal to ask: pass --yes to confirm, or --dry-run to only look")
    if not typer.confirm(question, default=False):
        raise typer.Abort()
