"""The service layer: every front end (CLI, TUI, HTTP, plugins) reaches data through it.

Services own the business rules (validation, tree invariants, revisions, permissions,
audit rows, hook calls) and return models from ``modulacms.core.models``. They may import
``modulacms.db`` and ``modulacms.core``; never a front end, never ``lupa`` (plugins plug in
through ``core.events.HookDispatcher``).
"""
