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
#include "GamingPanelHeartbeatSchedule.h"
#include "GamingPanelTypes.h"
#include "GamingPanelServerSubsystem.generated.h"

DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(FGamingPanelValidationPin, const FGamingPanelTokenValidation&, Validation, const FGamingPanelError&, Error);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FGamingPanelMatchPin, const FGamingPanelError&, Error);
/** 409 too_many_servers: the game already has Limit live servers, so this one is not listed (it keeps beating, with backoff). */
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FGamingPanelTooManyServers, int32, Limit);

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
	 * records each SubmissionId once for LEADERBOARD_SUBMISSION_RETENTION_DAYS, 30 by default; a retry answers 200 with
	 * "replayed": true; the same id sent after that is a new score, so do not resend older ones). The answer's "score"
	 * is the player's entry after it.
	 */
	void SubmitScore(const FString& Slug, const FString& SubmissionId, const FString& PlayerId, int64 Score,
		TSharedPtr<FJsonObject> Metadata, FGamingPanelResponseCallback OnComplete);

	/**
	 * Registers this server and keeps it listed: beats now, then every third of the ttl_seconds the panel answers
	 * (10 s until its first answer); a failed beat is sent again after 2 s, once, so one lost beat does not drop the
	 * server. 409 too_many_servers (the game is at its live-server limit) broadcasts OnTooManyServers and the beats go on
	 * with backoff, up to a minute apart: a place frees when another server stops. IntervalSeconds, when above 0, is
	 * the interval instead, never more than a third of ttl_seconds. StopHeartbeat (and Deinitialize) deregisters.
	 */
	UFUNCTION(BlueprintCallable, Category = "Gaming Panel|Server")
	void StartHeartbeat(const FGamingPanelServerStatus& Status, float IntervalSeconds = 0.f);

	UFUNCTION(BlueprintCallable, Category = "Gaming Panel|Server")
	void SetPlayerCount(int32 Players) { HeartbeatStatus.Players = Players; }

	/** Stops the heartbeat and deregisters the server if a beat listed it (after a beat still out, so it cannot list it again). */
	UFUNCTION(BlueprintCallable, Category = "Gaming Panel|Server")
	void StopHeartbeat();

	/** Whether the last beat went through (the server is on the list). */
	UFUNCTION(BlueprintPure, Category = "Gaming Panel|Server")
	bool IsListed() const { return HeartbeatRun.IsValid() && HeartbeatRun->Schedule.bListed; }

	/** POST multiplayer/servers/deregister (204): off the list at once. Retried on network errors / 429 / 5xx. */
	void Deregister(const FString& ServerId, FOnDone OnComplete);

	/** The game already has as many live servers as it may (409 too_many_servers, with its limit): this server is not listed. */
	UPROPERTY(BlueprintAssignable, Category = "Gaming Panel|Server")
	FGamingPanelTooManyServers OnTooManyServers;

	/** The access token from a join URL's options (AGameModeBase::PreLogin / Login "Options"). */
	UFUNCTION(BlueprintPure, Category = "Gaming Panel|Server")
	static FString GetTokenFromOptions(const FString& Options);

	/** A fresh unique match id (GUID) for FGamingPanelMatchResult::MatchId. */
	UFUNCTION(BlueprintPure, Category = "Gaming Panel|Server")
	static FString NewMatchId();

private:
	/** One StartHeartbeat's state, shared with its beat's answer (which may arrive after a stop or Deinitialize). */
	struct FHeartbeatRun
	{
		FGamingPanelHeartbeatSchedule Schedule;
		float FixedIntervalSeconds = 0.f;
		bool bStopped = false;
		bool bBeatOut = false;
		/** Stopped while a beat was out: deregister once it is answered. */
		bool bDeregisterAfterBeat = false;
		FString ServerId;
	};

	void Post(const FString& Path, TSharedRef<FJsonObject> Body, int32 MaxRetries, FGamingPanelResponseCallback OnComplete) const;
	static void PostWithKey(const FString& Key, const FString& Path, TSharedRef<FJsonObject> Body, int32 MaxRetries, FGamingPanelResponseCallback OnComplete);
	static void DeregisterWithKey(const FString& Key, const FString& ServerId, FOnDone OnComplete);
	void ScheduleBeat(float DelaySeconds);
	bool TickHeartbeat(float DeltaSeconds);

	FString ServerKey;
	FGamingPanelServerStatus HeartbeatStatus;
	FTSTicker::FDelegateHandle HeartbeatHandle;
	TSharedPtr<FHeartbeatRun> HeartbeatRun;
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
