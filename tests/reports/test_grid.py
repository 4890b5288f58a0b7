"""Grid parameters and two-parameter heat maps, from plain rows (no catalog, no plots)."""

from __future__ import annotations

import math

import numpy as np

from nirs4all_workspace.reports.grid import grid_axes, heat_maps, parameter_text, varying_parameters
from nirs4all_workspace.reports.pipelines import PipelineRow, best_row


def row(number, model, preprocessing, params, rmse, status="completed"):
    return PipelineRow(
        pipeline_id=f"p{number}",
        dataset="d",
        session="s",
        number=number,
        folder=f"{number:04d}_x_abcdef",
        model=model,
        preprocessing=preprocessing,
        params={"splitter.seed": 42, "preprocessing": preprocessing, **params},
        status=status,
        task="regression",
        duration_s=0.1,
        created_at=None,
        path=None,
        scores={"val": {"rmse": rmse}} if rmse is not None else {},
    )


def demo_rows():
    rows = []
    number = 0
    for i, prep in enumerate(["none", "SNV", "MSC"]):
        for n in (2, 4, 8):
            number += 1
            rows.append(row(number, "PLS", prep, {"model.n_components": n}, 1.0 + i + abs(n - 4) / 10))
        for alpha in (0.001, 0.1, 10.0):
            number += 1
            rows.append(row(number, "Ridge", prep, {"model.alpha": alpha}, 2.0 + i))
    rows.append(row(number + 1, "PLS", "none", {"model.n_components": 99}, None, status="failed"))
    return rows


def test_only_what_varies_is_a_grid_parameter():
    names = varying_parameters(demo_rows())
    assert names == ["model", "preprocessing", "model.alpha", "model.n_components"]


def test_axes_hold_one_value_and_score_per_scored_pipeline():
    axes = {a.name: a for a in grid_axes(demo_rows(), "rmse", "val")}
    components = axes["model.n_components"]
    assert components.numeric and not components.log
    assert sorted(set(components.values)) == [2, 4, 8]  # the failed 99 has no score
    assert len(components.values) == len(components.scores) == 9
    assert axes["model.alpha"].log  # 0.001 .. 10 spans four decades
    assert not axes["preprocessing"].numeric and axes["preprocessing"].values[:2] == ["none", "none"]


def test_one_heat_map_per_model_with_two_parameters_holding_the_best_per_cell():
    rows = demo_rows()
    rows.append(row(50, "PLS", "SNV", {"model.n_components": 4}, 0.5))  # a repeat, better
    maps = {m.title: m for m in heat_maps(rows, "rmse", "val", "min")}
    assert set(maps) == {"PLS", "Ridge"}
    pls = maps["PLS"]
    assert (pls.row_name, pls.column_name) == ("preprocessing", "model.n_components")
    assert pls.row_labels == ["none", "SNV", "MSC"] and pls.column_labels == ["2", "4", "8"]
    assert pls.values.shape == (3, 3)
    assert pls.values[1, 1] == 0.5  # the best of the two SNV/4 pipelines
    assert math.isclose(pls.values[0, 2], 1.4)
    best_max = heat_maps(rows, "rmse", "val", "max")[0]
    assert best_max.values[1, 1] == 2.0  # for a higher-is-better metric the other one wins


def test_a_one_parameter_grid_has_no_heat_map_and_a_missing_cell_is_nan():
    rows = [row(i, "PLS", "none", {"model.n_components": n}, 1.0) for i, n in enumerate((2, 4), 1)]
    assert heat_maps(rows, "rmse", "val", "min") == []
    rows = [
        row(1, "PLS", "none", {"model.n_components": 2}, 1.0),
        row(2, "PLS", "SNV", {"model.n_components": 4}, 2.0),
    ]
    (grid,) = heat_maps(rows, "rmse", "val", "min")
    assert np.isnan(grid.values[0, 1]) and grid.values[1, 1] == 2.0


def test_best_row_keeps_the_earlier_pipeline_on_ties_and_skips_failures():
    rows = demo_rows()
    assert best_row(rows, "rmse", "val", "min").number == 2
    assert best_row(rows, "rmse", "val", "max").number == 16
    assert best_row([rows[-1]], "rmse", "val", "min") is None


def test_parameter_text_names_the_grid_values():
    rows = demo_rows()
    names = varying_parameters(rows)
    assert parameter_text(rows[0], names) == "n_components=2"
    assert parameter_text(rows[3], names) == "alpha=0.001"


def test_each_grid_point_knows_its_pipeline_and_the_figure_names_it_on_hover():
    from xml.etree import ElementTree

    from nirs4all_workspace.reports import svg

    rows = demo_rows()
    rows[0] = row(1, "PLS", "none", {"model.n_components": 2}, 1.2)
    rows[0] = PipelineRow(**{**rows[0].__dict__, "folder": '0001_<b>"x"</b>'})
    axis = next(a for a in grid_axes(rows, "rmse", "val") if a.name == "model.n_components")
    assert len(axis.folders) == len(axis.values) == len(axis.scores)
    assert axis.folders[0] == '0001_<b>"x"</b>'
    text = svg.score_by_parameter(
        axis.name, axis.values, axis.scores, "val rmse", "min", numeric=True, names=axis.folders
    )
    titles = ["".join(t.itertext()) for t in ElementTree.fromstring(text).iter("title")]
    assert '0001_<b>"x"</b>: val rmse 1.2' in titles  # one tooltip per point, escaped in the markup
    assert "<b>" not in text
