// Gaming Panel Unreal example: dedicated-server helper (token validation, match results, heartbeats).
//
// Created only on dedicated servers (or with -GamingPanelServer on the command line). It authenticates with the
// game's SERVER key, read at run time from the GAMINGPANEL_SERVER_KEY environment variable or the
// -GamingPanelServerKey= argument. The key is a secret that can validate any player's token and write match
// results: never put it in a config file that ships to players.
#pragma once

#include "CoreMinimal.h"
#include "Subsystems/GameInstanceSubsystem.h"
#include "Kismet/BlueprintAsyncActionBase.h"
#include "Containers/Ticker.h"
#include "GamingPanelHttp.h"
#include "GamingPanelTypes.h"
#include "GamingPanelServerSubsystem.generated.h"

DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(FGamingPanelValidationPin, const FGamingPanelTokenValidation&, Validation, const FGamingPanelError&, Error);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FGamingPanelMatchPin, const FGamingPanelError&, Error);

UCLASS()
class GAMINGPANEL_API UGamingPanelServerSubsystem : public UGameInstanceSubsystem
{
	GENERATED_BODY()

public:
	using FOnValidated = TFunction<void(bool bOk, const FGamingPanelTokenValidation& Validation, const FGamingPanelError& Error)>;
	using FOnDone = TFunction<void(bool bOk, const FGamingPanelError& Error)>;

	/** Name of the join URL option that carries the player's access token: ?gp_token=... */
	static const TCHAR* TokenOptionName;

	static UGamingPanelServerSubsystem* Get(const UObject* WorldContextObject);

	virtual bool ShouldCreateSubsystem(UObject* Outer) const override;
	virtual void Initialize(FSubsystemCollectionBase& Collection) override;
	virtual void Deinitialize() override;

	/** True when a server key was found. */
	UFUNCTION(BlueprintPure, Category = "Gaming Panel|Server")
	bool IsConfigured() const { return !ServerKey.IsEmpty(); }

	/**
	 * POST multiplayer/validate-token. bOk means the panel answered; admit the player only if
	 * Validation.MayJoin() (valid token, not banned). bOk false (panel unreachable): refuse by default.
	 */
	void ValidatePlayerToken(const FString& PlayerAccessToken, FOnValidated OnComplete);

	/** POST multiplayer/match-result, retried on network errors / 429 / 5xx (safe: applied once per MatchId). */
	void PostMatchResult(const FGamingPanelMatchResult& Result, FOnDone OnComplete);

	/**
	 * POST leaderboards/{Slug}/scores: a player's score, retried on network errors / 429 / 5xx (safe: the panel
	 * records each SubmissionId once; a retry answers 200 with "replayed": true). The answer's "score" is the
	 * player's entry after it.
	 */
	void SubmitScore(const FString& Slug, const FString& SubmissionId, const FString& PlayerId, int64 Score,
		TSharedPtr<FJsonObject> Metadata, FGamingPanelResponseCallback OnComplete);

	/** Registers this server and heartbeats every IntervalSeconds; the panel drops servers that stop. */
	UFUNCTION(BlueprintCallable, Category = "Gaming Panel|Server")
	void StartHeartbeat(const FGamingPanelServerStatus& Status, float IntervalSeconds = 20.f);

	UFUNCTION(BlueprintCallable, Category = "Gaming Panel|Server")
	void SetPlayerCount(int32 Players) { HeartbeatStatus.Players = Players; }

	UFUNCTION(BlueprintCallable, Category = "Gaming Panel|Server")
	void StopHeartbeat();

	/** The access token from a join URL's options (AGameModeBase::PreLogin / Login "Options"). */
	UFUNCTION(BlueprintPure, Category = "Gaming Panel|Server")
	static FString GetTokenFromOptions(const FString& Options);

	/** A fresh unique match id (GUID) for FGamingPanelMatchResult::MatchId. */
	UFUNCTION(BlueprintPure, Category = "Gaming Panel|Server")
	static FString NewMatchId();

private:
	void Post(const FString& Path, TSharedRef<FJsonObject> Body, int32 MaxRetries, FGamingPanelResponseCallback OnComplete) const;
	bool TickHeartbeat(float DeltaSeconds);

	FString ServerKey;
	FGamingPanelServerStatus HeartbeatStatus;
	FTSTicker::FDelegateHandle HeartbeatHandle;
};

/** Blueprint node: validate a joining player's token. */
UCLASS()
class GAMINGPANEL_API UGamingPanelValidatePlayerAction : public UBlueprintAsyncActionBase
{
	GENERATED_BODY()

public:
	/** Valid token of a player who is not banned: let them in. */
	UPROPERTY(BlueprintAssignable)
	FGamingPanelValidationPin OnAccepted;

	/** Invalid, expired, banned, or the panel could not be reached: kick. */
	UPROPERTY(BlueprintAssignable)
	FGamingPanelValidationPin OnRejected;

	UFUNCTION(BlueprintCallable, Category = "Gaming Panel|Server", meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject"))
	static UGamingPanelValidatePlayerAction* ValidatePlayerToken(UObject* WorldContextObject, const FString& PlayerAccessToken);

	virtual void Activate() override;

private:
	TWeakObjectPtr<UGamingPanelServerSubsystem> Subsystem;
	FString Token;
};

/** Blueprint node: report a finished match. */
UCLASS()
class GAMINGPANEL_API UGamingPanelPostMatchResultAction : public UBlueprintAsyncActionBase
{
	GENERATED_BODY()

public:
	UPROPERTY(BlueprintAssignable)
	FGamingPanelMatchPin OnSuccess;

	/** Not delivered after retries: keep the result and send it again later (same MatchId). */
	UPROPERTY(BlueprintAssignable)
	FGamingPanelMatchPin OnFailure;

	UFUNCTION(BlueprintCallable, Category = "Gaming Panel|Server", meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject"))
	static UGamingPanelPostMatchResultAction* PostMatchResult(UObject* WorldContextObject, const FGamingPanelMatchResult& Result);

	virtual void Activate() override;

private:
	TWeakObjectPtr<UGamingPanelServerSubsystem> Subsystem;
	FGamingPanelMatchResult Result;
};
