"""``nirs4all compare DATASET/A DATASET/B ...`` (issue 15)."""

from __future__ import annotations

import re

import pytest

from tests.cli.test_runs_show import ran  # noqa: F401 - the fixture: dataset fake, pipelines 1-6


def test_compare_lists_exactly_the_params_that_differ(ran, cli):  # noqa: F811
    found = cli.json("compare", "fake/1", "fake/3")  # scale 0.5 vs 1.0, both offset 0.0
    assert found["params_differing"] == {"model.scale": [0.5, 1.0]}
    assert found["params_same"] == {"model.offset": 0.0}
    assert [p["number"] for p in found["pipelines"]] == [1, 3]
    val_rmse = next(r for r in found["scores"] if (r["partition"], r["metric"]) == ("val", "rmse"))
    assert val_rmse["direction"] == "min" and val_rmse["best"] == [1]  # pipeline 3 is exact
    val_r2 = next(r for r in found["scores"] if (r["partition"], r["metric"]) == ("val", "r2"))
    assert val_r2["direction"] == "max" and val_r2["best"] == [1]
    three = cli.json("compare", "fake/1", "fake/3", "fake/4")  # 4: scale 1.0, offset 0.5
    assert three["params_differing"] == {"model.offset": [0.0, 0.0, 0.5], "model.scale": [0.5, 1.0, 1.0]}
    assert three["params_same"] == {}


def test_compare_table_marks_the_best(ran, cli):  # noqa: F811
    status, out, _ = cli("compare", "fake/1", "fake/3")
    assert status == 0
    assert "model.scale" in out and "model.offset" not in out and "1 equal" in out
    assert re.search(r"val\s+.\s+rmse\s+.*\s0 \*", out)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fake/1"], "compare takes 2 to 10 pipelines"),
        ([f"fake/{n}" for n in (1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5)], "compare takes 2 to 10 pipelines"),
        (["fake/1", "fake/0001"], "are the same pipeline"),
        (["fake/1", "fake/77"], "no pipeline '77'"),
    ],
)
def test_compare_bad_input_is_one_line_exit_2(ran, cli, args, message):  # noqa: F811
    status, _, err = cli("compare", *args)
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1


def test_compare_html_is_one_self_contained_page(ran, cli, tmp_path):  # noqa: F811
    page = tmp_path / "out" / "compare.html"
    found = cli.json("compare", "fake/1", "fake/3", "fake/4", "--html", str(page))
    assert found["html"] == str(page)
    text = page.read_text()
    assert text.count("data:image/png;base64,") == 2  # val: predicted vs true, residuals
    assert "model.scale" in text and "model.offset" in text
    assert not re.search(r"(src|href)=\"(https?:)?//", text)
    assert '<strong class="best">' in text


def test_compare_pipelines_of_two_datasets(ran, cli, tmp_path):  # noqa: F811
    grid = tmp_path / "other.yaml"
    grid.write_text("scales: [1.5]\noffsets: [0.0]\n")
    source = tmp_path / "other.csv"
    source.write_text("x\n1\n")
    status, _, err = cli(
        "run", "--engine", "fake", "--dataset", str(source), "--pipeline", str(grid), "--plots", "none"
    )
    assert status == 0, err
    found = cli.json("compare", "fake/3", "other/1")
    assert [p["reference"].split("/")[0] for p in found["pipelines"]] == ["fake", "other"]
    assert found["params_differing"] == {"model.scale": [1.0, 1.5]}
