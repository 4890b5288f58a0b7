"""Short names for classes, and turning class paths into classes and back.

The alias table lives here and nowhere else: configurations may say ``"snv"`` or
``"pls"``, but the canonical configuration (hashed for a pipeline's identity)
always holds the full public class path, so an alias and its path give the same hash.
"""

from __future__ import annotations

import inspect
from importlib import import_module

from ...errors import ConfigError

# The package re-exports its operators: their shortest public path is the package.
_OPERATORS = "nirs4all_workspace.engines.sklearn"

# alias -> public class path. Keep the keys lowercase snake_case.
ALIASES: dict[str, str] = {
    # spectral preprocessing: chemotools where it has the operator (docs/configuration.md)
    # scatter correction
    "snv": "chemotools.scatter.StandardNormalVariate",
    "msc": "chemotools.scatter.MultiplicativeScatterCorrection",
    "emsc": "chemotools.scatter.ExtendedMultiplicativeScatterCorrection",
    "rnv": "chemotools.scatter.RobustNormalVariate",
    # derivatives; "savgol"/"sg" stay ours: chemotools' class has other defaults (3-point first
    # derivative, mode "nearest"), and moving the alias would change every configuration using it.
    "savgol": f"{_OPERATORS}.SavitzkyGolay",
    "sg": f"{_OPERATORS}.SavitzkyGolay",
    "sg_deriv": "chemotools.derivative.SavitzkyGolay",
    "norris_williams": "chemotools.derivative.NorrisWilliams",
    "nw": "chemotools.derivative.NorrisWilliams",
    # baseline correction; "detrend" (least-squares line) is PolynomialCorrection(order=1)
    "detrend": "chemotools.baseline.PolynomialCorrection",
    "airpls": "chemotools.baseline.AirPls",
    "arpls": "chemotools.baseline.ArPls",
    "asls": "chemotools.baseline.AsLs",
    "linear_baseline": "chemotools.baseline.LinearCorrection",
    "poly_baseline": "chemotools.baseline.PolynomialCorrection",
    "spline_baseline": "chemotools.baseline.CubicSplineCorrection",
    # smoothing
    "whittaker": "chemotools.smooth.WhittakerSmooth",
    "sg_smooth": "chemotools.smooth.SavitzkyGolayFilter",
    "mean_filter": "chemotools.smooth.MeanFilter",
    "median_filter": "chemotools.smooth.MedianFilter",
    # wavelength selection (by column index)
    "range_cut": "chemotools.feature_selection.RangeCut",
    "index_select": "chemotools.feature_selection.IndexSelector",
    # per-spectrum scaling
    "norm_scaler": "chemotools.scale.NormScaler",
    "point_scaler": "chemotools.scale.PointScaler",
    "spectrum_minmax": "chemotools.scale.MinMaxScaler",
    "pareto_scaler": "chemotools.scale.ParetoScaler",
    # generic preprocessing
    "standard_scaler": "sklearn.preprocessing.StandardScaler",
    "minmax_scaler": "sklearn.preprocessing.MinMaxScaler",
    "pca": "sklearn.decomposition.PCA",
    # regression models
    "pls": "sklearn.cross_decomposition.PLSRegression",
    "ridge": "sklearn.linear_model.Ridge",
    "lasso": "sklearn.linear_model.Lasso",
    "elastic_net": "sklearn.linear_model.ElasticNet",
    "svr": "sklearn.svm.SVR",
    "rf": "sklearn.ensemble.RandomForestRegressor",
    # classification models
    "rfc": "sklearn.ensemble.RandomForestClassifier",
    "logreg": "sklearn.linear_model.LogisticRegression",
    "svc": "sklearn.svm.SVC",
    "lda": "sklearn.discriminant_analysis.LinearDiscriminantAnalysis",
    "knn": "sklearn.neighbors.KNeighborsClassifier",
    # cross-validation splitters
    "kfold": "sklearn.model_selection.KFold",
    "stratified_kfold": "sklearn.model_selection.StratifiedKFold",
    "repeated_kfold": "sklearn.model_selection.RepeatedKFold",
    "shuffle_split": "sklearn.model_selection.ShuffleSplit",
}

# Display names (preprocessing labels, catalog columns) of classes whose own name is long.
LABELS: dict[str, str] = {
    "chemotools.scatter.StandardNormalVariate": "SNV",
    "chemotools.scatter.MultiplicativeScatterCorrection": "MSC",
    "chemotools.scatter.ExtendedMultiplicativeScatterCorrection": "EMSC",
    "chemotools.scatter.RobustNormalVariate": "RNV",
}

# Shortest alias of each class path, used to build readable pipeline names.
SHORT_NAMES: dict[str, str] = {}
for _alias, _path in sorted(ALIASES.items(), key=lambda item: (len(item[0]), item[0])):
    SHORT_NAMES.setdefault(_path, _alias)


def alias_target(name: str) -> str:
    """The dotted path :func:`resolve_class` imports for ``name`` (an alias or a path); imports nothing."""
    return ALIASES.get(name.strip().lower(), name.strip())


def resolve_class(name: str, where: str = "the pipeline") -> type:
    """The class named by an alias or a dotted path (``"sklearn.svm.SVR"``).

    Raises :class:`ConfigError` naming ``where`` (e.g. ``"pipeline[2]"``) when the
    module or class cannot be found, listing the aliases as a hint.
    """
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(
            f"{where}: a step must be a class path or an alias, got {name!r}; "
            f"aliases are: {', '.join(sorted(ALIASES))}"
        )
    path = alias_target(name)
    module_name, _, attr = path.rpartition(".")
    hint = f"use a full class path like 'sklearn.svm.SVR' or an alias: {', '.join(sorted(ALIASES))}"
    if not module_name:
        raise ConfigError(f"{where}: unknown class or alias {name!r}; {hint}")
    try:
        module = import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"{where}: cannot import module {module_name!r} for {name!r} ({exc}); {hint}"
        ) from None
    cls = getattr(module, attr, None)
    if not inspect.isclass(cls):
        raise ConfigError(f"{where}: module {module_name!r} has no class {attr!r}; {hint}")
    return cls


def class_path(cls: type) -> str:
    """The shortest public dotted path of ``cls`` (``sklearn.svm.SVR``, not ``sklearn.svm._classes.SVR``).

    Private module parts are dropped when the public package re-exports the class,
    so the same class always gets the same path whatever way the user named it.
    """
    parts = cls.__module__.split(".")
    for end in range(1, len(parts) + 1):
        if any(part.startswith("_") for part in parts[:end]):
            break
        candidate = ".".join(parts[:end])
        try:
            if getattr(import_module(candidate), cls.__qualname__, None) is cls:
                return f"{candidate}.{cls.__qualname__}"
        except ImportError:
            continue
    return f"{cls.__module__}.{cls.__qualname__}"


def short_name(path: str) -> str:
    """A short lowercase token for a class path, for pipeline names (``pls``, ``standardscaler``)."""
    return SHORT_NAMES.get(path, path.rpartition(".")[2].lower())


def is_splitter(cls: type) -> bool:
    """True for cross-validation splitters (anything with ``split`` and ``get_n_splits``)."""
    return callable(getattr(cls, "split", None)) and callable(getattr(cls, "get_n_splits", None))
