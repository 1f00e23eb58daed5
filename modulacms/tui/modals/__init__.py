"""Modal screens: confirmations, pickers, forms and read-only views (one per file)."""
