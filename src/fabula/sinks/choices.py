"""What a user chooses for an output, in one place: write modes and compressions. Imports
nothing, so the command line offers them without loading the writers."""

MODES = ("error", "overwrite")
COMPRESSIONS = ("snappy", "zstd", "gzip", "lz4", "none")
