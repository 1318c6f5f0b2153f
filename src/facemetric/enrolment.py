"""Failures to enrol: protocol pairs with a side that has no descriptor, and what to do with them.

Every real dataset has photos in which the detector finds no face. A pair that uses such a
photo cannot be scored; the ``missing`` policy says what happens to it:

* ``"reject"`` (the default): the pair stays in the protocol and counts as a rejection, scored
  below every real score, as NIST's FRVT counts a failure to enrol (a genuine pair is then a
  false reject at every threshold, an impostor pair a correct reject);
* ``"drop"``: the pair is left out of the evaluation;
* ``"error"``: stop, naming the images without a descriptor.

:func:`find_missing` finds them; :func:`scorable_pairs` is the protocol the metric scores;
:func:`reject_scores` puts the pairs back with their floor score. Reports say the policy, how
many pairs and images, the failure-to-enrol rate and which ones (:meth:`MissingPairs.to_dict`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from facemetric.errors import ConfigError, InputError
from facemetric.types import DescriptorSet, PairProtocol

MISSING_POLICIES = ("reject", "drop", "error")
DEFAULT_MISSING = "reject"


def check_missing_policy(policy: str) -> str:
    if policy not in MISSING_POLICIES:
        raise ConfigError(f"The 'missing' parameter must be one of {', '.join(MISSING_POLICIES)}. "
                          f"Got {policy!r} instead.")
    return policy


@dataclass(frozen=True, eq=False)
class MissingPairs:
    """The pairs of a protocol with a side that has no descriptor, and the policy applied to them.

    ``pairs`` (M,) bool marks them in the protocol's pair order; ``images`` are the protocol's
    image ids that have no descriptor (sorted); ``pair_ids`` the public ids of the marked pairs.
    """

    policy: str
    pairs: np.ndarray
    images: np.ndarray
    pair_ids: np.ndarray
    n_protocol_images: int

    @property
    def n_pairs(self) -> int:
        return int(self.pairs.sum())

    @property
    def n_images(self) -> int:
        return int(self.images.size)

    @property
    def fte_rate(self) -> float:
        """Failure-to-enrol rate: the share of the protocol's images that have no descriptor."""
        return self.n_images / self.n_protocol_images if self.n_protocol_images else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "n_pairs": self.n_pairs,
            "n_images": self.n_images,
            "n_protocol_images": self.n_protocol_images,
            "fte_rate": self.fte_rate,
            "images": self.images.tolist(),
            "pairs": self.pair_ids.tolist(),
        }

    def summary(self) -> str:
        """One line for a terminal: what was missing and what was done with it ("" when nothing was)."""
        if not self.n_images:
            return ""
        what = {"reject": "counted as rejections (scored below every real score)",
                "drop": "left out", "error": "refused"}[self.policy]
        examples = ", ".join(repr(str(i)) for i in self.images[:3]) + (", ..." if self.n_images > 3 else "")
        return (f"{self.n_images} of {self.n_protocol_images} protocol images have no descriptor "
                f"(failure to enrol {100 * self.fte_rate:.2f}%: {examples}); their {self.n_pairs} pairs are "
                f"{what} (--missing {self.policy})")


def find_missing(protocol: PairProtocol, descriptors: DescriptorSet, policy: str = DEFAULT_MISSING, *,
                 source: str | None = None) -> MissingPairs:
    """The pairs of ``protocol`` with a side missing from ``descriptors``; raises under ``policy="error"``
    when there are any (and under any policy when no pair is left to score)."""
    check_missing_policy(policy)
    _, found = descriptors.find(protocol.images)
    used = np.zeros(protocol.images.size, dtype=bool)
    used[protocol.pairs.ravel()] = True
    absent = used & ~found
    pairs = absent[protocol.pairs[:, 0]] | absent[protocol.pairs[:, 1]]
    missing = MissingPairs(policy=policy, pairs=pairs, images=np.sort(protocol.images[absent]),
                           pair_ids=protocol.pair_ids[pairs], n_protocol_images=int(used.sum()))
    name = source or protocol.name
    if missing.n_images and policy == "error":
        try:
            protocol.resolve(descriptors)  # its message names the first pair, and its line
        except InputError as exc:
            raise InputError(f"{exc}, or count such pairs as rejections (--missing reject) or leave them out "
                             "(--missing drop)") from None
    if missing.n_pairs == len(protocol):
        raise InputError(
            f"{name}: each of its {len(protocol)} pairs names an image with no descriptor (e.g. "
            f"{str(missing.images[0])!r}); check that the descriptors were extracted from this dataset "
            "and that ids are paths relative to the same root"
        )
    return missing


def scorable_pairs(protocol: PairProtocol, missing: MissingPairs) -> PairProtocol:
    """The protocol restricted to the pairs whose two images have descriptors, over the images they use
    (itself when all do)."""
    if not missing.n_pairs:
        return protocol
    return protocol.subset(np.flatnonzero(~missing.pairs)).compact()


def floor_score(scores: np.ndarray) -> float:
    """A score below every one of ``scores``: the minimum less the range (at least 1)."""
    finite = np.asarray(scores, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if not finite.size:
        return 0.0
    lo, hi = float(finite.min()), float(finite.max())
    return lo - max(1.0, hi - lo)


def reject_scores(scored: np.ndarray, missing: MissingPairs) -> np.ndarray:
    """Scores of every protocol pair: those of the scorable pairs (in order), and :func:`floor_score`
    for the pairs with a missing side, so that they are rejected at every threshold a real score sets."""
    scored = np.asarray(scored, dtype=np.float64)
    if not missing.n_pairs:
        return scored
    out = np.empty(missing.pairs.size, dtype=np.float64)
    out[~missing.pairs] = scored
    out[missing.pairs] = floor_score(scored)
    return out
