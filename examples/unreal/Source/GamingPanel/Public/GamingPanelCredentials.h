// Gaming Panel Unreal example: how the game proves who the player is on its platform.
#pragma once

#include "CoreMinimal.h"
#include "Dom/JsonObject.h"
#include "GamingPanelTypes.h"

/**
 * Produces {"platform", "credentials": {...}} for POST auth/third-party/login. The backend verifies the
 * credentials server-to-server with the platform. A provider is asked again whenever the session has to be
 * re-created (the refresh token was refused), so it must make fresh credentials each time (Steam tickets and
 * Google/Epic codes are single-use).
 */
class GAMINGPANEL_API IGamingPanelCredentialProvider
{
public:
	using FOnCredentials = TFunction<void(bool bOk, TSharedPtr<FJsonObject> Credentials, const FGamingPanelError& Error)>;

	virtual ~IGamingPanelCredentialProvider() = default;
	virtual FString GetPlatform() const = 0;
	/** Calls OnReady exactly once, on the game thread. */
	virtual void GetCredentials(FOnCredentials OnReady) = 0;
	/** Called when the login request that used the last credentials has finished. */
	virtual void OnLoginFinished() {}
};

/** Sandbox login (platform "dev"): any user id, accepted only by games in sandbox mode, useless against a live game. */
class GAMINGPANEL_API FGamingPanelDevCredentials : public IGamingPanelCredentialProvider
{
public:
	/** UserId: letters, digits, "_", "." or "-", 1 to 64 characters. */
	FGamingPanelDevCredentials(const FString& InUserId, const FString& InDisplayName);

	virtual FString GetPlatform() const override { return TEXT("dev"); }
	virtual void GetCredentials(FOnCredentials OnReady) override;

private:
	FString UserId;
	FString DisplayName;
};

/** Creates the Steam provider, or nullptr when this build has no Steamworks (GAMINGPANEL_WITH_STEAM=0). */
GAMINGPANEL_API TSharedPtr<IGamingPanelCredentialProvider> MakeGamingPanelSteamCredentials(const FString& Identity);
