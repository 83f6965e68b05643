"""Render each service's slice of the plan through the copier template."""
