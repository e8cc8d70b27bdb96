"""Peers (one connection each), rooms (one board, one writer) and the registry that loads them."""
