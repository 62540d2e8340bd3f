"""The workspace client, from the SDK's unified configuration only, and its errors in words.

Authentication is whatever the SDK resolves: DATABRICKS_HOST / DATABRICKS_TOKEN (or the other
DATABRICKS_* variables), a `~/.databrickscfg` profile (`--profile`), OAuth, or the identity of
the Databricks machine this runs on. fabula never takes a token as an argument, and never
prints, logs or records one: messages are built from the server's error text with the SDK's
config summary cut off, and any credential the config holds is masked again to be sure.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fabula.errors import OutputError

INSTALL_HINT = "pip install 'fabula[databricks]'"

# The SDK retries connection errors for 5 minutes by default: a mistyped host would hang the
# command that long. fabula gives up sooner; FABULA_DATABRICKS_RETRY_SECONDS sets the budget.
DEFAULT_RETRY_SECONDS = 30
RETRY_VARIABLE = "FABULA_DATABRICKS_RETRY_SECONDS"


class WorkspaceError(OutputError):
    """The workspace refused or cannot be reached: a missing catalog, a missing privilege,
    bad credentials or host. An environment problem, so exit code 1."""

    exit_code = 1


def require_sdk():
    try:
        import databricks.sdk  # noqa: F401
    except ImportError:
        raise WorkspaceError("writing to Databricks needs the Databricks SDK, which is not installed",
                             hint=INSTALL_HINT) from None
    return databricks.sdk


def workspace_client(profile: str | None = None):
    """A `WorkspaceClient` from the SDK's unified configuration (environment, profile, OAuth)."""
    sdk = require_sdk()
    _quiet_sdk_logs()
    options: dict[str, Any] = {}
    if profile:
        options["profile"] = profile
    try:
        options["retry_timeout_seconds"] = max(1, int(os.environ.get(RETRY_VARIABLE, DEFAULT_RETRY_SECONDS)))
    except ValueError:
        raise WorkspaceError(f"{RETRY_VARIABLE} must be a whole number of seconds",
                             hint=f"e.g. {RETRY_VARIABLE}=60") from None
    try:
        return sdk.WorkspaceClient(config=sdk.core.Config(**options))
    except ValueError as error:  # the SDK's "cannot configure default credentials" and friends
        raise WorkspaceError(
            f"cannot set up a Databricks client: {_clean(str(error))}",
            hint="set DATABRICKS_HOST and DATABRICKS_TOKEN, or pick a ~/.databrickscfg profile with --profile "
                 "(docs/databricks.md#authentication)") from None


def _quiet_sdk_logs() -> None:
    """The SDK logs a warning when a host has no metadata endpoint; with no logging configured
    Python would print it to stderr. fabula reports problems itself. An application that set
    up logging keeps the SDK's records."""
    logger = logging.getLogger("databricks.sdk")
    if not logging.getLogger().handlers and not logger.handlers:
        logger.addHandler(logging.NullHandler())


def _clean(message: str) -> str:
    """The server's words without the SDK's config dump (host, auth type, masked token)."""
    for marker in (" Config: ", "Config: "):
        if marker in message:
            message = message.split(marker, 1)[0]
    return message.strip().rstrip(".") or "no details given"


@contextmanager
def translated(action: str, *, privilege: str | None = None, on: str | None = None,
               not_found: str | None = None, host: str | None = None) -> Iterator[None]:
    """Turn the SDK's errors while doing `action` into one clear fabula error.

    `privilege` and `on` name what a 403 means here (e.g. WRITE VOLUME on main.demo.raw);
    `not_found` is the message for a 404, when one is an error at this step.
    """
    sdk = require_sdk()
    errors = sdk.errors
    import requests

    try:
        yield
    except errors.Unauthenticated as error:
        raise WorkspaceError(
            f"Databricks rejected the credentials while {action} (401): {_clean(str(error))}",
            hint="check DATABRICKS_TOKEN, or the profile chosen with --profile; fabula never takes a token "
                 "on the command line") from None
    except errors.PermissionDenied as error:
        needed = f"the {privilege} privilege on {on}" if privilege else "a privilege it lacks"
        raise WorkspaceError(
            f"permission denied while {action} (403): {_clean(str(error))}",
            hint=f"ask a workspace or catalog admin to grant you {needed}") from None
    except errors.NotFound as error:
        if not_found is None:
            raise
        raise WorkspaceError(not_found, hint=_clean(str(error))) from None
    except errors.DatabricksError as error:
        raise WorkspaceError(f"Databricks refused {action}: {_clean(str(error))}",
                             hint="see docs/databricks.md#errors") from None
    except (requests.ConnectionError, requests.Timeout, TimeoutError) as error:
        raise WorkspaceError(
            f"cannot reach the Databricks workspace{f' at {host}' if host else ''} while {action}",
            hint="check DATABRICKS_HOST (or the profile's host) and the network; "
                 f"the error was {type(error).__name__}") from None
