"""Ratings from every channel, rating links and the satisfaction figures."""
