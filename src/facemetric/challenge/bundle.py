"""``create_challenge``: from labelled test pairs to an organiser folder and a participant bundle.

Nothing a participant can see may carry a label, so every order in the bundle is drawn from a
**secret** seed (128 random bits, kept in ``organiser/secret.json``, mixed with ``config.seed``):

* the rows of ``test.npz`` (in protocol order they would sit by person name, so a same-person
  pair's two rows would be close) and of ``train.npz``;
* the anonymous image ids (``t00042`` numbers the rows), the anonymous pair ids and the order of
  the lines of ``test_pairs.csv``, and which image of a pair comes first.

The public/private split is stratified by label and drawn from the same seeds. L2 and cosine
baselines are scored and entered.

Pairs with an image that has no test descriptor follow the ``missing`` policy
(:mod:`facemetric.enrolment`): "reject" (the default) keeps them in the answers as rejections
for every team, left out of the bundle (nobody can score them); "drop" leaves them out of the
contest; "error" refuses to create it.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from facemetric.challenge.config import ChallengeConfig, contest_paths, save_config
from facemetric.challenge.contest import Answers, Contest, save_answers
from facemetric.challenge.lock import META_KEY, lock_record
from facemetric.challenge.public_data import public_protocol_warning
from facemetric.challenge.scoring import check_metric
from facemetric.challenge.split import stratified_split
from facemetric.challenge.store import ChallengeStore
from facemetric.challenge.submission import HEADER, format_submission
from facemetric.enrolment import DEFAULT_MISSING, MissingPairs, find_missing, scorable_pairs
from facemetric.errors import ConfigError, InputError, ProtocolError
from facemetric.io import save_descriptors
from facemetric.io.atomic import atomic_open, write_text_atomic
from facemetric.types import DescriptorSet, PairProtocol

BYTES_PER_PAIR = 48  # room for "p00000," and a float written in full
BASELINES = {"baseline: L2": "l2", "baseline: cosine": "cosine"}  # team name -> facemetric.metrics method


@dataclass(frozen=True)
class CreatedChallenge:
    directory: Path
    bundle: Path
    admin_token: str
    n_pairs: int
    n_public: int
    warnings: tuple[str, ...] = ()
    missing: MissingPairs | None = None


def _check_disjoint(train: DescriptorSet, test: DescriptorSet) -> None:
    shared_ids = np.intersect1d(train.ids, test.ids)
    if shared_ids.size:
        raise InputError(
            f"{shared_ids.size} test image(s) are also in the training set, e.g. {str(shared_ids[0])!r}; "
            "remove them from the training descriptors"
        )
    train_people = set(train.labels.tolist()) - {""}
    test_people = set(test.labels.tolist()) - {""}
    overlap = sorted(train_people & test_people)
    if overlap:
        raise InputError(
            f"{len(overlap)} identit(y/ies) appear in both training and test descriptors, "
            f"e.g. {str(overlap[0])!r}; "
            "train on identities that are not in the test pairs"
        )


def _readme(config: ChallengeConfig, n_train: int, n_test: int, n_pairs: int, n_rejected: int = 0) -> str:
    rejected = (f"\n{n_rejected} more pair(s) of the contest use an image in which no face was found: they are not in "
                "`test_pairs.csv` and count as rejections (a score below every other) for every team.\n"
                if n_rejected else "")
    return f"""# {config.title}

Verify faces: for each test pair, say how likely the two faces show the same person.

## Files

- `train.npz`: {n_train} training descriptors with their identities (keys `X`, optional `X_flip`
  for the horizontally flipped crop, `labels`, `ids`, `provenance`, and where known `landmarks`,
  the 5 points each face was aligned from, and `yaw`, the head yaw in degrees). Load it with
  `facemetric.io.load_descriptors("train.npz")` or `numpy.load`.
- `test.npz`: {n_test} test descriptors with anonymous ids and no identities (same keys).
- `test_pairs.csv`: {n_pairs} pairs, `pair_id,a,b`, where `a` and `b` are ids in `test.npz`.
- `sample_submission.csv`: a valid submission with a constant score.
{rejected}
## Submission

A UTF-8 CSV file with the header `pair_id,score` and exactly one line per pair of
`test_pairs.csv`, in any order. A **higher score means "same person"**. Scores must be finite
numbers in plain ASCII decimal notation (such as `0.25`, `-3` or `1.5e-3`). The file may be at most
{config.max_upload_bytes} bytes.

