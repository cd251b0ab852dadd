"""Entry point for ``python -m hostgw``."""

from hostgw.cli import main

main()
