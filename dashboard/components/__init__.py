"""Components shared by pages."""
