"""Entry point for ``python -m modulacms``."""

from modulacms.cli import main

if __name__ == "__main__":
    main()
