"""Databricks: deliver to Unity Catalog Volumes through the Files API, create the schema and
volume, register tables (docs/databricks.md). Needs `pip install 'fabula[databricks]'`; the
SDK is imported only inside this package, lazily.

Public entry points (the rest is private to the package):
- `volume_target(out)`: the Volume an `--out` names, or None for a local folder.
- `VolumeSink`: the engine's `Sink` for a Volume.
- `validate_volume(...)`: `fabula validate dbfs:/Volumes/...`.
"""

from fabula.databricks.paths import VolumePath, volume_target

__all__ = ["VolumePath", "volume_target"]
