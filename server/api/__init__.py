"""The phone-facing JSON API at /api/v1: declaration of operations and the OpenAPI document."""
