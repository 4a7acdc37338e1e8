"""`python -m horizon` runs the command line."""

from horizon.cli import main

main()
