from gamingpanel.errors import DomainError


class ReservedEventName(DomainError):
    """Sessions, purchases, matches and claims are recorded by the panel, never by a client."""

    status, code, title = 400, "reserved_event_name", "Reserved event name"


class EventOutOfRange(DomainError):
    status, code, title = 400, "event_out_of_range", "Event time out of range"


class PropertiesTooLarge(DomainError):
    status, code, title = 400, "properties_too_large", "Event properties too large"


class BatchTooLarge(DomainError):
    status, code, title = 400, "batch_too_large", "Too many events in one batch"


class TooManyEventNames(DomainError):
    """A new client event name when the game already has ANALYTICS_MAX_EVENT_NAMES of them."""

    status, code, title = 400, "too_many_event_names", "Too many event names"
