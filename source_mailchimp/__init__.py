"""Airbyte source for the Mailchimp Marketing API 3.0 (declarative manifest + small components)."""

from source_mailchimp.run import SourceMailchimp

__all__ = ["SourceMailchimp"]
