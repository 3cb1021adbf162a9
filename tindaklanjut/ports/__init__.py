"""Ports: what the service layer and the adapters agree on, owned by
neither. The abstract repositories (which the SQL adapters and the test
fakes implement), the message shapes crossing the boundary, and the one
retry policy for outages."""
