from gamingpanel.errors import DomainError


class RewardNotFound(DomainError):
    status, code, title = 404, "reward_not_found", "No such reward in this event"


class EventNotStarted(DomainError):
    status, code, title = 409, "event_not_started", "The event has not started"


class EventEnded(DomainError):
    status, code, title = 409, "event_ended", "The event is over"


class RequirementNotMet(DomainError):
    status, code, title = 409, "requirement_not_met", "The reward's requirement is not met"


class AlreadyClaimed(DomainError):
    status, code, title = 409, "already_claimed", "Already claimed"
