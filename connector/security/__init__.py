"""Token verification, encryption of secrets at rest, signed action state."""
