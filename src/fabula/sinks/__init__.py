"""Sinks: where generated blocks go. One module per destination; `base` is the contract.

Names resolve on first use (PEP 562), so `fabula.sinks.choices` loads without the writers."""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "Capabilities": "base", "PartWriter": "base", "PartWritten": "base", "Sink": "base",
    "FolderSink": "folder", "OutputBusyError": "folder", "OutputWriteError": "folder",
    "ParquetSink": "parquet", "MODES": "choices", "COMPRESSIONS": "choices",
}

__all__ = list(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'fabula.sinks' has no attribute {name!r}")
    return getattr(importlib.import_module(f"fabula.sinks.{_WHERE[name]}"), name)
