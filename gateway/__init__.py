"""Gateway: unified identity login, tokens and roles, routing to the services, the online-payment stub."""
