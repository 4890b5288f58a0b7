"""The types this engine's fitted objects are made of, beyond skops' defaults.

A library zip holds fitted pipelines as skops files; loading one refuses any
type not trusted. skops trusts scikit-learn estimators, numpy and builtins; the
declaration (``trusted_types``) names :data:`TRUSTED_TYPES` for the rest. Each
type here keeps plain numpy state, rebuilt by skops without running pickling code.
Only strings: reading this module imports nothing.
"""

from __future__ import annotations

# Our spectral operators (operators.py).
OPERATOR_TYPES = tuple(
    f"nirs4all_workspace.engines.sklearn.operators.{name}"
    for name in ("Detrend", "MSC", "SNV", "SavitzkyGolay")
)
# scikit-learn's fitted tree structure (random forests): skops rebuilds it from arrays.
SKLEARN_INTERNAL_TYPES = ("sklearn.tree._tree.Tree",)
# chemotools' spectral operators (the grid aliases of docs/configuration.md).
CHEMOTOOLS_TYPES = (
    "chemotools.baseline._air_pls.AirPls",
    "chemotools.baseline._ar_pls.ArPls",
    "chemotools.baseline._as_ls.AsLs",
    "chemotools.baseline._cubic_spline_correction.CubicSplineCorrection",
    "chemotools.baseline._linear_correction.LinearCorrection",
    "chemotools.baseline._polynomial_correction.PolynomialCorrection",
    "chemotools.derivative._norris_william.NorrisWilliams",
    "chemotools.derivative._savitzky_golay.SavitzkyGolay",
    "chemotools.feature_selection._index_selector.IndexSelector",
    "chemotools.feature_selection._range_cut.RangeCut",
    "chemotools.scale._min_max_scaler.MinMaxScaler",
    "chemotools.scale._norm_scaler.NormScaler",
    "chemotools.scale._pareto_scaler.ParetoScaler",
    "chemotools.scale._point_scaler.PointScaler",
    "chemotools.scatter._extended_multiplicative_scatter_correction.ExtendedMultiplicativeScatterCorrection",
    "chemotools.scatter._multiplicative_scatter_correction.MultiplicativeScatterCorrection",
    "chemotools.scatter._robust_normal_variate.RobustNormalVariate",
    "chemotools.scatter._standard_normal_variate.StandardNormalVariate",
    "chemotools.smooth._mean_filter.MeanFilter",
    "chemotools.smooth._median_filter.MedianFilter",
    "chemotools.smooth._savitzky_golay_filter.SavitzkyGolayFilter",
    "chemotools.smooth._whittaker_smooth.WhittakerSmooth",
    "chemotools.utils._whittaker_solvers.BandedSolver",
)
TRUSTED_TYPES = OPERATOR_TYPES + SKLEARN_INTERNAL_TYPES + CHEMOTOOLS_TYPES
