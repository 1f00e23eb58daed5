"""The Lua plugin runtime: sandboxed VMs, plugin loading, hooks, routes and approvals.

This is the only package that imports ``lupa``. It may call ``services`` and
``db.query``/``db.plugin_store``; nothing outside it imports it except the composition
root (``app.py``), the HTTP plugin handlers and the CLI's ``plugin`` commands.
"""
