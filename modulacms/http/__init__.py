"""The HTTP front end: a standard-library threaded server, a route table and handlers.

Handlers parse a request, call one service method and render the result through
``responses.py``, the only place where errors become status codes. This package may
import ``services``, ``core``, ``config`` and ``errors``; it never imports ``db`` (it asks
the services for everything, including the change token its response cache watches).
"""
