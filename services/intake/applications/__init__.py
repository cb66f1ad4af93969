"""Applications: materials, one-window acceptance with 容缺, the applicant's single timeline."""
