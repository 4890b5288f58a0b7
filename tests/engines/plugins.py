"""Registering an engine the way an installed package does: a module and a ``.dist-info``.

``register_engine`` writes ``<site>/<module>.py`` and ``<site>/<dist>-<version>.dist-info/``
with ``METADATA`` and ``entry_points.txt``; with ``site`` on ``sys.path`` (or ``PYTHONPATH``
of a subprocess), ``importlib.metadata`` finds the entry point like any installed one.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from nirs4all_workspace.engines.registry import ENTRY_POINT_GROUP

ROOT = Path(__file__).resolve().parents[2]
NIRS4ALL = Path(sys.executable).with_name("nirs4all")


def python_blocks(markdown: Path) -> list[str]:
    """The ```python code blocks of a markdown file, verbatim."""
    return re.findall(r"^```python\n(.*?)^```", markdown.read_text(encoding="utf-8"), re.S | re.M)


def register_engine(site: Path, dist: str, module: str, source: str, name: str, target: str) -> Path:
    """Install ``source`` as module ``module`` with an entry point ``name = target``; returns ``site``."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(source, encoding="utf-8")
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{name} = {target}\n", encoding="utf-8")
    return site


def nirs4all(
    site: Path, *args: str, cwd: Path, paths: tuple[Path, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run the ``nirs4all`` CLI in a fresh process that sees the engines installed in ``site``
    (``paths``: folders a ``.pth`` file of ``site`` names, which PYTHONPATH does not read)."""
    path = os.pathsep.join([str(site), *map(str, paths), str(ROOT)])
    env = {**os.environ, "PYTHONPATH": path, "COLUMNS": "200"}
    return subprocess.run(
        [str(NIRS4ALL), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
