from gamingpanel.errors import DomainError


class PlayersNotInGame(DomainError):
    status, code, title = 422, "players_not_in_game", "Players unknown in this game"


class ServerNotFound(DomainError):
    status, code, title = 404, "server_not_found", "No live server with this id"


class ServerIdTaken(DomainError):
    status, code, title = 409, "server_id_taken", "Another server key holds this server id"


class MatchIdConflict(DomainError):
    status, code, title = 409, "match_id_conflict", "This match id was recorded with another result"


class TooManyServers(DomainError):
    status, code, title = 409, "too_many_servers", "The game has as many live servers as it may"
