"""IJB-B/C layouts (fixtures written here) and the protocol builder."""

from __future__ import annotations

import numpy as np
import pytest

from facemetric.errors import ConfigError, InputError, ProtocolError
from facemetric.templates.builder import build_template_protocol, split_gallery_probes
from facemetric.templates.groups import Groups
from facemetric.templates.ijb import (
    load_template_map,
    read_face_scores,
    read_face_tid_mid,
    read_template_pair_label,
    write_face_tid_mid,
    write_template_pair_label,
)
from facemetric.types import DescriptorSet, Provenance

FACE_TID_MID = """1.jpg 1 69544
2.jpg 1 69544
3.jpg 1 3864
4.jpg 2 3865

5.jpg 2 3866
"""
PAIRS = "1 2 1\n1 3 0\n"
IJB_1N = """TEMPLATE_ID,SUBJECT_ID,FILENAME,SIGHTING_ID,FACE_X
11,7,img/1.jpg,100,3
11,7,frames/2.png,101,4
12,8,img/3.jpg,102,5
"""


def test_read_write_round_trip(tmp_path):
    (tmp_path / "ijbb_face_tid_mid.txt").write_text(FACE_TID_MID)
    (tmp_path / "ijbb_template_pair_label.txt").write_text(PAIRS)
    tmap = read_face_tid_mid(tmp_path / "ijbb_face_tid_mid.txt")
    assert tmap.images.tolist() == ["1.jpg", "2.jpg", "3.jpg", "4.jpg", "5.jpg"]
    assert tmap.templates.tolist() == [1, 1, 1, 2, 2]
    assert tmap.media.tolist() == [69544, 69544, 3864, 3865, 3866]
    pairs = read_template_pair_label(tmp_path / "ijbb_template_pair_label.txt")
    assert (pairs.t1.tolist(), pairs.t2.tolist(), pairs.labels.tolist()) == ([1, 1], [2, 3], [1, 0])
    write_face_tid_mid(tmap, tmp_path / "out_face_tid_mid.txt")
    write_template_pair_label(pairs, tmp_path / "out_template_pair_label.txt")
    assert (tmp_path / "out_face_tid_mid.txt").read_text() == FACE_TID_MID.replace("\n\n", "\n")
    assert (tmp_path / "out_template_pair_label.txt").read_text() == PAIRS


def test_ijb_1n_list_and_face_scores(tmp_path):
    (tmp_path / "ijbc_1N_gallery_G1.csv").write_text(IJB_1N)
    tmap = load_template_map(tmp_path / "ijbc_1N_gallery_G1.csv")
    assert tmap.images.tolist() == ["img/1.jpg", "frames/2.png", "img/3.jpg"]
    assert tmap.subjects.tolist() == ["7", "7", "8"]
    assert tmap.templates.tolist() == [11, 11, 12]
    (tmp_path / "ijbb_name_5pts_score.txt").write_text("1.jpg " + " ".join(["1.5"] * 10) + " 0.93\n")
    names, scores = read_face_scores(tmp_path / "ijbb_name_5pts_score.txt")
    assert names.tolist() == ["1.jpg"] and scores.tolist() == [0.93]


@pytest.mark.parametrize(("text", "message"), [
    ("1.jpg 1\n", r":1: expected 'image_name template_id media_id'"),
    ("1.jpg 1 2\n2.jpg x 2\n", r":2: template id 'x' is not an integer"),
    ("", "lists no images"),
])
def test_bad_face_tid_mid_lines_name_the_line(tmp_path, text, message):
    path = tmp_path / "bad_face_tid_mid.txt"
    path.write_text(text)
    with pytest.raises(ProtocolError, match=message):
        read_face_tid_mid(path)


def test_bad_pair_lines_and_missing_files(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("1 2 1\n1 3 7\n")
    with pytest.raises(ProtocolError, match=":2: label 7"):
        read_template_pair_label(path)
    with pytest.raises(ProtocolError, match="does not exist"):
        read_face_tid_mid(tmp_path / "nope.txt")
    (tmp_path / "x.csv").write_text("A,B\n1,2\n")
    with pytest.raises(ProtocolError, match="TEMPLATE_ID"):
        load_template_map(tmp_path / "x.csv")


def _labelled(n_ids=12, per_id=(1, 2, 5, 7)):
    rng = np.random.default_rng(0)
    labels, ids = [], []
    for k in range(n_ids):
        n = per_id[k % len(per_id)]
        labels += [f"P{k}"] * n
        ids += [f"P{k}/P{k}_{j:04d}.jpg" for j in range(n)]
    X = rng.standard_normal((len(ids), 4)).astype(np.float32)
    return DescriptorSet(X=X, labels=np.array(labels), ids=np.array(ids), provenance=Provenance(backbone="b"),
                         X_flip=X[:, ::-1].copy())


def test_builder_makes_disjoint_templates_and_correct_labels():
    ds = _labelled()
    tmap, pairs = build_template_protocol(ds, images_per_template=2, n_impostors=50, seed=3)
    assert sorted(tmap.images.tolist()) == sorted(ds.ids.tolist())  # every image in exactly one template
    groups = Groups.from_map(tmap, ds)
    subject = dict(zip(groups.names.astype(int).tolist(), groups.subjects.tolist()))
    assert all(len(t) <= 2 for t in np.split(tmap.templates, np.flatnonzero(np.diff(tmap.templates)) + 1))
    for a, b, y in zip(pairs.t1, pairs.t2, pairs.labels):
        assert a < b and y == int(subject[a] == subject[b])
    n_same = sum(n * (n - 1) // 2 for n in np.unique(list(subject.values()), return_counts=True)[1])
    assert int(pairs.labels.sum()) == n_same
    assert int((pairs.labels == 0).sum()) == 50
    again = build_template_protocol(ds, images_per_template=2, n_impostors=50, seed=3)
    assert again[0].images.tolist() == tmap.images.tolist()  # seeded


def test_builder_refusals():
    ds = _labelled(per_id=(1,))
    with pytest.raises(InputError, match="no genuine template pair"):
        build_template_protocol(ds)
    with pytest.raises(ConfigError, match="images_per_template"):
        build_template_protocol(_labelled(), images_per_template=0)


def test_split_gallery_probes_is_open_set_and_disjoint():
    ds = _labelled(n_ids=40)
    gallery, probes = split_gallery_probes(ds, gallery_fraction=0.5, non_mated_fraction=0.25, seed=1)
    assert not set(gallery.ids) & set(probes.ids)
    assert len(gallery) + len(probes) == len(ds)
    non_mated = set(probes.labels) - set(gallery.labels)
    assert non_mated and set(probes.labels) & set(gallery.labels)
    assert gallery.provenance.backbone == "b" and gallery.X_flip is not None
    for name in set(gallery.labels) & set(probes.labels):
        n = int((ds.labels == name).sum())
        assert int((gallery.labels == name).sum()) == min(n - 1, max(1, round(n / 2)))
