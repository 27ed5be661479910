"""Independent references that compute golden values."""
