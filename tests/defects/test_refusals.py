"""Where defects are not written yet, the run is refused with exit code 2 before any work."""

from __future__ import annotations

import pytest

import fabula
import fabula.api
from fabula.errors import UsageError

DIRTY = "saas_support_dirty"


def test_the_spark_engine_refuses_defects(tmp_path):
    from fabula.engine.spark import to_dataframes, write_spark

    plan = fabula.compile_plan(DIRTY, scale=0.01)
    for call in (lambda: write_spark(plan, None, tmp_path / "out"), lambda: to_dataframes(plan, None)):
        with pytest.raises(UsageError, match="Spark engine does not inject defects") as error:
            call()
        assert error.value.exit_code == 2


def test_stream_refuses_defects(tmp_path):  # append injects them: tests/defects/test_append_defects.py
    with pytest.raises(UsageError, match="stream does not inject defects"):
        fabula.api.stream(DIRTY, tmp_path / "stream", batches=1)
