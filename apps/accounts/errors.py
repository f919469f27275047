from gamingpanel.errors import DomainError


class InvalidGameKey(DomainError):
    status, code, title = 401, "invalid_game_key", "Unknown game key"


class InvalidServerKey(DomainError):
    status, code, title = 401, "invalid_server_key", "Unknown or revoked server key"


class WrongCredentialKind(DomainError):
    status, code, title = 403, "wrong_credential_kind", "Wrong kind of credential"
