"""Generate tests/data/workspace_v1/, a small workspace written by format version 1.

Version 1 is the format of the release before schema versions were recorded in
each file (pipeline.json, manifest.yaml, metrics.json, catalog Parquet footers,
library zip manifests carry none; workspace.json says ``format_version: 1``).
``tests/workspace/test_migrate.py`` migrates a copy of it to the current format.

This script was run ONCE with that release (git 3227ca8) and its output committed;
running it again with a later version would write the later format, so do not
regenerate it. Kept to show how the fixture was made:

    python tests/data/make_workspace_v1.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
OUT = HERE / "workspace_v1"
GRID = """\
pipeline:
  - {_or_: [snv, null]}
  - {model: {class: pls, params: {n_components: {_or_: [2, 3]}}}}
"""


def nirs4all(*args: str) -> None:
    cli = [sys.executable, "-m", "nirs4all_workspace.cli", *args, "--workspace", str(OUT)]
    subprocess.run(cli, check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    with tempfile.TemporaryDirectory() as tmp:
        grid = Path(tmp) / "grid.yaml"
        grid.write_text(GRID, encoding="utf-8")
        data = str(HERE / "tiny_nirs")
        for session in ("s1", "s2"):
            nirs4all(
                "run", "--dataset", data, "--pipeline", str(grid), "--session", session, "--plots", "none"
            )
    nirs4all("library", "save", "tiny_nirs/4", "--name", "best-pls", "--type", "pipeline")
    nirs4all("catalog", "archive", "tiny_nirs/8")
    # Pipelines 1-4 then live only in the catalog and catalog/archives/runs/.
    nirs4all("runs", "archive", "tiny_nirs", "--session", "s1", "--yes")


if __name__ == "__main__":
    main()
