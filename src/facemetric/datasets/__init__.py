"""Public face datasets: download with checksums and resumption, or import a copy on disk."""

from facemetric.datasets.lfw import LfwInstall, check_lfw, fetch_lfw, import_lfw

__all__ = ["LfwInstall", "check_lfw", "fetch_lfw", "import_lfw"]
