"""Pure logic of whitelabel-gateway: config model, route table, quota arithmetic, offline engine."""
