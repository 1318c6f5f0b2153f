"""Protocol loaders on small fixtures written here, and the LFW ones on ../shared/data/lfw."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from facemetric.errors import ProtocolError
from facemetric.io import detect_format, load_protocol, save_protocol
from facemetric.io.protocols import load_bin
from facemetric.types import PairProtocol


def write(path, text):
    path.write_text(text)
    return path


# --- LFW -------------------------------------------------------------------------------

LFW_TOY = """2\t1
Ann\t1\t2
Bob\t1\tCid\t3
Dan\t2\t4
Eve\t1\tFay\t12
"""


def test_lfw_pairs_fixture(tmp_path):
    p = load_protocol(write(tmp_path / "pairs.txt", LFW_TOY))
    assert detect_format(tmp_path / "pairs.txt") == "lfw"
    assert p.a.tolist() == ["Ann/Ann_0001.jpg", "Bob/Bob_0001.jpg", "Dan/Dan_0002.jpg", "Eve/Eve_0001.jpg"]
    assert p.b.tolist() == ["Ann/Ann_0002.jpg", "Cid/Cid_0003.jpg", "Dan/Dan_0004.jpg", "Fay/Fay_0012.jpg"]
    assert p.labels.tolist() == [1, 0, 1, 0]
    assert p.folds.tolist() == [0, 0, 1, 1]
    # the names are the identities of the images
    assert dict(zip(p.images.tolist(), p.identities.tolist()))["Fay/Fay_0012.jpg"] == "Fay"
    assert p.identities.tolist() == [i.split("/")[0] for i in p.images]


@pytest.mark.parametrize(
    "text,match",
    [
        (
            "2 1\nAnn 1 2\nBob 1 Cid 3\nDan 2 4\n",
            r"pairs.txt:1: the header announces 2 folds x 2 x 1 = 4 pairs but the file has 3",
        ),
        ("1 1\nAnn 1 2\nBob 1 Cid x\n", r"pairs.txt:3: image number must be an integer; got 'x'"),
        (
            "1 1\nAnn 1 2 3 4 5\nBob 1 Cid 2\n",
            r"pairs.txt:2: expected 'name i j' or 'name1 i name2 j'; got 6 fields",
        ),
        ("1 1\nBob 1 Cid 2\nAnn 1 2\n", r"pairs.txt:2: expected a matched \('name i j'\) pair"),
        ("", r"pairs.txt:1: the file is empty"),
        ("1 0\n", r"pairs.txt:1: the header '1 0' announces no pairs. it must read 'n_folds n_pairs_per_class'"),
        ("1 2\nAnn 1 2\n", r"pairs.txt:1: the header announces 1 fold x 2 x 2 = 4 pairs but the file has 1"),
    ],
)
def test_lfw_malformed_lines_name_file_and_line(tmp_path, text, match):
    path = write(tmp_path / "pairs.txt", text)
    with pytest.raises(ProtocolError, match=match) as info:
        load_protocol(path, format="lfw")
    assert "\n" not in str(info.value)


def test_lfw_dev_fixture_with_and_without_header(tmp_path):
    body = "Ann 1 2\nBob 1 Cid 3\n"
    for text in (body, "1\n" + body):
        path = write(tmp_path / "pairsDevTest.txt", text)
        assert detect_format(path) == "lfw-dev"
        p = load_protocol(path)
        assert p.labels.tolist() == [1, 0] and p.folds is None
    with pytest.raises(ProtocolError, match=r"pairsDevTest.txt:1: the header announces 2 \+ 2 pairs"):
        load_protocol(write(tmp_path / "pairsDevTest.txt", "2\n" + body))


def test_lfw_real_files(lfw_dir, lfw_descriptors):
    p = load_protocol(lfw_dir / "pairs.txt")
    assert len(p) == 6000 and p.labels.sum() == 3000
    assert np.bincount(p.folds).tolist() == [600] * 10
    assert all(p.labels[p.folds == k].sum() == 300 for k in range(10))
    assert p.a[0] == "Abel_Pacheco/Abel_Pacheco_0001.jpg" and p.b[0] == "Abel_Pacheco/Abel_Pacheco_0004.jpg"
    ia, ib = p.resolve(lfw_descriptors)  # every protocol image has a descriptor
    assert ia.shape == (6000,)
    for name, n in (("pairsDevTrain.txt", 2200), ("pairsDevTest.txt", 1000)):
        dev = load_protocol(lfw_dir / name)
        assert len(dev) == n and dev.labels.sum() == n // 2 and dev.folds is None
        dev.resolve(lfw_descriptors)


# --- CFP -------------------------------------------------------------------------------


def make_cfp(root):
    proto = root / "Protocol"
    (proto / "Split").mkdir(parents=True)
    write(
        proto / "Pair_list_F.txt",
        "".join(
            f"{i} ../Data/Images/{(i + 1) // 2:03d}/frontal/{(i - 1) % 2 + 1:02d}.jpg\n" for i in range(1, 9)
        ),
    )
    write(
        proto / "Pair_list_P.txt",
        "".join(
            f"{i} ../Data/Images/{(i + 1) // 2:03d}/profile/{(i - 1) % 2 + 1:02d}.jpg\n" for i in range(1, 9)
        ),
    )
    for setting in ("FF", "FP"):
        for k in (1, 2):
            d = proto / "Split" / setting / f"{k:02d}"
            d.mkdir(parents=True)
            base = 4 * (k - 1)
            write(d / "same.txt", f"{base + 1},{base + 2}\n")
            write(d / "diff.txt", f"{base + 1},{base + 3}\n{base + 2},{base + 4}\n")
    return proto


def test_cfp_fp_and_ff(tmp_path):
    proto = make_cfp(tmp_path / "cfp-dataset")
    fp = load_protocol(proto, format="cfp-fp")
    assert fp.a[0] == "Data/Images/001/frontal/01.jpg" and fp.b[0] == "Data/Images/001/profile/02.jpg"
    assert fp.labels.tolist() == [1, 0, 0, 1, 0, 0] and fp.folds.tolist() == [0, 0, 0, 1, 1, 1]
    # the identity of an image is its folder Data/Images/<id>, for frontal and profile photos alike
    assert fp.identities.tolist() == [i.split("/")[2] for i in fp.images]
    ff = load_protocol(proto, format="cfp-ff")
    assert ff.b[0] == "Data/Images/001/frontal/02.jpg"
    # detection from the Split folder; ids relative to a chosen images root
    assert detect_format(proto / "Split" / "FP") == "cfp-fp"
    rooted = load_protocol(proto / "Split" / "FF", images_root=tmp_path / "cfp-dataset" / "Data" / "Images")
    assert rooted.a[0] == "001/frontal/01.jpg" and rooted.identities[0] == "001"
    with pytest.raises(ProtocolError, match="choose the setting with --format cfp-fp or cfp-ff"):
        load_protocol(proto)


def test_cfp_malformed(tmp_path):
    proto = make_cfp(tmp_path / "cfp")
    write(proto / "Split" / "FP" / "02" / "diff.txt", "5,6\n5;7\n")
    with pytest.raises(ProtocolError, match=r"02/diff.txt:2: expected 'i,j'"):
        load_protocol(proto, format="cfp-fp")
    write(proto / "Split" / "FP" / "02" / "diff.txt", "5,99\n")
    with pytest.raises(ProtocolError, match=r"diff.txt:1: index 99 is not in the pair list"):
        load_protocol(proto, format="cfp-fp")
    with pytest.raises(ProtocolError, match="outside the dataset root"):
        load_protocol(proto, format="cfp-fp", images_root=tmp_path / "elsewhere")


# --- CPLFW / CALFW ---------------------------------------------------------------------


def test_cplfw_two_lines_per_pair(tmp_path):
    lines = []
    for k in range(40):
        same = k % 2 == 0
        lines += [
            f"P{k}_0001.jpg {k + 1 if same else 0}",
            f"{'P' if same else 'Q'}{k}_0002.jpg {k + 1 if same else 0}",
        ]
    path = write(tmp_path / "pairs_CPLFW.txt", "\n".join(lines) + "\n")
    assert detect_format(path) == "cplfw"
    p = load_protocol(path)
    assert len(p) == 40 and p.labels.tolist() == [1, 0] * 20
    assert p.a[1] == "P1_0001.jpg" and p.b[1] == "Q1_0002.jpg"
    assert np.bincount(p.folds).tolist() == [4] * 10
    identity = dict(zip(p.images.tolist(), p.identities.tolist()))  # from the file names
    assert identity["P1_0001.jpg"] == "P1" and identity["Q1_0002.jpg"] == "Q1"


def test_cplfw_malformed(tmp_path):
    with pytest.raises(ProtocolError, match=r"x.txt:3: 3 image lines is odd"):
        load_protocol(write(tmp_path / "x.txt", "a.jpg 1\nb.jpg 1\nc.jpg 0\n"), format="cplfw")
    with pytest.raises(ProtocolError, match=r"x.txt:2: the two lines of this pair disagree"):
        load_protocol(write(tmp_path / "x.txt", "a.jpg 1\nb.jpg 0\n"), format="cplfw")
    with pytest.raises(ProtocolError, match=r"x.txt:1: label must be an integer"):
        load_protocol(write(tmp_path / "x.txt", "a.jpg yes\nb.jpg 1\n"), format="cplfw")


# --- insightface .bin ------------------------------------------------------------------


def test_bin_roundtrip_with_numpy_bools(tmp_path):
    m = 30
    bins = [f"jpeg{i}".encode() for i in range(2 * m)]
    issame = [np.bool_(i % 3 == 0) for i in range(m)]
    for proto_version in (2, 4):
        path = tmp_path / f"v{proto_version}.bin"
        path.write_bytes(pickle.dumps((bins, issame), protocol=proto_version))
        assert detect_format(path) == "bin"
        ds = load_bin(path)
        assert ds.images[3] == b"jpeg3" and len(ds.images) == 2 * m
        assert ds.protocol.labels.tolist() == [int(i % 3 == 0) for i in range(m)]
        assert ds.protocol.a[1] == "000002.jpg" and ds.protocol.b[1] == "000003.jpg"
        assert np.bincount(ds.protocol.folds).tolist() == [3] * 10
    plain = tmp_path / "plain.bin"
    plain.write_bytes(pickle.dumps((bins[:4], [True, False])))
    assert load_protocol(plain).labels.tolist() == [1, 0]


class Evil:
    def __reduce__(self):
        return (print, ("pwned",))


@pytest.mark.parametrize(
    "payload,match",
    [
        (([b"a"] * 2, [Evil()]), "print is not allowed"),
        (([b"a"] * 2, np.array([True])), "not allowed"),
        (([b"a"] * 3, [True]), "3 images for 1 pairs"),
        (([b"a"] * 2, [1]), "issame_list must be a list of booleans"),
        ((["a", "b"], [True]), "bins must be a list of encoded images"),
        (([], []), "no pairs"),
    ],
)
def test_bin_refuses_foreign_objects_and_bad_shapes(tmp_path, payload, match):
    path = tmp_path / "bad.bin"
    path.write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(ProtocolError, match=match):
        load_bin(path)


def test_bin_truncated(tmp_path):
    path = tmp_path / "cut.bin"
    path.write_bytes(pickle.dumps(([b"a" * 100] * 4, [True, False]))[:60])
    with pytest.raises(ProtocolError, match="truncated"):
        load_bin(path)


# --- CSV and npz (own formats) ---------------------------------------------------------


def test_csv_positional_header_and_hidden_labels(tmp_path):
    p = load_protocol(write(tmp_path / "p.csv", "x.jpg,y.jpg,1,0\nx.jpg,z.jpg,0,1\n"))
    assert p.labels.tolist() == [1, 0] and p.folds.tolist() == [0, 1] and p.b.tolist() == ["y.jpg", "z.jpg"]
    p = load_protocol(write(tmp_path / "h.csv", "fold,label,b,a\n3,true,y.jpg,x.jpg\n4,false,z.jpg,x.jpg\n"))
    assert p.labels.tolist() == [1, 0] and p.folds.tolist() == [3, 4] and p.a[0] == "x.jpg"
    p = load_protocol(write(tmp_path / "n.csv", "a,b\nx.jpg,y.jpg\n"))
    assert p.labels is None and p.folds is None
    assert detect_format(tmp_path / "n.csv") == "csv"


@pytest.mark.parametrize(
    "text,match",
    [
        ("a,b,label\nx,y,2\n", r"c.csv:2: label must be 0 or 1"),
        ("a,b,label\nx,y,1\nx,z\n", r"c.csv:3: 2 columns but the first row has 3"),
        ("a,b,label\nx,y,1\nx,z,\n", r"c.csv:3: this pair has no label but others do"),
        ("x,y,1,k\n", r"c.csv:1: fold must be an integer"),
        ("a,b,colour\nx,y,red\n", r"c.csv:1: unknown column"),
        ("a,b\n", r"header but no pairs"),
        ("", "lists no pairs"),
    ],
)
def test_csv_malformed(tmp_path, text, match):
    with pytest.raises(ProtocolError, match=match):
        load_protocol(write(tmp_path / "c.csv", text))


@pytest.mark.parametrize("suffix", [".npz", ".csv"])
def test_save_load_roundtrip(tmp_path, suffix):
    p = PairProtocol.from_id_pairs(
        ["a/1.jpg", "b/1.jpg", "a/1.jpg"],
        ["a/2.jpg", "c/1.jpg", "b/1.jpg"],
        labels=[1, 0, 0],
        folds=[0, 1, 1],
        pair_ids=["p0", "p1", "p2"],
        name="toy",
        identities=(["A", "B", "A"], ["A", "C", "B"]),
    )
    back = load_protocol(save_protocol(p, tmp_path / f"toy{suffix}"))
    assert back.a.tolist() == p.a.tolist() and back.b.tolist() == p.b.tolist()
    assert back.labels.tolist() == [1, 0, 0] and back.folds.tolist() == [0, 1, 1]
    assert back.pair_ids.tolist() == ["p0", "p1", "p2"]
    assert back.identities.tolist() == p.identities.tolist() == ["A", "A", "B", "C"]
    hidden = load_protocol(save_protocol(p.without_labels(), tmp_path / f"hidden{suffix}"))
    assert hidden.labels is None and hidden.identities is None  # identities would tell the labels


def test_one_image_one_identity():
    with pytest.raises(ProtocolError, match=r"image 'a/1.jpg' is given two identities"):
        PairProtocol.from_id_pairs(["a/1.jpg", "a/1.jpg"], ["b/1.jpg", "c/1.jpg"], labels=[0, 0],
                                   identities=(["A", "Z"], ["B", "C"]))


def test_bad_protocol_files(tmp_path):
    with pytest.raises(ProtocolError, match="does not exist"):
        load_protocol(tmp_path / "missing.txt")
    with pytest.raises(ProtocolError, match="unknown protocol format 'xml'"):
        load_protocol(write(tmp_path / "p.txt", "1 1\n"), format="xml")
    with pytest.raises(ProtocolError, match="cannot tell the protocol format"):
        load_protocol(write(tmp_path / "q.txt", "hello there my friend you\n"))
    (tmp_path / "t.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ProtocolError, match="not a readable protocol .npz"):
        load_protocol(tmp_path / "t.npz")
    np.savez(tmp_path / "past.npz", images=np.array(["a", "b"]), pairs=np.array([[0, 5]]))
    with pytest.raises(ProtocolError, match="a pair points at image 5 but the protocol lists 2 images"):
        load_protocol(tmp_path / "past.npz")
    np.savez(tmp_path / "empty.npz", images=np.array(["a"]), pairs=np.zeros((0, 2), int))
    with pytest.raises(ProtocolError, match="no pairs"):
        load_protocol(tmp_path / "empty.npz")
    with pytest.raises(ProtocolError, match="unknown extension"):
        save_protocol(PairProtocol.from_id_pairs(["a"], ["b"]), tmp_path / "p.json")
