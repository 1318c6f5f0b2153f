"""Reading and writing descriptor sets and pair protocols in open formats."""

from facemetric.io.descriptors import load_descriptors, save_descriptors

__all__ = ["load_descriptors", "save_descriptors"]
