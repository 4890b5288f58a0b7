"""predictions.csv: the writer's bytes never change (the catalog, the best file and
archives compare them), whatever path writes them."""

import csv
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nirs4all_workspace.workspace import predictions_csv
from nirs4all_workspace.workspace.predictions_csv import (
    HEADER,
    blocks_to_write,
    parse_predictions_csv,
    predictions_csv_text,
)
from nirs4all_workspace.workspace.results import PredictionBlock


def _cell(value):
    if isinstance(value, float | np.floating):
        return repr(float(value))
    return str(value)


def reference_text(blocks):
    """The writer as it was before the vectorised float formatting: one Python ``repr`` per
    float (the format of every predictions.csv written so far)."""
    lines = [",".join(HEADER)]
    for block in blocks_to_write(blocks):
        fold = "" if block.fold is None else str(block.fold)
        y_true = np.asarray(block.y_true)
        y_pred = np.asarray(block.y_pred)
        ids = np.asarray(block.sample_ids).tolist()
        if y_true.dtype.kind == "f" and y_pred.dtype.kind == "f":
            tail = f",{block.partition},"
            lines.extend(
                f"{t!r},{p!r}{tail}{i},{fold}"
                for t, p, i in zip(y_true.tolist(), y_pred.tolist(), ids, strict=True)
            )
        else:
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerows(
                (_cell(t), _cell(p), block.partition, str(i), fold)
                for t, p, i in zip(y_true.tolist(), y_pred.tolist(), ids, strict=True)
            )
            lines.append(out.getvalue().rstrip("\n"))
    return "\n".join(lines) + "\n"


# Values where a formatter other than repr is most likely to differ: exponent notation
# below 1e-4 and from 1e16 up, the borders themselves, integral values ('100.0'),
# signed zero, NaN and infinities, subnormals, 17-digit values.
AWKWARD = [
    0.0, -0.0, 1.0, -1.0, 100.0, 0.1, 0.2, 1 / 3, 2 / 3, 1e-4, 9.999999999999999e-05,
    0.00010000000000000002, 1e-5, 1.5e-5, 1e-7, 1e15, 1e16, 9999999999999998.0, 1e16 + 2,
    1.2345678901234567e16, 1e22, 1e23, 1.7976931348623157e308, 5e-324, 2.2250738585072014e-308,
    123456789012345.67, 2.0**53, 2.0**53 + 2, 0.30000000000000004, 1e300, -1e-300,
    float("nan"), float("inf"), float("-inf"), 4.35, 0.5, 1.25e-3,
]


def _block(partition, y_true, y_pred, fold=None, ids=None):
    ids = np.arange(len(y_true)) if ids is None else ids
    return PredictionBlock(partition, y_true, y_pred, ids, {}, fold)


def test_awkward_floats_are_written_as_repr_writes_them():
    values = np.array(AWKWARD)
    blocks = [_block("val", values, values[::-1].copy()), _block("test", -values, values * 0.5)]
    assert predictions_csv_text(blocks) == reference_text(blocks)


def test_float32_and_float16_are_written_as_the_double_they_convert_to():
    y32 = np.array([0.1, 1e-5, 3.3, 1e20, np.nan], dtype=np.float32)
    y16 = np.array([0.1, 1e-5, 3.3, 6e4, np.inf], dtype=np.float16)
    blocks = [_block("val", y32, y32 * 2), _block("test", y16, y16)]
    assert predictions_csv_text(blocks) == reference_text(blocks)
    assert "0.10000000149011612" in predictions_csv_text(blocks)  # float32 0.1 as a double


def test_folds_labels_and_text_ids_take_the_old_paths():
    labels = np.array(["a", "b,c", 'quote"d'], dtype=object)
    blocks = [
        _block("val", np.array([1.0, 2.0]), np.array([1.5, 2.5]), fold=0),
        _block("val", np.array([3.0]), np.array([3.5]), fold=1),
        _block("val", np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.5, 3.5])),  # not written: folds are
        _block("test", labels, labels[::-1].copy()),
        _block("train", np.array([0.25, 1e-9]), np.array([np.float64(2.5), 7.0]), ids=np.array(["s1", "s2"])),
        _block("train", np.array([1, 2]), np.array([1.0, 2.0]), fold=3),
    ]
    assert predictions_csv_text(blocks) == reference_text(blocks)


