"""Open data for the public (OPN-2, Art.34): downloads and conditional-open requests."""
