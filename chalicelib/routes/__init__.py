"""The HTTP edge: Chalice blueprints by audience (public, partner, pages), the handlers the
public and partner twins share (caller.py) and what all of them use (common.py)."""
