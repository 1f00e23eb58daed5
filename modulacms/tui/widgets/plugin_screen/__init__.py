"""Widgets that show what a plugin screen yields: the grid of titled cells and the
primitives inside them (rendered as Rich text, never read as markup)."""
