"""Sinks: where generated blocks go. One module per destination."""

from fabula.sinks.base import PartWritten, Sink
from fabula.sinks.parquet import ParquetSink

__all__ = ["PartWritten", "Sink", "ParquetSink"]
