import pytest

from nirs4all_workspace.errors import InvalidNameError
from nirs4all_workspace.workspace.layout import (
    WorkspaceLayout,
    parse_pipeline_folder,
    pipeline_folder_name,
    validate_name,
)


@pytest.mark.parametrize(
    "name",
    [
        "..",
        "../etc",
        "a/b",
        "a\\b",
        "nul\x00byte",
        "CON",
        "com1.csv",
        "_internal",
        ".hidden",
        "",
        " ",
        "x" * 101,
        "tab\tname",
        " padded",
    ],
)
def test_unsafe_names_are_refused_with_the_name_in_the_message(name):
    with pytest.raises(InvalidNameError) as excinfo:
        validate_name(name)
    assert "dataset name" in str(excinfo.value)


@pytest.mark.parametrize("name", ["corn", "wheat protein 2024", "SPY_1m", "demo", "é-ñ"])
def test_plain_names_are_accepted(name):
    assert validate_name(name) == name


def test_folder_names_have_four_digits_and_grow_to_five():
    assert pipeline_folder_name(42, "SNV PLS", "a1b2c3") == "0042_snv-pls_a1b2c3"
    assert pipeline_folder_name(12345, None, "a1b2c3") == "12345_a1b2c3"


def test_folder_names_parse_back():
    parsed = parse_pipeline_folder("0042_snv-sg1_pls-8_a1b2c3")
    assert (parsed.number, parsed.name, parsed.short_hash) == (42, "snv-sg1_pls-8", "a1b2c3")
    assert parse_pipeline_folder("0007_abcdef12").name is None
    assert parse_pipeline_folder("_binaries") is None
    assert parse_pipeline_folder("best_0001_x_abcdef.csv") is None


def test_every_path_stays_below_the_root(tmp_path):
    layout = WorkspaceLayout(tmp_path)
    for path in (
        layout.dataset_dir("corn"),
        layout.catalog_meta,
        layout.trained_zip("filtered", "m"),
        layout.export_best_predictions("corn", "2026-01-01", 3, "abcdef"),
    ):
        assert path.is_relative_to(tmp_path)
    with pytest.raises(InvalidNameError):
        layout.dataset_dir("../../outside")
    with pytest.raises(InvalidNameError):
        layout.trained_dir("everything")


@pytest.mark.parametrize("bad", ["../../outside", "", "_state", None, ["corn"], 3])
def test_a_bad_dataset_name_is_refused_every_time_even_after_good_ones(tmp_path, bad):
    """Dataset folders are built once per name: a refused name must never be remembered."""
    layout = WorkspaceLayout(tmp_path)
    assert layout.state_dir("corn") == layout.dataset_dir("corn") / "_state" == tmp_path / "runs/corn/_state"
    for _ in range(2):
        with pytest.raises(InvalidNameError):
            layout.dataset_dir(bad)
        with pytest.raises(InvalidNameError):
            layout.state_dir(bad)


def test_relative_paths_are_what_relative_to_gives(tmp_path):
    from pathlib import Path

    layout = WorkspaceLayout(tmp_path / "ws")
    inside = [
        layout.pipeline("corn", "0001_x_abcdef").dir,
        layout.pipeline("corn", "0001_x_abcdef").pipeline_json,
        layout.binary_path("corn", "PLS_0123.joblib"),
        layout.root / "a b" / "é",
    ]
    for path in inside:
        assert layout.relative(path) == path.relative_to(layout.root).as_posix()
        assert layout.relative(str(path)) == path.relative_to(layout.root).as_posix()
    assert layout.relative(layout.root) == "."  # the root itself, as Path.relative_to says
    for outside in (tmp_path / "ws2" / "x", tmp_path / "x"):  # a sibling sharing the root's prefix
        with pytest.raises(ValueError):
            layout.relative(outside)
    here = Path.cwd()
    assert WorkspaceLayout(here).relative("runs/corn") == "runs/corn"  # relative to the working folder
