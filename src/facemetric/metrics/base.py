"""The one base class of every pair metric.

A metric learns (or not) from training descriptors with identity labels, then scores
pairs: **higher always means "same person"**. Scoring is split in two steps so that big
protocols stay fast and small in memory:

* ``prepare(X)`` maps descriptors once, row by row (normalise, centre, project...);
* ``score_prepared(Za, Zb)`` scores aligned rows of prepared descriptors.

``score_pairs(X, ia, ib)`` prepares ``X`` once and scores index pairs in chunks.
Subclasses declare ``_parameter_constraints`` (checked by ``fit``, see
:mod:`facemetric.constraints`), write ``_fit`` (the maths) and override
``prepare``/``score_prepared``. The statistics they share live in :mod:`facemetric.metrics._stats`;
the "linear projection + cosine" family shares :class:`facemetric.metrics.projection.LinearProjection`.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.metaestimators import available_if

from facemetric.constraints import check_params
from facemetric.errors import InputError, NotFittedError
from facemetric.types import DescriptorSet, Provenance, check_matrix

DEFAULT_CHUNK = 1 << 17


def as_descriptor_matrix(X: Any, what: str) -> np.ndarray:
    """:func:`check_matrix` plus the refusals scikit-learn expects: sparse, complex, zero features."""
    from scipy import sparse

    if sparse.issparse(X):
        raise InputError(f"{what} are a sparse matrix; sparse input is not supported, pass a dense array")
    arr = np.asarray(X)
    if np.iscomplexobj(arr):
        raise InputError(f"{what}: Complex data not supported; pass real descriptors")
    if arr.dtype == object:
        arr = arr.astype(np.float64)  # raises TypeError naming the bad element
    if arr.ndim == 1:
        raise InputError(f"{what} must be a 2-D (n_samples, dim) array; got shape {arr.shape}. "
                         "Reshape your data with X.reshape(1, -1) for a single descriptor")
    arr = check_matrix(arr, what)
    if arr.shape[1] == 0:
        raise InputError(f"{what} have 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required; "
                         "give descriptors with at least one dimension")
    return arr


def rowwise_dot(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Dot product of aligned rows, float32 in and out."""
    return np.einsum("ij,ij->i", A, B)


