"""After rendering: models from JSON Schema, compiled protos, formatting."""
