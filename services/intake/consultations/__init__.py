"""Online consultations on a service item, each on a reply clock."""
