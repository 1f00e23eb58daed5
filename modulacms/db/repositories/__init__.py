"""Typed repositories: one class per core table group.

A repository owns the SQL of its tables and returns frozen dataclasses from
``modulacms.core.models``; it holds no business rules. Each takes the ``Database`` and uses
``db.connection()``, so inside ``db.transaction()`` it sees the transaction's own writes.
"""
