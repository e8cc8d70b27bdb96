"""Rebuilding a board as it stood at any point of its log."""
