import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression
from sklearn.ensemble import RandomForestRegressor

from nirs4all_workspace.engines.sklearn import MSC, SNV, Detrend, SavitzkyGolay
from nirs4all_workspace.errors import ArchiveRefused, TrustRequired
from nirs4all_workspace.library.safe_objects import PICKLE, SKOPS, pack, sniff, unpack, untrusted_types
from nirs4all_workspace.library.zipformat import ZipLimits

LIMITS = ZipLimits()
X = np.random.default_rng(0).normal(size=(30, 20))
Y = X[:, 0] * 2.0 + 1.0


class Custom:
    """A class skops can write but that no allow-list trusts."""

    def __init__(self, value: float = 1.0) -> None:
        self.value = value


@pytest.mark.parametrize(
    "obj",
    [SNV().fit(X), MSC().fit(X), SavitzkyGolay(7, 2, 1).fit(X), Detrend().fit(X), PLSRegression(3).fit(X, Y)],
    ids=lambda o: type(o).__name__,
)
def test_our_operators_and_estimators_load_with_trusted_types_only(obj):
    packed = pack(obj)
    assert packed.format == SKOPS and packed.untrusted == () and packed.extension == "skops"
    loaded, notes = unpack("m", packed.data, trust=False, limits=LIMITS)
    assert notes == [] and type(loaded) is type(obj)
    apply = "predict" if hasattr(obj, "predict") else "transform"
    np.testing.assert_array_equal(getattr(loaded, apply)(X), getattr(obj, apply)(X))


def test_random_forests_need_no_trust():
    forest = RandomForestRegressor(n_estimators=3, random_state=0).fit(X, Y)
    loaded, _ = unpack("rf", pack(forest).data, trust=False, limits=LIMITS)
    np.testing.assert_array_equal(loaded.predict(X), forest.predict(X))


def test_an_untrusted_type_needs_trust_and_is_named():
    packed = pack(Custom(3.0))
    assert packed.untrusted == (f"{__name__}.Custom",)
    with pytest.raises(
        TrustRequired, match=rf"member m needs type\(s\) that are not trusted: {__name__}\.Custom"
    ):
        unpack("m", packed.data, trust=False, limits=LIMITS)
    loaded, notes = unpack("m", packed.data, trust=True, limits=LIMITS)
    assert loaded.value == 3.0 and notes == [
        f"loading member m with untrusted type(s) {__name__}.Custom because of --trust"
    ]


def test_what_skops_cannot_write_becomes_a_pickle_that_needs_trust():
    packed = pack(Custom(1j))  # skops cannot write complex numbers; pickle can
    assert packed.format == PICKLE and sniff(packed.data) == PICKLE and packed.extension == "joblib"
    assert untrusted_types("m", packed.data, LIMITS) == ["pickle"]
    with pytest.raises(TrustRequired, match="member m is a pickle, which can run any code"):
        unpack("m", packed.data, trust=False, limits=LIMITS)
    loaded, notes = unpack("m", packed.data, trust=True, limits=LIMITS)
    assert loaded.value == 1j and notes == ["loading member m with a pickle because of --trust"]


def test_bytes_that_are_neither_are_refused():
    with pytest.raises(ArchiveRefused, match="neither a skops file nor a pickle"):
        untrusted_types("m", b"hello", LIMITS)
    with pytest.raises(ArchiveRefused, match="not a readable zip"):
        untrusted_types("m", b"PK\x03\x04 broken", LIMITS)
