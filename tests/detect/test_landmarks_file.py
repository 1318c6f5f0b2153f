"""Given-landmarks files: the MTCNN text format and the CSV format, and every malformed case."""

from __future__ import annotations

import numpy as np
import pytest

from facemetric.detect import make_detector
from facemetric.detect.landmarks_file import read_landmarks_file
from facemetric.errors import ConfigError, InputError

LINE = "A/A_0001.jpg 70 59 167 188 0.99 108 108 147 112 125 143 104 158 140 162\n"


def test_text_format(tmp_path):
    path = tmp_path / "lm.txt"
    path.write_text("# comment\n" + LINE + LINE.replace("0.99", "0.5").replace(" 70 ", " 71 ") + "\n")
    det = make_detector(f"landmarks:{path}")
    faces = det.detect(np.zeros((1, 1, 3), np.uint8), "A/A_0001.jpg")
    assert len(faces) == 2 and faces[0].score == pytest.approx(0.99)
    np.testing.assert_allclose(faces[0].box, [70, 59, 167, 188])
    np.testing.assert_allclose(faces[0].landmarks,
                               [[108, 108], [147, 112], [125, 143], [104, 158], [140, 162]])
    assert det.detect(np.zeros((1, 1, 3), np.uint8), "./A/A_0001.jpg")[0].score == pytest.approx(0.99)
    assert det.detect(np.zeros((1, 1, 3), np.uint8), "B/B_0001.jpg") == []


def test_csv_format(tmp_path):
    path = tmp_path / "lm.csv"
    path.write_text("path,lex,ley,rex,rey,nx,ny,lmx,lmy,rmx,rmy\nA/a.jpg,10,10,30,10,20,20,12,30,28,30\n")
    det = make_detector(f"landmarks:{path}")
    (face,) = det.detect(np.zeros((1, 1, 3), np.uint8), "A/a.jpg")
    assert face.score == 1.0
    np.testing.assert_allclose(face.box, [5, 5, 35, 35])  # bounding box grown by 50%
    path2 = tmp_path / "box.csv"
    path2.write_text("path,x1,y1,x2,y2,score,lex,ley,rex,rey,nx,ny,lmx,lmy,rmx,rmy\n"
                     "A/a.jpg,1,2,3,4,0.7,10,10,30,10,20,20,12,30,28,30\n")
    (face2,) = make_detector(f"landmarks:{path2}").detect(np.zeros((1, 1, 3), np.uint8), "A/a.jpg")
    np.testing.assert_allclose(face2.box, [1, 2, 3, 4])
    assert face2.score == pytest.approx(0.7)


@pytest.mark.parametrize(
    "name,content,needle",
    [
        ("short.txt", "A.jpg 1 2 3\n", "line 1: expected 16 fields"),
        ("nan.txt", LINE.replace("108 108", "x 108"), "line 1: non-numeric"),
        ("inf.txt", LINE.replace("108 108", "inf 108"), "line 1: NaN or inf"),
        ("empty.txt", "# nothing\n", "lists no faces"),
        ("cols.csv", "path,lex,ley\nA.jpg,1,2\n", "lacks column(s) rex"),
        ("bad.csv", "path,lex,ley,rex,rey,nx,ny,lmx,lmy,rmx,rmy\nA.jpg,1,2,3,4,5,6,7,8,9,oops\n",
         "line 2: non-numeric"),
        ("nopath.csv", "path,lex,ley,rex,rey,nx,ny,lmx,lmy,rmx,rmy\n,1,2,3,4,5,6,7,8,9,10\n",
         "line 2: empty path"),
    ],
)
def test_malformed_files(tmp_path, name, content, needle):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InputError) as info:
        make_detector(f"landmarks:{path}")
    assert needle in str(info.value) and name in str(info.value) and "\n" not in str(info.value)


def test_missing_file_and_missing_image_id(tmp_path):
    with pytest.raises(InputError, match="no such landmarks file"):
        make_detector(f"landmarks:{tmp_path / 'none.txt'}")
    path = tmp_path / "lm.txt"
    path.write_text(LINE)
    det = make_detector(f"landmarks:{path}")
    with pytest.raises(InputError, match="needs the image id"):
        det.detect(np.zeros((1, 1, 3), np.uint8))
    with pytest.raises(ConfigError, match="padding does not apply"):
        make_detector(f"landmarks:{path}", pad=0.5)


@pytest.mark.shared
def test_real_mtcnn_file(lfw_dir):
    det = make_detector(f"landmarks:{lfw_dir / 'landmarks_mtcnn_5pt.txt'}")
    assert len(det.faces_) >= 13000
    (face,) = det.detect(np.zeros((250, 250, 3), np.uint8), "Aaron_Eckhart/Aaron_Eckhart_0001.jpg")
    np.testing.assert_allclose(face.landmarks[0], [108.096, 108.764], atol=1e-3)


def test_read_landmarks_file_gives_one_face_per_image(tmp_path):
    # the reader of the cross-pose protocol (it replaced a second parser of the same files)
    line = "A/A_0001.jpg 1 2 3 4 0.9 " + " ".join(str(v) for v in range(10)) + "\n"
    (tmp_path / "ok.txt").write_text("# comment\n\n" + line)
    ids, pts = read_landmarks_file(tmp_path / "ok.txt")
    assert list(ids) == ["A/A_0001.jpg"] and pts.shape == (1, 5, 2) and pts[0, 2, 1] == 5
    (tmp_path / "dup.txt").write_text(line + line)
    with pytest.raises(InputError, match="more than once"):
        read_landmarks_file(tmp_path / "dup.txt")
    (tmp_path / "nan.txt").write_text(line.replace(" 7 ", " seven "))
    with pytest.raises(InputError, match="line 1: non-numeric"):
        read_landmarks_file(tmp_path / "nan.txt")
    (tmp_path / "empty.txt").write_text("\n")
    with pytest.raises(InputError, match="lists no faces"):
        read_landmarks_file(tmp_path / "empty.txt")
    with pytest.raises(InputError, match="no such landmarks file"):
        read_landmarks_file(tmp_path / "missing.txt")
