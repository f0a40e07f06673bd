"""Plain helpers the test tiers share (imported by tests, never through conftest magic)."""
