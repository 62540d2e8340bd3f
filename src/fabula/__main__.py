"""`python -m fabula` is the `fabula` command."""

from fabula.cli.main import main

main()
