from gamingpanel.errors import DomainError


class BoardNotFound(DomainError):
    status, code, title = 404, "board_not_found", "No such leaderboard in this game"


class PeriodNotFound(DomainError):
    status, code, title = 404, "period_not_found", "No such closed period of this leaderboard"


class PlayerNotInGame(DomainError):
    status, code, title = 404, "player_not_found", "No such player in this game"


class InvalidScore(DomainError):
    status, code, title = 400, "invalid_score", "The score is not a whole number in range"


class InvalidMetadata(DomainError):
    status, code, title = 400, "invalid_metadata", "Metadata must be a JSON object"


class MetadataTooLarge(DomainError):
    status, code, title = 413, "metadata_too_large", "The entry's metadata is too large"


class ClientSubmissionsNotAllowed(DomainError):
    status, code, title = 403, "client_submissions_not_allowed", "Scores come from game servers"


class StatBoardTakesNoScores(DomainError):
    status, code, title = 409, "board_fed_by_stat", "Match results feed this leaderboard"


class SubmissionConflict(DomainError):
    status, code, title = 409, "submission_id_reused", "Submission id used for another score"


class PlayerBanned(DomainError):
    status, code, title = 403, "player_banned", "Banned players take no part in leaderboards"


class PeriodNotClosed(DomainError):
    status, code, title = 409, "period_not_closed", "The period is still open"


class PeriodClosed(DomainError):
    status, code, title = 409, "period_closed", "The period is closed; its standings are final"


class InvalidCursor(DomainError):
    status, code, title = 400, "invalid_cursor", "The cursor is not valid"