def l2_normalize(X: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.maximum(norms, eps)


def neg_sq_distances(Za: np.ndarray, Zb: np.ndarray) -> np.ndarray:
    """``-||a - b||^2`` of every row of ``Za`` against every row of ``Zb`` (na, nb), float64, by one GEMM."""
    sq = np.einsum("ij,ij->i", Za, Za, dtype=np.float64)[:, None] + np.einsum("ij,ij->i", Zb, Zb, dtype=np.float64)
    sq -= 2.0 * (Za @ Zb.T)
    return -np.maximum(sq, 0.0, out=sq)


def check_index_pairs(ia: Any, ib: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Pair index arrays as int64, refused unless of equal shape and within ``[0, n)``."""
    ia = np.asarray(ia, dtype=np.int64)
    ib = np.asarray(ib, dtype=np.int64)
    if ia.shape != ib.shape:
        raise InputError(f"{ia.size} first indices but {ib.size} second indices")
    if ia.size and (min(ia.min(), ib.min()) < 0 or max(ia.max(), ib.max()) >= n):
        raise InputError(f"a pair points at row {int(max(ia.max(), ib.max()))} but there are only {n} descriptors")
    return ia, ib


class SingletonIdentityWarning(UserWarning):
    """Identities with too few images were dropped before fitting a within-class statistic."""


class ParameterWarning(UserWarning):
    """A setting cannot work as given on these data: the nearest one that can was used, or the fit
    will mostly reflect the regularisation (too few descriptors or identities)."""


#: Below this many training identities (or descriptors per dimension) a learned metric is warned about.
MIN_SENSIBLE_IDENTITIES = 10


def warn_small_training_set(owner: str, n: int, d: int, n_ids: int) -> None:
    """Warn when a learned metric gets too few descriptors or identities to estimate what it models."""
    problems = []
    if n_ids < MIN_SENSIBLE_IDENTITIES:
        problems.append(f"{n_ids} identities")
    if n <= d:
        problems.append(f"{n} descriptors for {d} dimensions")
    if problems:
        warnings.warn(
            f"{owner}: fitted on {n} descriptors of {n_ids} identities ({' and '.join(problems)}); the "
            f"model mostly reflects its regularisation. Fit on hundreds of identities, or use cosine",
            ParameterWarning, stacklevel=3,
        )


class PairMetric(BaseEstimator):
    """Base class: ``fit(X, y)`` then ``pair_score(Xa, Xb)`` (higher = same person).

    Class attributes describe the method:

    * ``needs_labels``: ``fit`` requires identity labels;
    * ``transductive``: the method looks at the test descriptors (reported as such);
    * ``uses_pose``: scoring takes the yaw of the images, ``score_pairs(X, ia, ib, yaw=...)``
      (:mod:`facemetric.metrics.pose_aware`); the drivers pass ``DescriptorSet.yaw`` to such metrics;
    * ``is_projection``: ``transform`` is defined;
    * ``dot_product_scores``: ``score_prepared(Za, Zb)`` is the dot product of aligned rows, so the
      scores of every row against every row are one matrix product (1:N search runs it in float32);
    * ``_parameter_constraints``: what each hyperparameter may be, checked first thing in ``fit``;
    * ``family``: the group ``facemetric methods`` lists it in (one of
      :data:`facemetric.metrics.catalog.FAMILIES`).
    """

    family: ClassVar[str] = "projections"
    needs_labels: ClassVar[bool] = True
    transductive: ClassVar[bool] = False
    uses_pose: ClassVar[bool] = False
    is_projection: ClassVar[bool] = False
    dot_product_scores: ClassVar[bool] = False
    min_features: ClassVar[int] = 1
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {}

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        from sklearn.utils import TransformerTags

        tags = super().__sklearn_tags__()
        tags.target_tags.required = self.needs_labels
        tags.input_tags.sparse = False
        if self.is_projection:
            tags.transformer_tags = TransformerTags(preserves_dtype=["float32"])  # computed in float32
        return tags

    # --- fitting -----------------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> PairMetric:
        check_params(type(self).__name__, self.get_params(deep=False), self._parameter_constraints)
        X = as_descriptor_matrix(X, "training descriptors")
        if X.shape[0] == 0:
            raise InputError("training descriptors are empty (0 samples); give at least two identities")
        if self.needs_labels:
            if y is None:
                raise InputError(f"{type(self).__name__} requires y to be passed, but the target y is None; "
                                 "give one identity label per descriptor")
            y = np.asarray(y)
            if y.ndim != 1 or y.shape[0] != X.shape[0]:
                raise InputError(f"{X.shape[0]} training descriptors but labels of shape {y.shape}; "
                                 "give one identity label per descriptor")
            n_ids = np.unique(y).size
            if n_ids < 2:
                raise InputError(
                    f"{type(self).__name__} needs at least 2 identities to learn from; got {n_ids} "
                    f"identity (1 class) in {X.shape[0]} sample(s)"
                )
            warn_small_training_set(type(self).__name__, X.shape[0], X.shape[1], n_ids)
        if X.shape[1] < self.min_features:
            raise InputError(f"{type(self).__name__} needs descriptors of at least {self.min_features} "
                             f"dimensions; got {X.shape[1]} feature(s)")
        self.n_features_in_ = X.shape[1]
        self._fit(X, y)
        return self

    def fit_descriptors(self, descriptors: DescriptorSet) -> PairMetric:
        """Fit on a :class:`DescriptorSet`, remembering its provenance for later checks."""
        self.fit(descriptors.X, descriptors.labels)
        self.provenance_ = descriptors.provenance.to_dict()
        return self

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        """Learn the state; set attributes ending in ``_``. Default: nothing to learn."""

    def _after_load(self) -> None:
        """Hook run by :func:`facemetric.metrics.persist.load_model` once attributes are restored."""

    # --- scoring -----------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "n_features_in_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit() or load a model first")

    def _check_dim(self, X: np.ndarray, what: str) -> np.ndarray:
        X = as_descriptor_matrix(X, what)
        self._check_fitted()
        if X.shape[1] != self.n_features_in_:
            raise InputError(
                f"{what}: X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input (the dimension it was fitted on); use descriptors "
                "from the same backbone and flip fusion"
            )
        return X

    def check_descriptors(self, descriptors: DescriptorSet) -> None:
        """Refuse descriptors whose backbone or dimension differ from the training ones."""
        self._check_dim(descriptors.X[:1], "descriptors")
        trained = getattr(self, "provenance_", None)
        if trained is None:
            return
        known = Provenance.from_dict(trained)
        got = descriptors.provenance
        if known.same_backbone_as(got) is False:
            a, b = known.backbone, got.backbone
            what = f"backbone={a!r}" + (f" but these have backbone={b!r}" if a != b else
                                        " but these come from another model file (content hash differs)")
            raise InputError(f"model was fitted on {what}; fit a model on descriptors from the same pipeline")
        a, b = known.flip_fusion, got.flip_fusion
        if "unknown" not in (a, b) and a != b:
            raise InputError(
                f"model was fitted on flip_fusion={a!r} descriptors but these have flip_fusion={b!r}; "
                "fit a model on descriptors from the same pipeline"
            )

    def prepare(self, X: np.ndarray) -> np.ndarray:
        """Map descriptors row by row before scoring. Default: identity."""
        return X

    @available_if(lambda self: self.is_projection)
    def transform(self, X: Any) -> np.ndarray:
        """Project descriptors into the learned space (projection methods only)."""
        X = self._check_dim(X, "descriptors")
        return self.prepare(X)

    @available_if(lambda self: self.is_projection)
    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """``fit(X, y)`` then ``transform(X)``."""
        return self.fit(X, y).transform(X)

    # --- persistence -------------------------------------------------------------
    def save(self, model_dir: str | Path) -> Path:
        """Write ``model.json`` + ``arrays.npz`` (see :mod:`facemetric.metrics.persist`)."""
        from facemetric.metrics.persist import save_model

        return save_model(self, model_dir)

    @classmethod
    def load(cls, model_dir: str | Path) -> PairMetric:
        """Load a model saved by :meth:`save`; refuses a model of another class."""
        from facemetric.metrics.persist import load_model

        model = load_model(model_dir)
        if not isinstance(model, cls):
            raise InputError(f"{model_dir}: holds a {type(model).__name__} model, not a {cls.__name__}")
        return model

    def score_prepared(self, Za: np.ndarray, Zb: np.ndarray) -> np.ndarray:
        """Score aligned rows of prepared descriptors."""
        raise NotImplementedError

    def score_matrix(self, Za: np.ndarray, Zb: np.ndarray, *, block: int = 256) -> np.ndarray:
        """Scores of every row of prepared ``Za`` against every row of prepared ``Zb``, shape (na, nb).

        Metrics with ``dot_product_scores`` get ``Za @ Zb.T``; the default is ``score_prepared`` on
        blocks of broadcast pairs, which metrics with another closed form override.
        """
        if self.dot_product_scores:
            return (Za @ Zb.T).astype(np.float64)
        out = np.empty((Za.shape[0], Zb.shape[0]), dtype=np.float64)
        step = max(1, (block * block) // max(Zb.shape[0], 1))
        for start in range(0, Za.shape[0], step):
            rows = Za[start : start + step]
            left = np.repeat(rows, Zb.shape[0], axis=0)
            right = np.tile(Zb, (rows.shape[0], 1))
            out[start : start + rows.shape[0]] = self.score_prepared(left, right).reshape(rows.shape[0], -1)
        return out

    def pair_score(self, Xa: Any, Xb: Any) -> np.ndarray:
        """Similarity of each row of ``Xa`` with the same row of ``Xb``; higher = same person."""
        Xa = self._check_dim(Xa, "first descriptors")
        Xb = self._check_dim(Xb, "second descriptors")
        if Xa.shape[0] != Xb.shape[0]:
            raise InputError(f"pair_score got {Xa.shape[0]} first and {Xb.shape[0]} second descriptors")
        return self.score_prepared(self.prepare(Xa), self.prepare(Xb)).astype(np.float64)

    def pair_distance(self, Xa: Any, Xb: Any) -> np.ndarray:
        """``-pair_score``: lower = same person."""
        return -self.pair_score(Xa, Xb)

    def score_pairs(
        self, X: Any, ia: np.ndarray, ib: np.ndarray, *, chunk_size: int = DEFAULT_CHUNK
    ) -> np.ndarray:
        """Score index pairs ``(X[ia], X[ib])`` in chunks; ``X`` is prepared once."""
        X = self._check_dim(X, "descriptors")
        ia, ib = check_index_pairs(ia, ib, X.shape[0])
        return self.score_prepared_pairs(self.prepare(X), ia, ib, chunk_size=chunk_size)

    def score_prepared_pairs(
        self, Z: np.ndarray, ia: np.ndarray, ib: np.ndarray, *, chunk_size: int = DEFAULT_CHUNK
    ) -> np.ndarray:
        """Scores (float64) of prepared rows ``(Z[ia], Z[ib])``, ``chunk_size`` pairs at a time.

        The one scoring loop: :meth:`score_pairs` runs it after ``prepare``, and the Dask
        workers of :mod:`facemetric.scale.score` run it on their partitions of pairs.
        """
        out = np.empty(ia.shape[0], dtype=np.float64)
        for start in range(0, ia.shape[0], chunk_size):
            sl = slice(start, start + chunk_size)
            out[sl] = self.score_prepared(Z[ia[sl]], Z[ib[sl]])
        return out
