"""Option types and help texts shared by several verbs, declared once."""

from __future__ import annotations

from typing import Literal

from facemetric.io.protocols import FORMATS
from facemetric.types import FLIP_MODES
from facemetric.verify.units import RESAMPLE_CHOICES

#: ``--flip``: how the descriptors of the mirrored crops are fused (checked when parsing).
Flip = Literal[("auto",) + FLIP_MODES]  # type: ignore[valid-type]

#: ``--pooling``: how a set of descriptors is scored (auto: a metric's native set scoring, else the mean).
Pooling = Literal["auto", "mean", "native"]

FLIP_HELP = ("Flip fusion: auto (sum when the set has flipped descriptors, else none), sum, concat "
             "or none.")
METHOD_HELP = "Scoring method, e.g. cosine, lda or plda; run `facemetric methods` for all of them."
FORMAT_HELP = f"Protocol format: {', '.join(FORMATS)} (default: detected from the file)."
NO_PROGRESS_HELP = "Switch the progress display off (also FACEMETRIC_NO_PROGRESS=1)."
#: ``--method``/``--model``/``--train`` of the verbs that score sets that belong together (search, all-pairs,
#: templates verify): a learned method is fitted on --train, never on the sets it scores.
SET_METHOD_HELP = METHOD_HELP + " Default cosine; one that learns needs --train."
MODEL_HELP = "Model folder written by `facemetric fit`."
TRAIN_HELP = "Training descriptors (other people) to fit --method on."

#: ``--resample``: what the bootstrap resamples (checked when parsing).
Resample = Literal[RESAMPLE_CHOICES]  # type: ignore[valid-type]
RESAMPLE_HELP = ("What the bootstrap resamples: auto (the identities of the pairs, from the protocol or the "
                 "descriptors), identity, fold (the protocol's identity-disjoint folds) or pair (pairs as if "
                 "independent: too narrow when pairs share people).")
