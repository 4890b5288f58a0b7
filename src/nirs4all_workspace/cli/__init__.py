"""The command line, built with typer and rich over the library."""

from .app import app, main

__all__ = ["app", "main"]
