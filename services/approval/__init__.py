"""Approval: back-office routing, parallel stages, working-day clocks, cards, reminders, certificates."""
