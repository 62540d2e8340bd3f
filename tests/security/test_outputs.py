"""fabula owns what it writes, and nothing else: hostile and unlucky outputs.

Each case asserts the exit code, the message and what is on disk afterwards. Overwrite replaces
only a folder whose manifest is fabula's own; a run locks its target; commit re-checks it;
leftovers of killed runs are cleaned only when they are fabula's and dead; dangerous targets are
refused before any work; a failed write leaves nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import fabula
from fabula.cli.main import main
from fabula.errors import OutputError
from fabula.manifest import MANIFEST
from fabula.sinks.folder import OutputBusyError, lock_path

SPEC = {"name": "tiny", "seed": 3, "as_of": "2024-06-30", "tables": {"t": {"rows": 300, "columns": {
    "id": {"kind": "sequence"}, "x": {"kind": "normal", "mean": 0, "std": 1}}}}}


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
        raise SystemExit(0)
    captured = capsys.readouterr()
    return exited.value.code, captured.out + captured.err


@pytest.fixture
def spec_file(tmp_path) -> Path:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(SPEC))
    return path


def siblings(target: Path) -> list[str]:
    """Hidden entries fabula could have left beside the target (staging, old output, lock)."""
    return sorted(p.name for p in target.parent.iterdir() if p.name.startswith(f".{target.name}."))


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# -- overwrite replaces only fabula's own ---------------------------------------------------------------


def test_overwrite_never_deletes_a_web_app_with_a_manifest_json(tmp_path, spec_file, capsys):
    site = tmp_path / "site"
    (site / "assets").mkdir(parents=True)
    (site / "index.html").write_text("<h1>shop</h1>")
    (site / "assets" / "app.js").write_text("run()")
    (site / MANIFEST).write_text(json.dumps({"name": "shop", "icons": []}))  # a web app manifest
    before = tree(site)
    code, printed = run_cli(capsys, "generate", str(spec_file), "--out", str(site), "--mode", "overwrite", "-q")
    assert code == 2
    assert f"refusing to overwrite {site}: it is not empty and was not written by fabula" in printed
    assert tree(site) == before and siblings(site) == []


def test_overwrite_never_deletes_a_dbt_target_folder(tmp_path, spec_file, capsys):
    target = tmp_path / "target"
    target.mkdir()
    (target / MANIFEST).write_text(json.dumps({"metadata": {"dbt_schema_version": "v12"}, "nodes": {}}))
    (target / "run_results.json").write_text("{}")
    before = tree(target)
    code, printed = run_cli(capsys, "generate", str(spec_file), "--out", str(target), "--mode", "overwrite", "-q")
    assert code == 2 and "was not written by fabula" in printed
    assert tree(target) == before


def test_overwrite_refuses_a_forged_marker_without_a_matching_digest(tmp_path, spec_file, capsys):
    out = tmp_path / "out"
    fabula.generate(SPEC, out)
    raw = json.loads((out / MANIFEST).read_text())
    raw["dataset"] = "forged"
    (out / MANIFEST).write_text(json.dumps(raw))
    before = tree(out)
    code, printed = run_cli(capsys, "generate", str(spec_file), "--out", str(out), "--mode", "overwrite", "-q")
    assert code == 2 and "was not written by fabula" in printed
    assert tree(out) == before


def test_overwrite_refuses_an_output_holding_files_fabula_did_not_write(tmp_path, spec_file, capsys):
    out = tmp_path / "out"
    fabula.generate(SPEC, out)
    (out / "notes.md").write_text("mine")
    code, printed = run_cli(capsys, "generate", str(spec_file), "--out", str(out), "--mode", "overwrite", "-q")
    assert code == 2 and "it holds notes.md, which fabula did not write" in printed
    assert (out / "notes.md").read_text() == "mine" and (out / MANIFEST).is_file()


def test_overwrite_replaces_fabula_output(tmp_path, spec_file, capsys):
    out = tmp_path / "out"
    fabula.generate(SPEC, out)
    code, printed = run_cli(capsys, "generate", str(spec_file), "--out", str(out), "--mode", "overwrite",
                            "--seed", "9", "-q")
    assert code == 0, printed
    assert json.loads((out / MANIFEST).read_text())["seed"] == 9
    assert siblings(out) == []


# -- the lock -------------------------------------------------------------------------------------------


HOLD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from fabula.sinks.folder import TargetLock
    lock = TargetLock(Path(sys.argv[1]))
    lock.acquire()
    print("locked", flush=True)
    sys.stdin.read()   # hold it until the test closes our stdin
    lock.release()
""")


@pytest.fixture
def holder():
    """Another process holding a target's lock, as a concurrent run does."""
    processes = []

    def hold(target: Path) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, "-c", HOLD, str(target)], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True)
        assert process.stdout.readline().strip() == "locked"
        processes.append(process)
        return process

    yield hold
    for process in processes:
        process.stdin.close()
        process.wait(timeout=30)


