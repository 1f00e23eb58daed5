"""Reusable widgets of the terminal admin, grouped by area."""
