"""The store: SQLite connections, migrations, typed repositories and the query builder.

The only package that imports ``apsw``. May import ``modulacms.core`` and
``modulacms.errors``; never a front end (cli, tui, http) or the plugin runtime.
"""