def test_a_second_run_to_the_same_out_fails_at_once(tmp_path, spec_file, capsys, holder):
    out = tmp_path / "out"
    fabula.generate(SPEC, out)
    before = tree(out)
    running = holder(out)
    code, printed = run_cli(capsys, "generate", str(spec_file), "--out", str(out), "--mode", "overwrite", "-q")
    assert code == 1
    assert f"another fabula run (pid {running.pid} on " in printed and f"is writing {out}" in printed
    assert "hint: wait for it to finish, or choose another --out" in printed
    assert tree(out) == before
    assert siblings(out) == [lock_path(out).name]  # only the holder's lock
    with pytest.raises(OutputBusyError):
        fabula.generate(SPEC, tmp_path / "out", mode="overwrite")


def test_validate_waits_for_no_one_and_reads_no_folder_being_written(tmp_path, spec_file, capsys, holder):
    """`fabula validate` rewrites the reports: while a run holds the folder's lock it stops at
    once (a run replacing the folder would mix two datasets in one report), and leaves it all."""
    out = tmp_path / "out"
    fabula.generate(SPEC, out)
    before = {path: (out / path).read_bytes() for path in tree(out)}
    running = holder(out)
    code, printed = run_cli(capsys, "validate", str(out))
    assert code == 1 and f"another fabula run (pid {running.pid} on " in printed
    assert {path: (out / path).read_bytes() for path in tree(out)} == before
    running.stdin.close()
    running.wait(timeout=30)
    code, printed = run_cli(capsys, "validate", str(out))
    assert code == 0, printed
    assert siblings(out) == []  # its own lock gone with it


def test_the_lock_dies_with_its_process(tmp_path, holder):
    out = tmp_path / "out"
    running = holder(out)
    running.kill()
    running.wait(timeout=30)
    fabula.generate(SPEC, out)  # the dead run's lock file is still there, but not held
    assert (out / MANIFEST).is_file() and siblings(out) == []


def test_two_concurrent_command_line_runs_leave_one_whole_output(tmp_path, spec_file):
    """Really at once: exactly one wins; the other stops with a clear message and exit 1 (it
    found the lock) or 2 (it started after the winner committed); the output is the winner's."""
    out = tmp_path / "out"
    command = [sys.executable, "-m", "fabula", "generate", str(spec_file), "--out", str(out), "-q"]
    runs = [subprocess.Popen([*command, "--seed", str(seed)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for seed in (1, 2)]
    results = [(run.wait(timeout=300), run.stderr.read()) for run in runs]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 1], [0, 2]), results
    loser = next(text for code, text in results if code != 0)
    assert "another fabula run" in loser or "already exists" in loser
    winner = [1, 2][[code for code, _ in results].index(0)]
    assert json.loads((out / MANIFEST).read_text())["seed"] == winner
    assert fabula.validate_output(out).verdict != "fail"
    assert siblings(out) == []


# -- commit re-checks the target -------------------------------------------------------------------------


def _spec_that_runs(action):
    """SPEC with a column whose generation calls `action` (something else touching --out mid-run)."""
    import numpy as np

    def touch(columns, rng, n):
        action()
        return np.asarray(columns["id"])

    raw = json.loads(json.dumps(SPEC))
    raw["tables"]["t"]["columns"]["y"] = {"kind": "python", "fn": touch, "depends": ["id"], "type": "int64"}
    return raw


def test_a_folder_created_at_out_during_the_run_is_never_deleted(tmp_path):
    out = tmp_path / "out"

    def appear():
        (out / "work").mkdir(parents=True, exist_ok=True)
        (out / "work" / "draft.txt").write_text("someone else's")

    with pytest.raises(OutputBusyError) as refused:
        fabula.generate(_spec_that_runs(appear), out, mode="error")
    assert refused.value.exit_code == 1
    assert "appeared while fabula was writing it; it was left alone" in str(refused.value) or \
        "changed while fabula was writing it" in str(refused.value)
    assert tree(out) == {"work/draft.txt": b"someone else's"}
    assert siblings(out) == []


def test_a_file_added_to_the_old_output_during_an_overwrite_is_never_deleted(tmp_path):
    out = tmp_path / "out"
    fabula.generate(SPEC, out)
    before = tree(out)

    def add():
        (out / "notes.md").write_text("added mid-run")

    with pytest.raises(OutputBusyError, match="changed while fabula was writing it"):
        fabula.generate(_spec_that_runs(add), out, mode="overwrite")
    assert tree(out) == {**before, "notes.md": b"added mid-run"}
    assert siblings(out) == []


