"""Genesys Cloud Platform API client (see ``client.GenesysClient``) and its errors."""

from shared.genesys.auth import TokenProvider
from shared.genesys.client import BULK_CONTACT_IDS, ContactReads, GenesysClient, Limiter, bulk_chunks
from shared.genesys.errors import (
    AuthenticationError,
    BadRequest,
    Conflict,
    GenesysError,
    InvalidPathId,
    JobSlotsFull,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    TransportError,
)

__all__ = [
    "BULK_CONTACT_IDS",
    "AuthenticationError",
    "BadRequest",
    "Conflict",
    "ContactReads",
    "GenesysClient",
    "GenesysError",
    "InvalidPathId",
    "JobSlotsFull",
    "Limiter",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "ServerError",
    "TokenProvider",
    "TransportError",
    "bulk_chunks",
]
