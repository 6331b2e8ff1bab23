"""Every state change of the gateway, one function each, each writing its audit event."""
