"""chemotools operators behind the grid aliases: documented, trusted in zips, equal to ours they replace."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from nirs4all_workspace.engines.sklearn import MSC, SNV, Detrend
from nirs4all_workspace.engines.sklearn.aliases import ALIASES
from nirs4all_workspace.engines.sklearn.config import instantiate
from nirs4all_workspace.library.safe_objects import pack

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
CHEMOTOOLS = sorted(alias for alias, path in ALIASES.items() if path.startswith("chemotools."))
PARAMS = {"index_select": {"features": [1, 4, 9]}, "range_cut": {"start": 5, "end": 150}}


@pytest.fixture(scope="module")
def spectra() -> np.ndarray:
    from chemotools.datasets import load_fermentation_train

    X, _ = load_fermentation_train()
    X = X.to_numpy(dtype=np.float64)[:, ::5]
    return X[:, X.std(axis=0) > 0]  # a few constant wavelengths make ParetoScaler warn


def test_every_alias_is_in_the_configuration_guide() -> None:
    documented = set(re.findall(r"`([a-z_]+)`", DOCS.read_text()))
    assert set(ALIASES) <= documented, sorted(set(ALIASES) - documented)


@pytest.mark.parametrize("alias", CHEMOTOOLS)
def test_each_chemotools_alias_fits_and_packs_as_a_trusted_type(alias: str, spectra: np.ndarray) -> None:
    op = instantiate({"class": ALIASES[alias], "params": PARAMS.get(alias, {})})
    out = op.fit(spectra).transform(spectra)
    assert out.shape[0] == spectra.shape[0] and np.isfinite(out).all()
    packed = pack(op)
    assert packed.format == "skops" and packed.untrusted == (), packed.untrusted


@pytest.mark.parametrize(("alias", "ours"), [("snv", SNV), ("msc", MSC), ("detrend", Detrend)])
def test_the_replaced_operators_give_our_numbers(alias: str, ours: type, spectra: np.ndarray) -> None:
    theirs = instantiate({"class": ALIASES[alias], "params": {}})
    new = theirs.fit(spectra[:15]).transform(spectra[15:])
    old = ours().fit(spectra[:15]).transform(spectra[15:])
    np.testing.assert_allclose(new, old, rtol=1e-10, atol=1e-12 * np.abs(old).max())
