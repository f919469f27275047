"""Platform login, link and unlink, and refresh: accounts' sessions with what they start above
accounts (the platform check, the starting grant, the analytics facts)."""
