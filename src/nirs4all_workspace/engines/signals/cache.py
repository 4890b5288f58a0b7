"""Per-process results that every variant on one data set shares (classifier tables, contexts).

Module-level and keyed by the bars' fingerprint, so the engine object itself
stays small and picklable; the last two data sets are kept.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from .bars import Bars
from .classifiers import Classifier
from .evaluate import BarContext
from .sparse import SparseRegimes, content_digest, encode_regimes, regime_table

CLASSIFIERS_FOLDER = "_classifiers"
DIGEST_CHARS = 12
_CACHED_DATASETS = 2


@dataclass
class ClassifierSet:
    """Every classifier of a grid, evaluated on one data set."""

    classifiers: list[Classifier]
    codes: np.ndarray  # (classifiers, bars) int8 regime codes
    group_classifier: np.ndarray  # one row per (classifier, label): its classifier's index
    group_code: np.ndarray  # and the label's code
    files: dict[str, bytes]  # "_classifiers/<name>_<digest>.parquet" -> change table
    sparse: list[SparseRegimes]


class _DatasetCache:
    """Per-process results that every variant on one data set shares."""

    def __init__(self, bars: Bars) -> None:
        self.bars = bars
        self.contexts: dict[float, BarContext] = {}
        self.classifiers: dict[str, tuple[SparseRegimes, np.ndarray, str, bytes]] = {}
        self.sets: dict[str, ClassifierSet] = {}

    def context(self, bars_per_year: float) -> BarContext:
        found = self.contexts.get(bars_per_year)
        if found is None:
            found = self.contexts[bars_per_year] = BarContext.from_close(self.bars.close, bars_per_year)
        return found

    def classifier(self, classifier: Classifier) -> tuple[SparseRegimes, np.ndarray, str, bytes]:
        key = json.dumps(classifier.to_config(), sort_keys=True)
        found = self.classifiers.get(key)
        if found is None:
            codes, confidence = classifier.classify(self.bars)
            sparse = encode_regimes(codes, confidence, classifier.labels)
            digest = content_digest(
                self.bars.fingerprint, classifier.to_config(), sparse.bar_idx, sparse.codes, sparse.confidence
            )
            data = regime_table(
                sparse,
                self.bars.timestamps,
                classifier=classifier.name,
                config=classifier.to_config(),
                data_fingerprint=self.bars.fingerprint,
                dataset=self.bars.name,
            )
            name = f"{CLASSIFIERS_FOLDER}/{classifier.name}_{digest[:DIGEST_CHARS]}.parquet"
            found = self.classifiers[key] = (sparse, codes, name, data)
        return found

    def classifier_set(self, classifiers: list[Classifier]) -> ClassifierSet:
        key = json.dumps([c.to_config() for c in classifiers], sort_keys=True)
        found = self.sets.get(key)
        if found is None:
            outputs = [self.classifier(c) for c in classifiers]
            n = self.bars.n_samples
            codes = np.stack([o[1] for o in outputs]) if outputs else np.zeros((0, n), np.int8)
            group_classifier = np.asarray(
                [i for i, c in enumerate(classifiers) for _ in c.labels], dtype=np.int64
            )
            group_code = np.asarray([k for c in classifiers for k in range(len(c.labels))], dtype=np.int8)
            found = self.sets[key] = ClassifierSet(
                classifiers,
                codes,
                group_classifier,
                group_code,
                {o[2]: o[3] for o in outputs},
                [o[0] for o in outputs],
            )
        return found


_CACHES: OrderedDict[str, _DatasetCache] = OrderedDict()


def dataset_cache(bars: Bars) -> _DatasetCache:
    """The shared results of ``bars`` in this process (the last two data sets are kept)."""
    cache = _CACHES.get(bars.fingerprint)
    if cache is None:
        cache = _CACHES[bars.fingerprint] = _DatasetCache(bars)
        while len(_CACHES) > _CACHED_DATASETS:
            _CACHES.popitem(last=False)
    _CACHES.move_to_end(bars.fingerprint)
    return cache
