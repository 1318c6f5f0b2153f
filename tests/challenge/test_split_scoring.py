"""Public/private split, contest metrics against sklearn, tokens, CSV guard."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score, roc_curve

from facemetric.challenge.leaderboard import safe_cell
from facemetric.challenge.scoring import check_metric, score_split
from facemetric.challenge.split import stratified_split
from facemetric.challenge.tokens import hash_token, new_token, token_matches
from facemetric.errors import ConfigError, ProtocolError


def test_split_is_stratified_seeded_and_deterministic():
    labels = np.r_[np.ones(300), np.zeros(700)].astype(int)
    a = stratified_split(labels, 0.3, seed=1)
    assert a.sum() == 300
    assert labels[a].sum() == 90 and (1 - labels[a]).sum() == 210
    assert np.array_equal(a, stratified_split(labels, 0.3, seed=1))
    assert not np.array_equal(a, stratified_split(labels, 0.3, seed=2))


def test_split_keeps_both_labels_in_both_parts():
    labels = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    public = stratified_split(labels, 0.01, seed=0)
    for part in (public, ~public):
        assert set(labels[part]) == {0, 1}


def test_split_refuses_a_single_pair_of_a_label():
    with pytest.raises(ProtocolError, match="1 pair\\(s\\) with label 1"):
        stratified_split(np.array([1, 0, 0, 0]), 0.5, seed=0)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.2])
def test_split_refuses_bad_fraction(fraction):
    with pytest.raises(ConfigError, match="public fraction"):
        stratified_split(np.array([1, 1, 0, 0]), fraction, seed=0)


def test_auc_matches_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    s = rng.standard_normal(500) + y
    s[::7] = 0.25  # ties
    assert score_split("auc", y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_tar_at_far_matches_a_brute_force_reading_of_sklearn_roc():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 2000)
    s = rng.standard_normal(2000) + 1.5 * y
    fpr, tpr, _ = roc_curve(y, s)
    expected = tpr[fpr <= 1e-2].max()
    assert score_split("tar@far=1e-2", y, s) == pytest.approx(expected)


def test_accuracy_is_between_half_and_one_and_seeded():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 600)
    s = rng.standard_normal(600) + 2 * y
    acc = score_split("accuracy", y, s, seed=3)
    assert 0.75 < acc < 0.95
    assert acc == score_split("accuracy", y, s, seed=3)


@pytest.mark.parametrize(
    "bad, fragment",
    [("f1", "unknown contest metric"), ("tar@far=2", "in \\(0, 1\\)"), ("tar@far=x", "in \\(0, 1\\)")],
)
def test_bad_metric_names(bad, fragment):
    with pytest.raises(ConfigError, match=fragment):
        check_metric(bad)


def test_far_too_small_for_the_split_is_refused():
    with pytest.raises(ConfigError, match="cannot measure FAR 0.001"):
        check_metric("tar@far=1e-3", np.r_[np.zeros(100), np.ones(100)])


def test_tokens_are_random_and_only_hashes_match():
    a, b = new_token(), new_token()
    assert a != b and len(a) > 40
    assert token_matches(a, hash_token(a))
    assert not token_matches(b, hash_token(a))
    assert not token_matches(a[:-1], hash_token(a))


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("=1+2", "'=1+2"),
        ("+x", "'+x"),
        ("-x", "'-x"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("team", "team"),
        (None, ""),
        (0.5, "0.500000"),
    ],
)
def test_csv_guard(cell, expected):
    assert safe_cell(cell) == expected
