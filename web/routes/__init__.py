"""The web's controllers, one module per area."""
