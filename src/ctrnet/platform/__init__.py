"""Per-OS facts (pure data, importable anywhere) and namespace backends (imported lazily)."""
