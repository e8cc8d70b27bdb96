"""Events: a facilitator's session with its breakout rooms, plenary, join code and tokens."""
