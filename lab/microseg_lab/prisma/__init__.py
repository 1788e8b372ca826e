"""Emulator of the Prisma Cloud Microsegmentation (ex-Aporeto) console API."""

from .api import PrismaProduct

__all__ = ["PrismaProduct"]
