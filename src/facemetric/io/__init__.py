"""Reading and writing descriptor sets and pair protocols in open formats."""

from facemetric.io.descriptors import load_descriptors, save_descriptors
from facemetric.io.protocols import detect_format, load_protocol, save_protocol

__all__ = ["detect_format", "load_descriptors", "load_protocol", "save_descriptors", "save_protocol"]