Metric: `{config.metric}`. The leaderboard shows the score on a public part ({config.public_fraction:.0%})
of the pairs, rounded to 5 decimals; the final ranking uses the other, private part, revealed
when the contest closes.
Each team may submit {config.daily_limit} time(s) per day (UTC) and choose up to {config.max_final}
final submission(s); by default its best public one counts.

Submit through the web form, or:

```
curl -H "Authorization: Bearer $TOKEN" -H "Idempotency-Key: $(uuidgen)" \\
     -F file=@submission.csv http://HOST:PORT/api/submissions
```

If no answer comes, send the same file again with the same `Idempotency-Key`: it is stored and
counted once, and you get the first answer.
"""


def _write_bundle(
    directory: Path,
    train: DescriptorSet,
    test: DescriptorSet,
    pair_ids: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    config: ChallengeConfig,
    n_rejected: int = 0,
) -> None:
    bundle = contest_paths(directory)["bundle"]
    bundle.mkdir(parents=True)
    save_descriptors(train, bundle / "train.npz")
    save_descriptors(test, bundle / "test.npz")
    with atomic_open(bundle / "test_pairs.csv") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(("pair_id", "a", "b"))
        writer.writerows(zip(pair_ids.tolist(), a.tolist(), b.tolist()))
    with atomic_open(bundle / "sample_submission.csv") as fh:
        fh.write(",".join(HEADER) + "\n")
        fh.writelines(f"{p},0.5\n" for p in pair_ids.tolist())
    write_text_atomic(bundle / "README.md", _readme(config, len(train), len(test), pair_ids.size, n_rejected))


@dataclass(frozen=True)
class Shuffle:
    """Every participant-visible order of one contest, drawn from the secret seed."""

    test_rows: np.ndarray  # bundle row k of test.npz holds protocol image test_rows[k]
    train_rows: np.ndarray  # bundle row k of train.npz holds training row train_rows[k]
    pair_order: np.ndarray  # pair p{k} is protocol pair pair_order[k]
    swap: np.ndarray  # whether pair k lists its two images the other way round
    split_seed: int


def draw_shuffle(secret: int, seed: int, n_images: int, n_train: int, n_pairs: int) -> Shuffle:
    rng = np.random.default_rng([secret, seed])
    return Shuffle(
        test_rows=rng.permutation(n_images),
        train_rows=rng.permutation(n_train),
        pair_order=rng.permutation(n_pairs),
        swap=rng.random(n_pairs) < 0.5,
        split_seed=int(rng.integers(2**63)),
    )


def anonymous_ids(prefix: str, n: int) -> np.ndarray:
    """``t00000``, ``t00001``, ...: at least five digits, more when ``n`` needs them."""
    width = max(5, len(str(n - 1)))
    return np.array([f"{prefix}{i:0{width}d}" for i in range(n)])


def _new_dir_beside(out: Path) -> Path:
    """An empty folder with a random name next to ``out``, with the umask's permissions."""
    while True:
        work = out.parent / f".{out.name}.{secrets.token_hex(6)}"
        try:
            work.mkdir()
        except FileExistsError:
            continue
        return work


