"""Screens for parents and students (and class teachers, read only)."""
