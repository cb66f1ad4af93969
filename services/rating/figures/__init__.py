"""The figures the center publishes: one read model fed by the events, per month and hall."""
