"""API service integrations: the catalog of entries publishers offer, and their installs per org."""
