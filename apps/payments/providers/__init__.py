"""Talking to each processor and store: HTTP calls, signature and certificate checks, and
turning their notifications into one vocabulary (`Notification`, `Outcome`)."""
