"""The one error hierarchy of Baken. Adapters wrap library exceptions in these; the CLI and web map them once."""


class BakenError(Exception):
    """Base of every error Baken raises on purpose."""


class UserError(BakenError):
    """Something the user can fix; the message says how."""


class ConfigurationError(UserError):
    """A setting is invalid or points at something that is not there."""


class ModelError(UserError):
    """A model file is missing, damaged or does not match the catalogue."""


class DocumentError(UserError):
    """A document cannot be indexed (corrupt, encrypted, empty, too large...)."""


class UnsupportedDocument(DocumentError):
    """A document's type is not one Baken can read."""


class NotFound(UserError):
    """A named object (document, record, user) does not exist."""


class BackendUnavailable(BakenError):
    """A backend (model, index, audit store) could not be reached or failed."""


class RedactionError(BakenError):
    """Personal-data detection failed; the turn must not go on (fail closed)."""


class AuditError(BakenError):
    """The audit log could not be written or read; the turn must not go on."""
