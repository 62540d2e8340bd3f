"""What tests share besides fixtures: small specs, and reading outputs back. Import it as
`from helpers import ...` (pytest puts `tests/` on the path, see pyproject.toml); the fixtures
themselves stay in conftest.py."""

from helpers.data import content_digest, file_digests, read_table
from helpers.specs import SMALL_SPEC

__all__ = ["SMALL_SPEC", "content_digest", "file_digests", "read_table"]
