from gamingpanel.errors import DomainError


class InsufficientFunds(DomainError):
    status, code, title = 409, "insufficient_funds", "Insufficient funds"


class InsufficientItems(DomainError):
    status, code, title = 409, "insufficient_items", "Not enough items"


class HoldingLimitReached(DomainError):
    status, code, title = 409, "holding_limit_reached", "Holding limit reached"


class UnknownCurrency(DomainError):
    status, code, title = 400, "unknown_currency", "Unknown currency"


class UnknownItem(DomainError):
    status, code, title = 400, "unknown_item", "Unknown item"


class InvalidContents(DomainError):
    status, code, title = 400, "invalid_contents", "Invalid contents"
