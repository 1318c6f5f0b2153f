"""Identity labels implied by image ids."""

import pytest

from facemetric.identity import identity_from_id


@pytest.mark.parametrize(
    ("image_id", "depth", "expected"),
    [
        ("Aaron_Peirsol/Aaron_Peirsol_0001.jpg", None, "Aaron_Peirsol"),
        ("Aaron_Peirsol/Aaron_Peirsol_0001.jpg", 0, "Aaron_Peirsol"),
        ("Data/Images/001/frontal/01.jpg", 2, "001"),
        ("Data/Images/001/frontal/01.jpg", None, "Data/Images/001/frontal"),
        ("Data/Images/001/frontal/01.jpg", 7, ""),
        ("Aaron_Peirsol_1.jpg", None, "Aaron_Peirsol"),  # CPLFW / CALFW flat names
        ("Aaron_Peirsol_12.png", 0, "Aaron_Peirsol"),
        ("portrait.jpg", None, ""),
        ("_3.jpg", None, ""),
    ],
)
def test_identity_from_id(image_id, depth, expected):
    assert identity_from_id(image_id, depth) == expected
