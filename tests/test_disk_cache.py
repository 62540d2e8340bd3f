"""The small answers kept on disk (`fabula.disk_cache`): written whole, read back as written, and
keyed by the code that computes them."""

from __future__ import annotations

from fabula.disk_cache import answer_path, code_version, read_json, write_json


def test_an_answer_is_read_back_as_written(tmp_path, monkeypatch):
    monkeypatch.setenv("FABULA_CACHE_DIR", str(tmp_path))
    path = answer_path("things", {"question": "x", "version": "1"})
    assert read_json(path) is None  # absent
    write_json(path, {"answer": [1, "a", None]})
    assert read_json(path) == {"answer": [1, "a", None]}
    assert path.parent == tmp_path / "things" and not list(path.parent.glob(".*"))  # no temporary left
    assert answer_path("things", {"question": "x", "version": "2"}) != path


def test_the_code_version_follows_the_text_of_the_module(tmp_path):
    module = tmp_path / "module.py"
    module.write_text("ANSWER = 1\n")
    first = code_version(str(module))
    other = tmp_path / "other.py"
    other.write_text("ANSWER = 2\n")
    assert code_version(str(other)) != first and code_version(str(module)) == first
    # a module that cannot be read (imported from an archive) keys answers for this process only
    assert code_version(str(tmp_path / "missing.py")).startswith("process-")
