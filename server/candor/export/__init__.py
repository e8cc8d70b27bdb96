"""Exports of a room or a whole event: a consent-filtered value (model) and its renderers."""
