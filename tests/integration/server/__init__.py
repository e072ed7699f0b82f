"""Integration tests that run the built labelport-server binary."""