def test_an_empty_block_writes_the_header_only():
    blocks = [_block("test", np.array([]), np.array([]))]
    assert predictions_csv_text(blocks) == reference_text(blocks) == ",".join(HEADER) + "\n"


def test_the_vectorised_formatter_is_used_with_the_installed_polars():
    """Else the tests above would compare the per-value writer with itself."""
    probe = predictions_csv._PROBE
    assert ((probe == 0) | ((np.abs(probe) >= 1e-4) & (np.abs(probe) < 1e16))).all()
    assert predictions_csv._vector_agrees()
    values = np.linspace(0.5, 2.5, 100)
    predictions_csv_text([_block("val", values, values)])
    assert predictions_csv._VECTOR_OK is True


def test_the_vectorised_formatter_is_refused_when_it_disagrees_with_repr(monkeypatch):
    """A polars version that formats differently is detected once and repr is used instead."""
    monkeypatch.setattr(predictions_csv, "_VECTOR_OK", None)
    monkeypatch.setattr(predictions_csv, "_PROBE", np.array([0.5, 1e-3]))
    monkeypatch.setattr(
        predictions_csv, "_vector_texts", lambda values: [f"{v:.3f}" for v in values.tolist()]
    )
    values = np.linspace(0.001, 1, 40)  # enough values for the vectorised path
    blocks = [_block("val", values, values)]
    assert predictions_csv_text(blocks) == reference_text(blocks)
    assert predictions_csv._VECTOR_OK is False


_floats = hnp.arrays(
    np.float64,
    st.integers(0, 40),
    elements=st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True),
)


@settings(max_examples=300, deadline=None)
@given(_floats, st.data())
def test_any_float64_predictions_are_written_as_before(y_true, data):
    y_pred = data.draw(hnp.arrays(np.float64, len(y_true), elements=st.floats(width=64)))
    fold = data.draw(st.none() | st.integers(0, 9))
    blocks = [_block("val", y_true, y_pred, fold=fold), _block("test", y_pred, y_true)]
    text = predictions_csv_text(blocks)
    assert text == reference_text(blocks)
    if len(y_pred):
        groups = parse_predictions_csv(text)
        np.testing.assert_array_equal(groups[("test", None)]["y_true"], y_pred)  # bit for bit, NaN too


@pytest.mark.parametrize("seed", range(3))
def test_random_bit_patterns_are_written_as_before(seed):
    """Every exponent, not only those a prediction has: bits drawn at random."""
    bits = np.random.default_rng(seed).integers(0, 2**64, size=20_000, dtype=np.uint64)
    values = bits.view(np.float64)
    blocks = [_block("val", values, values[::-1].copy())]
    assert predictions_csv_text(blocks) == reference_text(blocks)


def test_the_y_true_texts_kept_from_one_pipeline_serve_the_next_only_when_equal():
    """Pipelines of one dataset share y_true: its texts are kept, by the bytes of the values."""
    rng = np.random.default_rng(7)
    y_true = rng.normal(size=60) * np.array([1e-6, 1.0, 1e20] * 20)  # exponents and fix-ups too
    folds = [(0, slice(0, 25)), (1, slice(25, 60))]
    for attempt in range(3):
        y_pred = rng.normal(size=60)
        blocks = [_block("val", y_true[s].copy(), y_pred[s], fold=f) for f, s in folds]
        blocks.append(_block("test", y_true[:10].copy(), y_pred[:10]))
        assert predictions_csv_text(blocks) == reference_text(blocks), attempt
        assert np.concatenate([b.y_true for b in blocks]).tobytes() in predictions_csv._TRUE_TEXTS
    y_true[3] = np.nextafter(y_true[3], 0)  # one value one bit away: never served the kept texts
    blocks = [_block("val", y_true.copy(), y_pred)]
    assert predictions_csv_text(blocks) == reference_text(blocks)
    assert f"{float(y_true[3])!r}," in predictions_csv_text(blocks)
    for i in range(predictions_csv._TRUE_TEXTS_KEPT + 3):  # the kept texts stay few
        values = np.full(20, float(i) + 0.5)
        predictions_csv_text([_block("val", values, values)])
    assert len(predictions_csv._TRUE_TEXTS) == predictions_csv._TRUE_TEXTS_KEPT
