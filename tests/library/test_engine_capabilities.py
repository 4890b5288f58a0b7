"""predict and run --from-zip ask the engine recorded in the zip, and refuse clearly what it cannot do."""

from __future__ import annotations

import pytest

from nirs4all_workspace import Workspace
from nirs4all_workspace.errors import InputError
from nirs4all_workspace.experiment import run_experiment
from nirs4all_workspace.library.predict import load_model
from nirs4all_workspace.library.reproduce import rerun_zip
from nirs4all_workspace.library.trained import save_trained
from tests.fakes import FakeDataset, FakeEngine


class GhostEngine(FakeEngine):
    name = "ghost"  # never installed


def _zip_of(engine, tmp_path):
    ws = Workspace.open(tmp_path / "ws")
    report = run_experiment(ws, engine, FakeDataset(), {"scales": [1.0]}, session="s", plots="none")
    return ws, save_trained(ws, f"fake/{report.best.folder}", engine.name, "filtered")


def test_rerun_asks_the_zips_engine_and_refuses_what_it_cannot_do(tmp_path):
    ws, entry = _zip_of(FakeEngine(), tmp_path)
    with pytest.raises(InputError, match="made by engine 'fake', which does not support re-running"):
        rerun_zip(ws, entry.path, dataset=FakeDataset())


def test_a_zip_of_an_engine_that_is_not_installed_is_refused_by_name(tmp_path):
    ws, entry = _zip_of(GhostEngine(), tmp_path)
    with pytest.raises(InputError, match="made by engine 'ghost', which is not installed"):
        load_model(ws.layout, entry.path)
    with pytest.raises(InputError, match="made by engine 'ghost', which is not installed"):
        rerun_zip(ws, entry.path, dataset=FakeDataset())
