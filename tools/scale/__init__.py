"""Scale-out proved on one machine: the platform in replicas, a NATS cluster, kills under load (issue 23)."""
