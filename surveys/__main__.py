"""`python -m surveys` runs the `rapport` command."""

from surveys.cli import main

main()