def test_an_empty_target_folder_is_taken(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    fabula.generate(SPEC, out)
    assert (out / MANIFEST).is_file()


# -- leftovers of killed runs ------------------------------------------------------------------------


def test_leftovers_of_killed_runs_are_cleaned_only_when_fabulas_and_dead(tmp_path):
    out = tmp_path / "out"
    stale = tmp_path / ".out.fabula-tmp-deadbeef"  # a killed run's staging, with fabula's marker
    (stale / "t").mkdir(parents=True)
    (stale / ".fabula-staging").write_text("{}")
    unmarked = tmp_path / ".out.fabula-tmp-mine"  # same name pattern, not fabula's: kept
    unmarked.mkdir()
    (unmarked / "keep.txt").write_text("keep")
    fabula.generate(SPEC, tmp_path / "previous")
    old = tmp_path / ".out.fabula-old-0badf00d"  # an output moved aside by a run killed mid-commit
    os.rename(tmp_path / "previous", old)
    fabula.generate(SPEC, out, mode="overwrite", seed=5)
    assert not stale.exists()
    assert (unmarked / "keep.txt").read_text() == "keep"
    assert not old.exists()  # it came back as `out`, then was overwritten as asked
    assert json.loads((out / MANIFEST).read_text())["seed"] == 5
    assert siblings(out) == [unmarked.name]


def test_an_output_moved_aside_by_a_killed_commit_comes_back(tmp_path):
    fabula.generate(SPEC, tmp_path / "previous")
    before = tree(tmp_path / "previous")
    os.rename(tmp_path / "previous", tmp_path / ".out.fabula-old-0badf00d")
    with pytest.raises(OutputError, match="already exists"):
        fabula.generate(SPEC, tmp_path / "out", mode="error")
    assert tree(tmp_path / "out") == before


def test_a_live_runs_staging_is_never_touched(tmp_path, holder):
    out = tmp_path / "out"
    live = tmp_path / ".out.fabula-tmp-1ive1ive"
    live.mkdir()
    (live / ".fabula-staging").write_text("{}")
    holder(out)
    with pytest.raises(OutputBusyError):
        fabula.generate(SPEC, out)
    assert live.is_dir()


# -- targets refused up front ------------------------------------------------------------------------------


@pytest.mark.parametrize("where", [".", "/", "~", "..", "parent"])
def test_dangerous_targets_are_refused_before_any_work(tmp_path, monkeypatch, capsys, where):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    out = {"parent": str(tmp_path / "a")}.get(where, where)
    # a spec that does not exist: the target is refused before the spec is even read
    code, printed = run_cli(capsys, "generate", "no-such-spec.yaml", "--out", out, "--mode", "overwrite")
    assert code == 2, printed
    assert "refusing to write the output into" in printed and "hint: pass --out a new folder" in printed
    assert "no-such-spec" not in printed
    assert not list(tmp_path.rglob("*.fabula-*")) and not (work / MANIFEST).exists()


def test_a_symlinked_target_is_refused(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(OutputError, match="is a symbolic link"):
        fabula.generate(SPEC, tmp_path / "link", mode="overwrite")


# -- disk full, permission denied ------------------------------------------------------------------------


FILL = textwrap.dedent("""
    import resource, signal, sys
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a too-large write fails with EFBIG, as a full disk does
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
    from fabula.cli.main import main
    main(sys.argv[1:])
""")


def test_a_full_disk_is_one_clear_error_and_leaves_nothing(tmp_path):
    out = tmp_path / "out"
    big = json.loads(json.dumps(SPEC))
    big["tables"]["t"]["rows"] = 200_000
    spec = tmp_path / "big.json"
    spec.write_text(json.dumps(big))
    run = subprocess.run([sys.executable, "-c", FILL, "generate", str(spec), "--out", str(out), "-q"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stderr
    assert f"cannot write the output {out}: file too large (while writing t/part-00000.parquet); " \
           "nothing was written" in run.stderr
    assert "hint:" in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 2
    assert not out.exists() and siblings(out) == []


def _unwritable_parent(tmp_path: Path) -> Path:
    """A folder this process may not create files in: a read-only folder, or for root (whom
    permissions do not stop) sysfs, which refuses everyone."""
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        parent = tmp_path / "locked"
        parent.mkdir()
        parent.chmod(0o500)
        return parent
    if Path("/sys").is_dir():
        return Path("/sys")
    pytest.skip("no folder that refuses root here")


def test_permission_denied_is_one_clear_error(tmp_path, spec_file, capsys):
    parent = _unwritable_parent(tmp_path)
    before = sorted(p.name for p in parent.iterdir())
    try:
        code, printed = run_cli(capsys, "generate", str(spec_file), "--out", str(parent / "fabula-out"), "-q")
    finally:
        if parent != Path("/sys"):
            parent.chmod(0o700)
    assert code == 1, printed
    assert f"cannot write the output {parent / 'fabula-out'}: permission denied" in printed
    assert "hint: check the folder's permissions, or choose another --out" in printed
    assert "Traceback" not in printed
    assert sorted(p.name for p in parent.iterdir()) == before
