"""ModulaCMS: a terminal-first headless CMS.

This module holds the version only and imports nothing heavy, so that
``modulacms --help`` stays fast.
"""

__version__ = "0.1.0"