def create_challenge(
    train: DescriptorSet,
    test: DescriptorSet,
    protocol: PairProtocol,
    out: str | Path,
    config: ChallengeConfig = ChallengeConfig(),
    *,
    secret_seed: int | None = None,
    protocol_format: str | None = None,
    missing: str = DEFAULT_MISSING,
) -> CreatedChallenge:
    """Build the contest folder ``out`` (which must not exist yet); return it with the admin token.

    ``secret_seed`` (default: 128 fresh random bits) draws every order participants see; it is
    recorded in ``organiser/secret.json``. ``protocol_format`` (as detected by
    ``facemetric.io.detect_format``) helps to tell a public benchmark, which the returned
    ``warnings`` then name. The folder is built beside ``out`` and renamed into place at the
    end, so a failure leaves nothing. ``missing`` is the policy for pairs with an image that has no
    test descriptor (see the module doc); the returned ``missing`` lists them.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"{out}: already exists and is not empty; choose a new folder for the contest")
    if protocol.labels is None:
        raise ProtocolError(
            f"{protocol.name}: the test pairs have no labels; the organiser needs them to score"
        )
    absent = find_missing(protocol, test, missing)
    if missing == "drop" and absent.n_pairs:
        protocol = scorable_pairs(protocol, absent)
    rejected = absent.pairs if missing == "reject" else np.zeros(len(protocol), dtype=bool)
    present = np.zeros(protocol.images.size, dtype=bool)
    present[np.unique(protocol.pairs[~rejected])] = True
    rows = test.index_of(protocol.images[present], source=protocol.name)
    test = test.subset(rows)  # only the images the scorable pairs use, in protocol order
    image_row = np.full(protocol.images.size, -1, dtype=np.int64)
    image_row[present] = np.arange(int(present.sum()))
    _check_disjoint(train, test)
    flip = config.flip
    if flip == "sum" and (train.X_flip is None or test.X_flip is None):
        flip = "none"
    secret = secrets.randbits(128) if secret_seed is None else int(secret_seed)
    shuffle = draw_shuffle(secret, config.seed, len(test), len(train), len(protocol))
    test = test.subset(shuffle.test_rows)
    train = train.subset(shuffle.train_rows)
    row_of = np.empty(len(shuffle.test_rows), dtype=np.int64)
    row_of[shuffle.test_rows] = np.arange(len(shuffle.test_rows))  # protocol image -> bundle row
    anon = anonymous_ids("t", len(test))  # numbered by bundle row, so as random as the rows
    pair_ids = anonymous_ids("p", len(protocol))
    labels = protocol.labels[shuffle.pair_order]
    rejected = rejected[shuffle.pair_order]
    shown = ~rejected  # the pairs participants score, in bundle order
    first = row_of[image_row[protocol.pairs[shuffle.pair_order[shown], 0]]]
    second = row_of[image_row[protocol.pairs[shuffle.pair_order[shown], 1]]]
    swap = shuffle.swap[shown]
    ia, ib = np.where(swap, second, first), np.where(swap, first, second)
    public = stratified_split(labels, config.public_fraction, shuffle.split_seed)
    metric = check_metric(config.metric, labels[public])
    check_metric(config.metric, labels[~public])
    config = replace(config, metric=metric, flip=flip, n_pairs=len(protocol))
    n_shown = int(shown.sum())
    if config.max_upload_bytes < BYTES_PER_PAIR * n_shown:
        raise ConfigError(
            f"max upload size {config.max_upload_bytes} bytes is too small for {n_shown} pairs; "
            f"allow at least {BYTES_PER_PAIR * n_shown} bytes"
        )

    # landmarks and yaw stay with the descriptors, as the hackathon gave landmarks to its teams
    test_public = replace(test, labels=np.full(len(test), ""), ids=anon)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = _new_dir_beside(out)
    try:
        _write_bundle(work, train, test_public, pair_ids[shown], anon[ia], anon[ib], config,
                      n_rejected=int(rejected.sum()))
        paths = contest_paths(work)
        paths["answers"].parent.mkdir(parents=True)
        save_answers(Answers(pair_ids=pair_ids, labels=labels, public=public,
                             rejected=rejected if rejected.any() else None), paths["answers"])
        with atomic_open(paths["test_ids"]) as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(("id", "image", "label"))
            writer.writerows(zip(anon.tolist(), test.ids.tolist(), test.labels.tolist()))
        write_text_atomic(
            paths["secret"],
            json.dumps({"secret_seed": str(secret), "seed": config.seed, "keep": "organiser only"}) + "\n",
        )
        save_config(config, work)
        store = ChallengeStore(paths["db"])
        store.initialize()
        admin_token = store.new_admin_token()
        store.set_meta(META_KEY, lock_record(config, paths["answers"]))
        contest = Contest(work)
        X = test.fused(flip).X
        from facemetric.metrics import make_metric  # imported here: the web server never needs it

        for name, method in BASELINES.items():
            team, _ = store.add_team(name, baseline=True)
            scores = make_metric(method).fit(X).score_pairs(X, ia, ib)
            contest.submit(team, format_submission(pair_ids[shown], scores), enforce_limit=False)
        contest.store.disconnect()
        store.disconnect()
        if out.exists():
            out.rmdir()
        os.replace(work, out)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return CreatedChallenge(
        directory=out,
        bundle=contest_paths(out)["bundle"],
        admin_token=admin_token,
        n_pairs=len(protocol),
        n_public=int(public.sum()),
        warnings=tuple(w for w in [public_protocol_warning(protocol, protocol_format)] if w),
        missing=absent,
    )
