from gamingpanel.errors import DomainError


class UnknownStat(DomainError):
    status, code, title = 400, "unknown_stat", "Unknown stat"
