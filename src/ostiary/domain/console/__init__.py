"""What the admin console needs from the domain beyond the management API's services."""
