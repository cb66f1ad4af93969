"""The simulated provincial identity provider: an OpenID Connect provider for local runs and tests only."""
