"""The domain of Pulse: plain functions that take a Session and never commit."""
