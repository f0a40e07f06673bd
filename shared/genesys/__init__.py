"""Genesys Cloud Platform API client (see ``client.GenesysClient``) and its errors."""

from shared.genesys.auth import TokenProvider
from shared.genesys.client import GenesysClient, Limiter
from shared.genesys.errors import (
    AuthenticationError,
    BadRequest,
    Conflict,
    GenesysError,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    TransportError,
)

__all__ = [
    "AuthenticationError",
    "BadRequest",
    "Conflict",
    "GenesysClient",
    "GenesysError",
    "Limiter",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "ServerError",
    "TokenProvider",
    "TransportError",
]
