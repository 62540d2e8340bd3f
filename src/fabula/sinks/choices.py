"""What a user chooses for an output, in one place: write modes and compressions. Imports
nothing, so the command line offers them without loading the writers."""

MODES = ("error", "overwrite")
COMPRESSIONS = ("snappy", "zstd", "gzip", "lz4", "none")
WRITE_MODES = (*MODES, "append")
"""What a folder of any format takes; `append` continues a folder's state (docs/formats.md)."""
FORMATS = ("parquet", "delta", "csv", "json")
"""`--format` values; `json` means JSON Lines."""
