"""`fabula mcp`: fabula as an MCP server for coding assistants (`pip install 'fabula[mcp]'`).

The MCP SDK is optional and imported only when the server starts; `serve` names the extra to
install when it is missing.
"""

from __future__ import annotations

from pathlib import Path

from fabula.errors import UsageError

INSTALL_HINT = "pip install 'fabula[mcp]'"


def require_sdk() -> None:
    """Raise a UsageError with the install command when the MCP SDK is missing or too old."""
    try:
        from mcp.server.mcpserver import MCPServer  # noqa: F401  (the 2.x API this server is built on)
    except ImportError:
        raise UsageError("`fabula mcp` needs the MCP Python SDK (mcp 2.x), which is not installed",
                         hint=INSTALL_HINT) from None


def serve(root: str | Path = ".", *, max_rows: int | None = None) -> None:
    """Serve fabula's tools over stdio, reading specs and writing data only under `root`."""
    require_sdk()
    from fabula.mcp.server import DEFAULT_MAX_ROWS, run

    folder = Path(root)
    if not folder.is_dir():
        raise UsageError(f"--root {str(root)!r} is not a folder",
                         hint="create it, or point --root at an existing folder")
    run(folder, max_rows=max_rows or DEFAULT_MAX_ROWS)
