"""Repository tools that are not part of the library (they do not ship in the wheel)."""
