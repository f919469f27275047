from gamingpanel.errors import DomainError


class SaveNotFound(DomainError):
    status, code, title = 404, "save_not_found", "No such saved document"


class InvalidSaveKey(DomainError):
    status, code, title = 400, "invalid_save_key", "Invalid save key"


class InvalidPrecondition(DomainError):
    status, code, title = 400, "invalid_precondition", "Invalid If-Match or If-None-Match"


class PreconditionRequired(DomainError):
    status, code, title = 428, "precondition_required", "If-Match or If-None-Match required"


class PreconditionFailed(DomainError):
    """The document changed since the version the client wrote against: the body carries the
    current document (`current`, null when there is none) or, for a batch, every `conflicts`."""

    status, code, title = 412, "precondition_failed", "The document has another version"


class SaveKeyNotWritable(DomainError):
    status, code, title = 403, "save_key_not_writable", "This caller may not write this key"


class DocumentTooLarge(DomainError):
    status, code, title = 413, "document_too_large", "Document over the game's size limit"


class PlayerStorageFull(DomainError):
    status, code, title = 413, "player_storage_full", "Player's saves over the game's limit"


class TooManyDocuments(DomainError):
    status, code, title = 413, "too_many_documents", "Player's documents over the game's limit"


class SavePlayerNotFound(DomainError):
    status, code, title = 404, "player_not_found", "No such player in this game"


class NothingToRestore(DomainError):
    """The kept version is a deletion: writing it back would delete the document, not restore
    it (delete it through the API, or restore a version that holds a value)."""

    status, code, title = 409, "nothing_to_restore", "That version is a deletion"
