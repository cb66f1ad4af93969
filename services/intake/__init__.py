"""Intake: catalog, applications, one-window acceptance (容缺), projects, appointments, consultations."""
