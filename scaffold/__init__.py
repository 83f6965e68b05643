"""scaffold: turn a service-interaction spec into runnable microservice skeletons."""

__version__ = "0.1.0"
