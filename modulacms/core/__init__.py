"""Plain domain code: models, ids, clock, hook events and validation.

Imports only the standard library and ``modulacms.errors``.
"""
