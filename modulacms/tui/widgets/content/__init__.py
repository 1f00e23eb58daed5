"""Widgets of the Content area: the route list, the content tree and the field editor."""
