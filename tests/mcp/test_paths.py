"""The server's root: what a spec or output path may name, resolved as the file system does."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fabula.errors import OutputError, SpecError, UsageError
from fabula.mcp.paths import Root


@pytest.fixture
def root(tmp_path):
    (tmp_path / "root" / "specs").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    return Root(tmp_path / "root")


def test_relative_and_absolute_paths_inside_the_root(root):
    assert root.output("out/shop") == root.folder / "out" / "shop"
    assert root.output(str(root.folder / "out" / "shop")) == root.folder / "out" / "shop"
    assert root.output("out/../out/shop") == root.folder / "out" / "shop"


@pytest.mark.parametrize("path", ["../outside/x", "/tmp", "~", "out/../../outside"])
def test_paths_that_leave_the_root_are_refused(root, path):
    with pytest.raises(UsageError, match="outside the folder"):
        root.output(path)


def test_a_symlink_out_of_the_root_is_followed_and_refused(root, tmp_path):
    (root.folder / "link").symlink_to(tmp_path / "outside", target_is_directory=True)
    with pytest.raises(UsageError, match="outside the folder"):
        root.output("link/data")
    (tmp_path / "outside" / "s.yaml").write_text("name: s\n")
    (root.folder / "specs" / "s.yaml").symlink_to(tmp_path / "outside" / "s.yaml")
    with pytest.raises(UsageError, match="outside the folder"):
        root.spec_source("specs/s.yaml")


@pytest.mark.parametrize("path", ["dbfs:/Volumes/main/raw/x", "/Volumes/main/default/raw/x", "/Volumes"])
def test_databricks_locations_are_not_supported_yet(root, path):
    with pytest.raises(OutputError, match="Databricks location") as raised:
        root.output(path)
    assert "databricks fs cp" in raised.value.hint


@pytest.mark.parametrize("path", [".", "", "out/.."])
def test_the_root_itself_is_never_an_output(root, path):
    with pytest.raises(OutputError):
        root.output(path)


def test_what_a_spec_argument_names(root):
    (root.folder / "specs" / "shop.yaml").write_text("name: shop\n")
    assert root.spec_source("retail") == "retail"
    assert root.spec_source("name: x\ntables: {}\n") == "name: x\ntables: {}\n"
    assert root.spec_source('{"name": "x"}') == '{"name": "x"}\n'
    assert root.spec_source("specs/shop.yaml") == root.folder / "specs" / "shop.yaml"
    with pytest.raises(SpecError) as missing:
        root.spec_source("specs/none.yaml")
    assert missing.value.issues[0].code == "unknown-spec"
    with pytest.raises(SpecError, match="no spec file or built-in named 'retial'"):
        root.spec_source("retial")


def test_without_the_sdk_the_command_names_the_extra(tmp_path):
    """`fabula mcp` on an install without `fabula[mcp]`: exit code 2 and the pip command."""
    code = ("import sys; sys.modules['mcp'] = None\n"  # what Python does for a missing package
            "from fabula.cli.main import main; main(['mcp', '--root', sys.argv[1]])")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "pip install 'fabula[mcp]'" in result.stderr
    assert "Traceback" not in result.stderr
