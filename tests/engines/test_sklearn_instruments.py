"""A folder of JCAMP-DX files plus a reference table: the dataset, and scores, of the CSV of its matrix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nirs4all_workspace.engines.sklearn import SklearnEngine, load_dataset
from nirs4all_workspace.errors import DatasetError

AXIS = [1100 + 4 * i for i in range(40)]
GRID = {"pipeline": ["snv", {"model": {"class": "pls", "params": {"n_components": {"_or_": [2, 3]}}}}]}


def _matrix() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    X = rng.normal(size=(24, len(AXIS))).cumsum(axis=1) * 0.01 + 0.5
    return X, X[:, 5] * 3 - X[:, 30] + rng.normal(scale=0.01, size=24)


def _jcamp(path: Path, title: str, axis: list[float], values: np.ndarray) -> None:
    lines = [
        f"##TITLE={title}",
        "##JCAMP-DX=4.24",
        "##DATA TYPE=NEAR INFRARED SPECTRUM",
        "##XUNITS=NANOMETERS",
        "##YUNITS=ABSORBANCE",
        f"##FIRSTX={axis[0]}",
        f"##LASTX={axis[-1]}",
        "##XFACTOR=1",
        "##YFACTOR=1",
        f"##NPOINTS={len(axis)}",
        "##XYPOINTS=(XY..XY)",
        *(f"{x}, {float(v)!r}" for x, v in zip(axis, values, strict=True)),
        "##END=",
    ]
    path.write_text("\n".join(lines) + "\n")


def _folder(tmp_path: Path, *, extensions: bool = True) -> tuple[Path, Path, Path]:
    """JCAMP-DX files written from a known matrix, their reference table, and the CSV of that matrix."""
    X, y = _matrix()
    folder = tmp_path / "scans"
    folder.mkdir()
    names = [f"s{i:02d}" for i in range(len(X))]
    for name, row in zip(names, X, strict=True):
        _jcamp(folder / f"{name}.jdx", name, AXIS, row)
    reference = tmp_path / "reference.csv"
    order = list(range(len(X)))[::-1]  # the reference table's order is the samples' order
    rows = [f"{names[i]}.jdx" if extensions else names[i] for i in order]
    reference.write_text(
        "file,batch,protein\n"
        + "".join(f"{r},{i % 3},{float(y[i])!r}\n" for r, i in zip(rows, order, strict=True))
    )
    csv = tmp_path / "matrix.csv"
    header = ",".join([*map(str, AXIS), "protein"])
    csv.write_text(
        header + "\n" + "".join(",".join(repr(float(v)) for v in (*X[i], y[i])) + "\n" for i in order)
    )
    return folder, reference, csv


@pytest.mark.parametrize("extensions", [True, False])
def test_jcamp_folder_gives_the_scores_of_the_csv_of_its_matrix(tmp_path: Path, extensions: bool) -> None:
    pytest.importorskip("nirs4all_formats", reason="the optional [formats] extra is not installed")
    folder, reference, csv = _folder(tmp_path, extensions=extensions)
    engine = SklearnEngine()
    ours = engine.load_dataset(folder, reference=reference)
    theirs = load_dataset(csv)
    assert ours.name == "scans" and ours.target_name == "protein"
    np.testing.assert_array_equal(ours.X, theirs.X)
    np.testing.assert_array_equal(ours.y, theirs.y)
    assert ours.feature_names == theirs.feature_names
    for spec in engine.expand(GRID):
        assert engine.execute(spec, ours).metrics == engine.execute(spec, theirs).metrics


def test_target_picks_another_reference_column(tmp_path: Path) -> None:
    pytest.importorskip("nirs4all_formats", reason="the optional [formats] extra is not installed")
    folder, reference, _ = _folder(tmp_path)
    data = SklearnEngine().load_dataset(folder, reference=reference, target="batch")
    assert data.target_name == "batch" and sorted(set(data.y.tolist())) == [0.0, 1.0, 2.0]


def test_different_axes_are_refused_naming_the_files_or_resampled(tmp_path: Path) -> None:
    pytest.importorskip("nirs4all_formats", reason="the optional [formats] extra is not installed")
    folder, reference, _ = _folder(tmp_path)
    X, _ = _matrix()
    shifted = [x + 2 for x in AXIS]
    _jcamp(folder / "s03.jdx", "s03", shifted, X[3])
    engine = SklearnEngine()
    with pytest.raises(DatasetError, match=r"different axes: 's23.jdx' .* 's03.jdx' .* --resample"):
        engine.load_dataset(folder, reference=reference)
    data = engine.load_dataset(folder, reference=reference, resample=True)
    assert data.feature_names[0] == "1104" and data.feature_names[-1] == str(AXIS[-1])
    row = 23 - 3  # the reference lists the samples in reverse
    np.testing.assert_allclose(data.X[row], np.interp(AXIS[1:], shifted, X[3]))


def test_a_file_missing_from_the_reference_is_named(tmp_path: Path) -> None:
    pytest.importorskip("nirs4all_formats", reason="the optional [formats] extra is not installed")
    folder, reference, _ = _folder(tmp_path)
    X, _ = _matrix()
    _jcamp(folder / "extra.jdx", "extra", AXIS, X[0])
    with pytest.raises(DatasetError, match=r"1 spectra of .* have no row in .*extra\.jdx"):
        SklearnEngine().load_dataset(folder, reference=reference)


def test_without_the_extra_one_line_says_what_to_install_and_exit_2(tmp_path: Path) -> None:
    folder, reference, _ = _folder(tmp_path)
    hide = (
        "import sys; sys.modules['nirs4all_formats'] = None; "  # as if the [formats] extra were not installed
        "from nirs4all_workspace.cli import main; sys.argv[0] = 'nirs4all'; sys.exit(main())"
    )
    args = [
        "run",
        "--dataset",
        str(folder),
        "--reference",
        str(reference),
        "--workspace",
        str(tmp_path / "ws"),
    ]
    done = subprocess.run(
        [sys.executable, "-c", hide, *args], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "pip install 'nirs4all-workspace[formats]'" in lines[0], done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "ws").exists()


# -- the CSV a handheld scanner exports: a metadata block, then a wavelength/absorbance table ----------
def _handheld(path: Path, sample: str, axis: list[float], values: np.ndarray, style: str) -> None:
    """One spectrum as handheld scanners export it (NeoSpectra-like ``Key: value`` lines, or
    MicroNIR-like ``Key,value`` rows), a blank line, then the wavelength/absorbance table."""
    if style == "colon":
        meta = [
            f"Sample Name: {sample}",
            "Device: NeoSpectra Scanner",
            "Serial Number: NS-22-0041",
            "Date: 2026-11-30T07:10:11",
            "Measurement Mode: Absorbance",
        ]
    else:
        meta = [
            "Device,MicroNIR OnSite-W",
            "Serial Number,M1-0001234",
            "Scan Date,2026-11-30 07:10:11",
            "Integration Time (us),10600",
            "Scan Count,50",
        ]
    rows = [f"{x},{float(v)!r}" for x, v in zip(axis, values, strict=True)]
    path.write_text("\n".join([*meta, "", "Wavelength (nm),Absorbance (AU)", *rows]) + "\n")


@pytest.mark.parametrize("style", ["colon", "comma"])
def test_a_folder_of_handheld_csv_exports_gives_the_scores_of_the_csv_of_its_matrix(
    tmp_path: Path, style: str
) -> None:
    pytest.importorskip("nirs4all_formats", reason="the optional [formats] extra is not installed")
    _, reference, csv = _folder(tmp_path)
    X, _ = _matrix()
    folder = tmp_path / "handheld"
    folder.mkdir()
    for i, row in enumerate(X):
        _handheld(folder / f"s{i:02d}.csv", f"s{i:02d}", AXIS, row, style)
    engine = SklearnEngine()
    ours = engine.load_dataset(folder, reference=reference)
    theirs = load_dataset(csv)
    np.testing.assert_array_equal(ours.X, theirs.X)
    np.testing.assert_array_equal(ours.y, theirs.y)
    assert ours.feature_names == theirs.feature_names
    spec = engine.expand(GRID)[0]
    assert engine.execute(spec, ours).metrics == engine.execute(spec, theirs).metrics


def _run_single(tmp_path: Path, path: Path, hide_extra: bool) -> subprocess.CompletedProcess[str]:
    hide = "sys.modules['nirs4all_formats'] = None; " if hide_extra else ""
    code = (
        f"import sys; {hide}from nirs4all_workspace.cli import main; "
        "sys.argv[0] = 'nirs4all'; sys.exit(main())"
    )
    args = ["run", "--dataset", str(path), "--workspace", str(tmp_path / "ws")]
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.parametrize("style", ["colon", "comma"])
@pytest.mark.parametrize("hide_extra", [False, True])
def test_one_handheld_csv_as_dataset_says_what_it_is_and_that_a_reference_is_needed(
    tmp_path: Path, style: str, hide_extra: bool
) -> None:
    if not hide_extra:
        pytest.importorskip("nirs4all_formats", reason="the optional [formats] extra is not installed")
    X, _ = _matrix()
    path = tmp_path / "scan_01.csv"
    _handheld(path, "s01", AXIS, X[0], style)
    done = _run_single(tmp_path, path, hide_extra)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "handheld" in lines[0] and "--reference" in lines[0] and "scan_01.csv" in lines[0], lines[0]
    assert ("pip install 'nirs4all-workspace[formats]'" in lines[0]) == hide_extra, lines[0]
    assert "Traceback" not in done.stderr and not (tmp_path / "ws").exists()


def test_a_two_column_wavelength_table_without_metadata_is_one_spectrum_too(tmp_path: Path) -> None:
    X, _ = _matrix()
    path = tmp_path / "spectrum.csv"
    path.write_text(
        "Wavelength (nm),Absorbance (AU)\n"
        + "".join(f"{x},{float(v)!r}\n" for x, v in zip(AXIS, X[0], strict=True))
    )
    with pytest.raises(DatasetError, match=r"handheld.*--reference"):
        load_dataset(path)


def test_an_ordinary_table_is_not_taken_for_a_handheld_export(tmp_path: Path) -> None:
    """Wide tables (one spectrum per row) and a two-column table of a target by a feature still load."""
    _, _, csv = _folder(tmp_path)
    assert load_dataset(csv).X.shape == (24, len(AXIS))
    small = tmp_path / "small.csv"
    small.write_text("moisture,protein\n" + "".join(f"{i * 0.5},{i * 2.0 + (i % 3)}\n" for i in range(12)))
    assert load_dataset(small).X.shape == (12, 1)
