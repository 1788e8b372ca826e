"""Emulator of the Cisco Secure Workload (formerly Tetration) OpenAPI (``/openapi/v1``)."""

from .api import SecureWorkloadProduct

__all__ = ["SecureWorkloadProduct"]
