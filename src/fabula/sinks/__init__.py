"""Sinks: where generated blocks go. One module per destination, one contract (`base.Sink`)."""

from fabula.sinks.base import Capabilities, PartWriter, PartWritten, Sink
from fabula.sinks.folder import MODES, FolderSink, OutputBusyError, OutputWriteError
from fabula.sinks.parquet import COMPRESSIONS, ParquetSink

__all__ = ["Sink", "PartWriter", "PartWritten", "Capabilities", "FolderSink", "ParquetSink",
           "MODES", "COMPRESSIONS", "OutputWriteError", "OutputBusyError"]
