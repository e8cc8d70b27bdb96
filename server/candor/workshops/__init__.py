"""Workshops: a facilitator's session with its breakout rooms, plenary, join code and tokens.

The HTTP API and the people who use it call one such session an *event*
(``/api/events/{id}``); in the code "event" stays with the event log
(:mod:`candor.log`), the record of every accepted update.
"""
