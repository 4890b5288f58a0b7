"""Dataset paths are literal and ambiguous files are refused, not guessed at (issue 12, items 1, 13, 14)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from nirs4all_workspace.engines.signals import load_bars
from nirs4all_workspace.engines.sklearn import load_dataset
from nirs4all_workspace.errors import DatasetError


def spectra_csv(path: Path, rows: int, header: str = "1000,1002,1004,protein") -> Path:
    lines = [header] + [f"{i}.5,{i}.25,{i}.125,{10 + i}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


# literal paths ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a[b]", "a*", "a?", "a[!x]"])
def test_csv_paths_are_not_glob_patterns(tmp_path: Path, name: str) -> None:
    spectra_csv(tmp_path / "ab.csv", 30)  # what `a[b]` would match as a pattern
    spectra_csv(tmp_path / "ax.csv", 30)
    target = spectra_csv(tmp_path / f"{name}.csv", 4)
    data = load_dataset(target)
    assert data.n_samples == 4
    assert data.name == name


def test_parquet_paths_are_not_glob_patterns(tmp_path: Path) -> None:
    frame = pl.DataFrame({"1000": [0.1, 0.2, 0.3], "y": [1.0, 2.0, 3.0]})
    frame.vstack(frame).vstack(frame).write_parquet(tmp_path / "ab.parquet")
    frame.write_parquet(tmp_path / "a[b].parquet")
    assert load_dataset(tmp_path / "a[b].parquet").n_samples == 3


def test_folder_paths_are_not_glob_patterns(tmp_path: Path) -> None:
    for folder, rows in (("ab", 30), ("a[b]", 5)):
        (tmp_path / folder).mkdir()
        spectra_csv(tmp_path / folder / "Xcal.csv", rows, "1000,1002,1004,1006")
        (tmp_path / folder / "Ycal.csv").write_text("y\n" + "".join(f"{i}\n" for i in range(rows)))
    assert load_dataset(tmp_path / "a[b]").n_samples == 5


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_bar_paths_are_not_glob_patterns(tmp_path: Path, suffix: str) -> None:
    def bars(n: int) -> pl.DataFrame:
        stamps = [f"2024-01-01 00:{i:02d}:00" for i in range(n)]
        prices = [100.0 + i for i in range(n)]
        return pl.DataFrame(
            {"timestamp": stamps, "open": prices, "high": prices, "low": prices, "close": prices}
        )

    write = (lambda f, p: f.write_csv(p)) if suffix == "csv" else (lambda f, p: f.write_parquet(p))
    write(bars(50), tmp_path / f"ab_1m.{suffix}")
    write(bars(20), tmp_path / f"a[b]_1m.{suffix}")
    assert len(load_bars(tmp_path / f"a[b]_1m.{suffix}").close) == 20


# refusals -------------------------------------------------------------------------


def test_duplicate_column_names_are_refused(tmp_path: Path) -> None:
    path = spectra_csv(tmp_path / "dup.csv", 4, "1000,1002,1000,protein")
    with pytest.raises(DatasetError, match=r"'1000' more than once.*rename"):
        load_dataset(path)


def test_a_duplicated_last_column_cannot_become_the_target(tmp_path: Path) -> None:
    path = spectra_csv(tmp_path / "dup.csv", 4, "1000,protein,1004,protein")
    with pytest.raises(DatasetError, match="'protein' more than once"):
        load_dataset(path)


def test_duplicate_columns_of_a_y_file_are_refused(tmp_path: Path) -> None:
    spectra_csv(tmp_path / "Xcal.csv", 4, "1000,1002,1004,1006")
    (tmp_path / "Ycal.csv").write_text("y,y\n" + "".join(f"{i},{i}\n" for i in range(4)))
    with pytest.raises(DatasetError, match="'y' more than once"):
        load_dataset(tmp_path)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "spectra.csv"
    os.mkfifo(fifo)
    outcome: list[BaseException | None] = []

    def load() -> None:
        try:
            load_dataset(fifo)
            outcome.append(None)
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(timeout=10)
    if worker.is_alive():  # unblock the reader so the thread ends, then fail
        with fifo.open("w"):
            pass
        worker.join(timeout=5)
        pytest.fail("reading a FIFO as --dataset blocked waiting for a writer")
    assert isinstance(outcome[0], DatasetError)
    assert "not a regular file" in str(outcome[0])


def test_utf16_csv_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    text = "1000,1002,protein\n0.5,0.25,11.5\n0.75,0.125,12.5\n0.25,0.5,13.0\n"
    path.write_bytes(text.encode("utf-16"))  # with its byte-order mark, as Excel writes it
    data = load_dataset(path)
    assert data.feature_names == ["1000", "1002"]
    assert np.array_equal(data.y, [11.5, 12.5, 13.0])


def test_utf16_without_bom_is_refused_readably(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_bytes("1000,1002,protein\n0.5,0.25,11.5\n0.75,0.125,12.5\n".encode("utf-16-le"))
    with pytest.raises(DatasetError, match="UTF-16"):
        load_dataset(path)


def test_a_list_target_in_parquet_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nested.parquet"
    pl.DataFrame({"1000": [0.1, 0.2, 0.3], "y": [[1.0], [2.0], [3.0]]}).write_parquet(path)
    with pytest.raises(DatasetError, match=r"target 'y' has type List"):
        load_dataset(path)
