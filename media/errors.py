"""Errors raised by the media library."""


class MediaError(Exception):
    """A file that cannot be used as evidence; the message says why, for people."""
