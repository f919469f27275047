// Gaming Panel Unreal example: Project Settings > Plugins > Gaming Panel (stored in Config/DefaultGame.ini).
#pragma once

#include "CoreMinimal.h"
#include "Engine/DeveloperSettings.h"
#include "GamingPanelSettings.generated.h"

UCLASS(config = Game, defaultconfig, meta = (DisplayName = "Gaming Panel"))
class GAMINGPANEL_API UGamingPanelSettings : public UDeveloperSettings
{
	GENERATED_BODY()

public:
	/** API root including /api/v1/, e.g. https://panel.example.com/api/v1/ (local backend: http://localhost:8000/api/v1/). */
	UPROPERTY(config, EditAnywhere, Category = "Gaming Panel")
	FString BaseUrl = TEXT("http://localhost:8000/api/v1/");

	/** The game's public client key, sent as X-Game-Key at login (the local demo game: demo-client-key). Never put a server key here. */
	UPROPERTY(config, EditAnywhere, Category = "Gaming Panel")
	FString GameKey = TEXT("demo-client-key");

	/** Seconds before one HTTP request gives up. */
	UPROPERTY(config, EditAnywhere, Category = "Gaming Panel", meta = (ClampMin = "1"))
	float RequestTimeoutSeconds = 15.f;

	/** Refresh the access token this many seconds before it expires (access tokens live 2 hours). */
	UPROPERTY(config, EditAnywhere, Category = "Gaming Panel", meta = (ClampMin = "30"))
	float RefreshMarginSeconds = 300.f;

	/** Extra attempts for requests that are safe to repeat (reads, keyed purchases) after a 429, 5xx or network error. */
	UPROPERTY(config, EditAnywhere, Category = "Gaming Panel", meta = (ClampMin = "0", ClampMax = "5"))
	int32 MaxTransientRetries = 2;

	/** Must equal the Steam "identity" configured for this game in the panel (tickets are bound to it). Empty = none. */
	UPROPERTY(config, EditAnywhere, Category = "Gaming Panel|Steam")
	FString SteamIdentity = TEXT("gamingpanel");

	/** Keep the session on disk (Saved/GamingPanel) so players stay logged in between launches. Pending purchases'
	 *  Idempotency-Keys are kept there either way (a purchase whose answer was lost resumes with its key). */
	UPROPERTY(config, EditAnywhere, Category = "Gaming Panel")
	bool bPersistSession = true;
};
