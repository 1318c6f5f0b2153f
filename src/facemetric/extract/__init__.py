"""Images to descriptors: inputs, a resumable cache, worker processes and a failure report."""

from facemetric.extract.inputs import ImageItem, folder_images, list_file_images, protocol_images
from facemetric.extract.pipeline import (
    ExtractionResult,
    Failure,
    PipelineSpec,
    extract_descriptors,
    extract_to_file,
    failure_report_path,
)
from facemetric.extract.processor import ImageProcessor

__all__ = [
    "ExtractionResult", "Failure", "ImageItem", "ImageProcessor", "PipelineSpec", "extract_descriptors",
    "extract_to_file", "failure_report_path", "folder_images", "list_file_images", "protocol_images",
]
