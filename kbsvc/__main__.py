"""`python -m kbsvc` runs the CLI."""

from kbsvc.cli import main

main()
