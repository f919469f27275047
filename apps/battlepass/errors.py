from gamingpanel.errors import DomainError


class NoActiveSeason(DomainError):
    status, code, title = 409, "no_active_season", "No battle-pass season is running"


class SeasonNotFound(DomainError):
    status, code, title = 404, "season_not_found", "No such season in this game"


class SeasonEnded(DomainError):
    status, code, title = 409, "season_ended", "The battle-pass season has ended"


class SeasonNotRunning(DomainError):
    status, code, title = 409, "season_not_running", "The named season is not the one running"


class TierNotFound(DomainError):
    status, code, title = 404, "tier_not_found", "No such tier in the running season"


class TierLocked(DomainError):
    status, code, title = 409, "tier_locked", "Not enough season XP for this tier"


class PremiumRequired(DomainError):
    status, code, title = 409, "premium_required", "The premium track needs the premium pass"


class AlreadyClaimed(DomainError):
    status, code, title = 409, "already_claimed", "Already claimed"


class SeasonHasClaims(DomainError):
    status, code, title = 409, "season_has_claims", "Players have claimed tiers of this season"
