"""Is this contest built on a public benchmark? Then its labels are one look-up away.

The test descriptors of a contest made from, say, LFW View 2 can be matched to the public LFW
images or descriptors (byte for byte when the public descriptor file was used), which gives the
names and so every label. Such a contest is fine for practice, never for a prize.
:func:`public_protocol_warning` says so when the pairs come from a public protocol format or
their image ids follow a public dataset's file layout.
"""

from __future__ import annotations

import re

import numpy as np

from facemetric.types import PairProtocol

# Protocol formats that only public benchmarks use (facemetric.io.protocols.FORMATS).
PUBLIC_FORMATS = {
    "lfw": "LFW",
    "lfw-dev": "LFW",
    "cfp-fp": "CFP",
    "cfp-ff": "CFP",
    "cplfw": "CPLFW/CALFW",
    "bin": "insightface benchmark (.bin)",
}
# Image-id layouts of public datasets: LFW's First_Last/First_Last_0001.jpg (capitalised names),
# CFP's Data/Images/001/frontal/01.jpg.
PUBLIC_LAYOUTS = {
    "LFW": re.compile(r"(?:^|/)([A-Z][^/_]*(?:_[^/_]+)+)/\1_\d{4}\.\w+$"),
    "CFP": re.compile(r"(?:^|/)Images/\d{3}/(?:frontal|profile)/\d{2}\.\w+$"),
}
DOC = "docs/challenge.md, 'A real contest needs private data'"


def public_source(protocol: PairProtocol, protocol_format: str | None = None) -> str | None:
    """The name of the public benchmark the test pairs come from, or None."""
    if protocol_format in PUBLIC_FORMATS:
        return PUBLIC_FORMATS[protocol_format]
    ids = np.asarray(protocol.images).astype(str)
    sample = ids[:: max(1, len(ids) // 500)]
    for name, pattern in PUBLIC_LAYOUTS.items():
        if sum(bool(pattern.search(i)) for i in sample) > len(sample) / 2:
            return name
    return None


def public_protocol_warning(protocol: PairProtocol, protocol_format: str | None = None) -> str | None:
    """A one-paragraph warning when the test images come from a public protocol, else None."""
    source = public_source(protocol, protocol_format)
    if source is None:
        return None
    return (
        f"the test pairs come from the public {source} benchmark: anyone with its public images or "
        "descriptors can match the test descriptors to names and recover every label (AUC 1.0 "
        "without any face model). Use this contest for practice only; a real contest needs test "
        f"images that participants have never seen (see {DOC})."
    )
