"""Window inspections: findings, penalties, publication."""
