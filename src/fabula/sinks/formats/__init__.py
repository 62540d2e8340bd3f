"""Part-file writers for each output format: pure functions "write these Arrow row groups to
this file", with each format's conventions (docs/formats.md). The folder protocol, the
manifest and the commit are the sink's job, the same for every format."""

from fabula.sinks.formats.registry import FORMATS, PartFormat, part_format

__all__ = ["FORMATS", "PartFormat", "part_format"]
