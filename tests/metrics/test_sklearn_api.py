"""Every registered metric keeps scikit-learn's estimator contract (``parametrize_with_checks``).

Projection methods are checked as transformers (``transform``/``fit_transform``; they
compute in float32, declared in their tags). The metric-learn adapters run with few
iterations to keep the suite fast. No check is skipped or expected to fail.
"""

from __future__ import annotations

import warnings

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from facemetric.metrics import CLOSED_FORM, METHODS, make_metric

# The baselines and the closed-form / classical methods; the neural heads, normalisers and
# fusion have their own tests.
OWN = ["cosine", "l2", *CLOSED_FORM, "ml-itml", "ml-lmnn", "ml-nca", "ml-mlkr", "ml-lfda"]
FAST = {name: {"max_iter": 5} for name in OWN if name.startswith("ml-")}
ESTIMATORS = [make_metric(name, **FAST.get(name, {})) for name in OWN]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


@pytest.mark.parametrize("name", [n for n in OWN if METHODS[n].is_projection])
def test_transform_only_on_projections(name):
    assert hasattr(make_metric(name), "transform")


@pytest.mark.parametrize("name", [n for n in OWN if not METHODS[n].is_projection])
def test_no_transform_on_scorers(name):
    assert not hasattr(make_metric(name), "transform")
