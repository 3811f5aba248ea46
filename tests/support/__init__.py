"""Helpers shared by the test suites (host inspection, resource naming)."""
