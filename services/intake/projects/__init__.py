"""Investment construction projects: four stage applications in order, agency officers."""
