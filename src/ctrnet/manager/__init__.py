"""The network manager: options, modes, per-platform rules, sandboxes and their files."""
