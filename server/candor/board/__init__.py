"""The board model over a pycrdt Doc: its shape, its JSON projection, templates and validation."""
