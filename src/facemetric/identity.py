"""The identity of an image from its id (path relative to the dataset root).

Two conventions cover the public face datasets:

* a folder per person: ``Name/Name_0001.jpg`` (LFW, CASIA-WebFace, VGGFace2; CFP one level
  deeper: ``Data/Images/001/frontal/01.jpg``);
* a flat folder whose file names end in an image number: ``Name_Surname_3.jpg`` (CPLFW, CALFW).
"""

from __future__ import annotations

import re

_NUMBERED = re.compile(r"^(?P<name>.+?)_\d+$")


def _numbered_name(file_name: str) -> str:
    """``Aaron_Peirsol_1.jpg`` -> ``Aaron_Peirsol``; "" for a name without a trailing number."""
    match = _NUMBERED.match(file_name.rsplit(".", 1)[0])
    return match.group("name") if match else ""


def identity_from_id(image_id: str, depth: int | None = None) -> str:
    """The identity an image id implies, or "" when it implies none.

    With a folder: the folder at ``depth`` (0 = first), or the whole parent folder when ``depth``
    is None. Without a folder: the file name less a trailing ``_<number>``.
    """
    parts = image_id.split("/")
    folders = parts[:-1]
    if not folders:
        return _numbered_name(parts[-1])
    if depth is None:
        return "/".join(folders)
    return folders[depth] if depth < len(folders) else ""
