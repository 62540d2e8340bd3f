"""Unity Catalog: the catalog must exist (fabula never creates one); the schema and the volume
are created when missing, with the spec's description as their comment."""

from __future__ import annotations

from fabula.databricks.client import WorkspaceError, require_sdk, translated
from fabula.databricks.paths import VolumePath


def ensure_volume(client, target: VolumePath, *, comment: str | None = None) -> list[str]:
    """Create the schema (in an existing catalog) and the volume if absent. Returns what was created
    (e.g. ['schema main.demo', 'volume main.demo.raw']) so the CLI can say so."""
    errors = require_sdk().errors
    host = client.config.host
    created: list[str] = []
    # The schema first: when it exists, so does the catalog, and nothing else needs asking.
    try:
        with translated(f"looking up the schema {target.schema_name}", privilege="USE CATALOG",
                        on=f"catalog {target.catalog} (and USE SCHEMA on schema {target.schema_name})", host=host):
            client.schemas.get(target.schema_name)
    except errors.NotFound:
        with translated(f"looking up the catalog {target.catalog}", privilege="USE CATALOG",
                        on=f"catalog {target.catalog}", host=host,
                        not_found=f"the catalog {target.catalog} does not exist, and fabula never creates a catalog"):
            client.catalogs.get(target.catalog)
        with translated(f"creating the schema {target.schema_name}", privilege="CREATE SCHEMA",
                        on=f"catalog {target.catalog}", host=host):
            _create_ignoring_race(errors, lambda: client.schemas.create(
                name=target.schema, catalog_name=target.catalog, comment=comment))
        created.append(f"schema {target.schema_name}")
    try:
        with translated(f"looking up the volume {target.volume_name}", privilege="READ VOLUME",
                        on=f"volume {target.volume_name}", host=host):
            client.volumes.read(target.volume_name)
    except errors.NotFound:
        from databricks.sdk.service.catalog import VolumeType

        with translated(f"creating the volume {target.volume_name}", privilege="CREATE VOLUME",
                        on=f"schema {target.schema_name}", host=host):
            _create_ignoring_race(errors, lambda: client.volumes.create(
                catalog_name=target.catalog, schema_name=target.schema, name=target.volume,
                volume_type=VolumeType.MANAGED, comment=comment))
        created.append(f"volume {target.volume_name}")
    return created


def _create_ignoring_race(errors, create) -> None:
    """Another run may have created it between our look-up and our create: that is fine."""
    try:
        create()
    except (errors.AlreadyExists, errors.ResourceAlreadyExists, errors.ResourceConflict):
        pass


__all__ = ["ensure_volume", "WorkspaceError"]
