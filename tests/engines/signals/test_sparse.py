"""Change-only storage: reading back and forward-filling gives the dense series exactly."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nirs4all_workspace.engines.signals.sparse import (
    change_points,
    decode,
    decode_regimes,
    encode,
    encode_regimes,
    read_regime_table,
    read_signal_table,
    regime_table,
    signal_table,
)

LABELS = ("low", "normal", "high")


def _stamps(n: int) -> np.ndarray:
    start = np.datetime64("2024-03-26T13:30", "ns").astype(np.int64)
    return start + np.arange(n, dtype=np.int64) * 60_000_000_000


runs = st.lists(st.tuples(st.sampled_from([-1, 0, 1]), st.integers(1, 40)), min_size=1, max_size=60)


def _from_runs(pairs: list[tuple[int, int]]) -> np.ndarray:
    return np.concatenate([np.full(length, value, dtype=np.int8) for value, length in pairs])


@settings(max_examples=150, deadline=None)
@given(signal=arrays(np.int8, st.integers(1, 400), elements=st.sampled_from([-1, 0, 1])))
def test_round_trip_of_random_signals(signal):
    sparse = encode(signal)
    dense, _ = decode(sparse)
    assert np.array_equal(dense, signal)
    back, meta = read_signal_table(signal_table(sparse, _stamps(len(signal))))
    assert np.array_equal(decode(back)[0], signal)
    assert meta["total_bars"] == len(signal)
    assert meta["changes"] == sparse.changes == int((np.diff(signal, prepend=0) != 0).sum())


@settings(max_examples=100, deadline=None)
@given(pairs=runs)
def test_round_trip_of_signals_with_long_runs_keeps_the_confidence_of_each_change(pairs):
    signal = _from_runs(pairs)
    confidence = np.linspace(0.0, 1.0, len(signal)).astype(np.float32)
    back, _ = read_signal_table(signal_table(encode(signal, confidence), _stamps(len(signal))))
    dense, held = decode(back)
    assert np.array_equal(dense, signal)
    starts = change_points(signal, 0)
    assert np.array_equal(held[starts], confidence[starts])  # the confidence of the bar that changed
    owner = np.maximum.accumulate(
        np.where(np.isin(np.arange(len(signal)), starts), np.arange(len(signal)), -1)
    )
    expected = np.where(owner >= 0, confidence[np.maximum(owner, 0)], 0.0)
    assert np.array_equal(held, expected.astype(np.float32))


def test_metadata_holds_the_true_bar_count_and_a_fraction():
    signal = np.zeros(10_000, dtype=np.int8)
    signal[100:200] = 1  # one trade early on: the last change is bar 200, not the last bar
    _, meta = read_signal_table(signal_table(encode(signal), _stamps(len(signal)), variant="x"))
    assert meta["total_bars"] == 10_000
    assert meta["changes"] == 2
    assert meta["compression"] == 2 / 10_000
    assert 0.0 <= meta["compression"] <= 1.0
    assert meta["variant"] == "x"


def test_the_file_schema_is_the_documented_one():
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = signal_table(encode(np.array([0, 1, 1, -1, 0], dtype=np.int8)), _stamps(5))
    schema = pq.read_schema(pa.BufferReader(data))
    assert schema.names == ["bar_idx", "timestamp", "signal", "confidence"]
    assert [str(t) for t in schema.types] == ["int32", "timestamp[us, tz=UTC]", "int8", "float"]
    table = pq.read_table(pa.BufferReader(data))
    assert table.column("bar_idx").to_pylist() == [1, 3, 4]
    assert table.column("signal").to_pylist() == [1, -1, 0]


@settings(max_examples=100, deadline=None)
@given(codes=arrays(np.int8, st.integers(1, 300), elements=st.sampled_from([-1, 0, 1, 2])))
def test_regime_round_trip(codes):
    confidence = np.random.default_rng(0).random(len(codes)).astype(np.float32)
    sparse = encode_regimes(codes, confidence, LABELS)
    assert sparse.bar_idx[0] == 0  # the first row is always bar 0
    back, meta = read_regime_table(regime_table(sparse, _stamps(len(codes)), classifier="vol"))
    dense, _ = decode_regimes(back)
    assert np.array_equal(dense, codes)
    assert meta["labels"] == list(LABELS)
    assert meta["total_bars"] == len(codes)
    assert back.labels == LABELS


def test_regime_labels_are_stored_as_text():
    import pyarrow as pa
    import pyarrow.parquet as pq

    sparse = encode_regimes(np.array([-1, -1, 0, 0, 2], dtype=np.int8), np.ones(5, np.float32), LABELS)
    table = pq.read_table(pa.BufferReader(regime_table(sparse, _stamps(5))))
    assert table.column("regime").to_pylist() == ["warmup", "low", "high"]
    assert table.column("bar_idx").to_pylist() == [0, 2, 4]


def test_value_at_looks_up_the_value_in_force():
    sparse = encode(np.array([0, 0, 1, 1, -1, -1, 0], dtype=np.int8))
    assert sparse.value_at(np.arange(7)).tolist() == [0, 0, 1, 1, -1, -1, 0]
