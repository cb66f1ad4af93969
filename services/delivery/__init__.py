"""Delivery: free mailing to every village, courier partners and webhooks, window pickup, the finance bill."""
