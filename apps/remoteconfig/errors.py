from gamingpanel.errors import DomainError


class InvalidClientVersion(DomainError):
    status, code, title = 400, "invalid_client_version", "Invalid client version"


class InvalidPlatform(DomainError):
    status, code, title = 400, "invalid_platform", "Invalid client platform"


class ReleaseNotFound(DomainError):
    status, code, title = 404, "release_not_found", "No such published config"


class InvalidConfigRule(DomainError):
    status, code, title = 400, "invalid_config_rule", "Invalid config key or override"
