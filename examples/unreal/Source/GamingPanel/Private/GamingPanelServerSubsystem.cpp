// Gaming Panel Unreal example: dedicated-server helper.
#include "GamingPanelServerSubsystem.h"
#include "GamingPanelHttp.h"
#include "GamingPanelModule.h"
#include "GamingPanelSettings.h"
#include "CoreGlobals.h"
#include "Engine/Engine.h"
#include "Engine/GameInstance.h"
#include "Engine/World.h"
#include "HAL/PlatformMisc.h"
#include "Kismet/GameplayStatics.h"
#include "Misc/CommandLine.h"
#include "Misc/Guid.h"
#include "Misc/Parse.h"

const TCHAR* UGamingPanelServerSubsystem::TokenOptionName = TEXT("gp_token");

UGamingPanelServerSubsystem* UGamingPanelServerSubsystem::Get(const UObject* WorldContextObject)
{
	const UWorld* World = GEngine ? GEngine->GetWorldFromContextObject(WorldContextObject, EGetWorldErrorMode::LogAndReturnNull) : nullptr;
	const UGameInstance* GameInstance = World ? World->GetGameInstance() : nullptr;
	return GameInstance ? GameInstance->GetSubsystem<UGamingPanelServerSubsystem>() : nullptr;
}

bool UGamingPanelServerSubsystem::ShouldCreateSubsystem(UObject* /*Outer*/) const
{
	// Dedicated servers, plus listen-server setups that opt in with -GamingPanelServer.
	return IsRunningDedicatedServer() || FParse::Param(FCommandLine::Get(), TEXT("GamingPanelServer"));
}

void UGamingPanelServerSubsystem::Initialize(FSubsystemCollectionBase& Collection)
{
	Super::Initialize(Collection);
	ServerKey = FPlatformMisc::GetEnvironmentVariable(TEXT("GAMINGPANEL_SERVER_KEY"));
	FString FromCommandLine;
	if (FParse::Value(FCommandLine::Get(), TEXT("GamingPanelServerKey="), FromCommandLine))
	{
		ServerKey = FromCommandLine;
	}
	if (ServerKey.IsEmpty())
	{
		UE_LOG(LogGamingPanel, Error, TEXT("No Gaming Panel server key: set GAMINGPANEL_SERVER_KEY or pass -GamingPanelServerKey=. Players cannot be validated."));
	}
}

void UGamingPanelServerSubsystem::Deinitialize()
{
	StopHeartbeat();
	Super::Deinitialize();
}

void UGamingPanelServerSubsystem::Post(const FString& Path, TSharedRef<FJsonObject> Body, int32 MaxRetries, FGamingPanelResponseCallback OnComplete) const
{
	PostWithKey(ServerKey, Path, Body, MaxRetries, MoveTemp(OnComplete));
}

void UGamingPanelServerSubsystem::PostWithKey(const FString& Key, const FString& Path, TSharedRef<FJsonObject> Body, int32 MaxRetries, FGamingPanelResponseCallback OnComplete)
{
	if (Key.IsEmpty())
	{
		OnComplete(FGamingPanelResponse::Failure(FGamingPanelError::Make(0, TEXT("server_key_missing"), TEXT("No server key configured."))));
		return;
	}
	const UGamingPanelSettings* Settings = GetDefault<UGamingPanelSettings>();
	TMap<FString, FString> Headers;
	Headers.Add(TEXT("X-Server-Key"), Key);
	FGamingPanelHttp::SendWithRetries(TEXT("POST"), FGamingPanelHttp::JoinUrl(Settings->BaseUrl, Path), Headers, Body,
		Settings->RequestTimeoutSeconds, MaxRetries, MoveTemp(OnComplete));
}

void UGamingPanelServerSubsystem::ValidatePlayerToken(const FString& PlayerAccessToken, FOnValidated OnComplete)
{
	if (PlayerAccessToken.IsEmpty())
	{
		FGamingPanelTokenValidation Missing;
		Missing.Reason = TEXT("missing_token");
		OnComplete(true, Missing, FGamingPanelError());
		return;
	}
	TSharedRef<FJsonObject> Body = MakeShared<FJsonObject>();
	Body->SetStringField(TEXT("token"), PlayerAccessToken);
	Post(TEXT("multiplayer/validate-token"), Body, 1, [OnComplete](const FGamingPanelResponse& Response)
	{
		const TSharedPtr<FJsonObject> Json = Response.JsonObject();
		if (!Response.bOk || !Json.IsValid())
		{
			UE_LOG(LogGamingPanel, Warning, TEXT("Token validation failed: %s"), *Response.Error.ToString());
			OnComplete(false, FGamingPanelTokenValidation(), Response.Error);
			return;
		}
		OnComplete(true, FGamingPanelTokenValidation::FromJson(*Json), FGamingPanelError());
	});
}

void UGamingPanelServerSubsystem::PostMatchResult(const FGamingPanelMatchResult& Result, FOnDone OnComplete)
{
	if (Result.MatchId.IsEmpty())
	{
		OnComplete(false, FGamingPanelError::Make(400, GamingPanelErrorCodes::ValidationError, TEXT("MatchId is required (use NewMatchId when the match starts).")));
		return;
	}
	const FString MatchId = Result.MatchId;
	Post(TEXT("multiplayer/match-result"), Result.ToJson(), 4, [OnComplete, MatchId](const FGamingPanelResponse& Response)
	{
		if (!Response.bOk)
		{
			// Keep the result (e.g. write it to Saved/) and send it again later: the same match id is applied once.
			UE_LOG(LogGamingPanel, Error, TEXT("Match %s not reported: %s"), *MatchId, *Response.Error.ToString());
		}
		OnComplete(Response.bOk, Response.Error);
	});
}

void UGamingPanelServerSubsystem::SubmitScore(const FString& Slug, const FString& SubmissionId, const FString& PlayerId, int64 Score,
	TSharedPtr<FJsonObject> Metadata, FGamingPanelResponseCallback OnComplete)
{
	TSharedRef<FJsonObject> Body = MakeShared<FJsonObject>();
	Body->SetStringField(TEXT("submission_id"), SubmissionId);
	Body->SetNumberField(TEXT("player_id"), FCString::Atod(*PlayerId));
	Body->SetNumberField(TEXT("score"), static_cast<double>(Score));  // exact up to 2^53, the API allows 10^15
	if (Metadata.IsValid())
	{
		Body->SetObjectField(TEXT("metadata"), Metadata);
	}
	Post(FString::Printf(TEXT("leaderboards/%s/scores"), *Slug), Body, 4, OnComplete);
}

void UGamingPanelServerSubsystem::StartHeartbeat(const FGamingPanelServerStatus& Status, float IntervalSeconds)
{
	StopHeartbeat();
	HeartbeatStatus = Status;
	HeartbeatRun = MakeShared<FHeartbeatRun>();
	HeartbeatRun->FixedIntervalSeconds = FMath::Max(0.f, IntervalSeconds);
	TickHeartbeat(0.f); // register now; each answer schedules the next beat
}

void UGamingPanelServerSubsystem::ScheduleBeat(float DelaySeconds)
{
	FTSTicker::GetCoreTicker().RemoveTicker(HeartbeatHandle);
	HeartbeatHandle = FTSTicker::GetCoreTicker().AddTicker(
		FTickerDelegate::CreateUObject(this, &UGamingPanelServerSubsystem::TickHeartbeat), FMath::Max(0.5f, DelaySeconds));
}

void UGamingPanelServerSubsystem::StopHeartbeat()
{
	FTSTicker::GetCoreTicker().RemoveTicker(HeartbeatHandle);
	HeartbeatHandle.Reset();
	const TSharedPtr<FHeartbeatRun> Run = HeartbeatRun;
	HeartbeatRun.Reset();
	if (!Run.IsValid() || Run->bStopped) return;
	Run->bStopped = true;
	if (Run->bBeatOut)
	{
		Run->bDeregisterAfterBeat = true; // sent once the beat is answered: a beat landing after it would list the server again
	}
	else if (Run->Schedule.bRegistered)
	{
		DeregisterWithKey(ServerKey, Run->ServerId, nullptr);
	}
}

void UGamingPanelServerSubsystem::Deregister(const FString& ServerId, FOnDone OnComplete)
{
	DeregisterWithKey(ServerKey, ServerId, MoveTemp(OnComplete));
}

void UGamingPanelServerSubsystem::DeregisterWithKey(const FString& Key, const FString& ServerId, FOnDone OnComplete)
{
	TSharedRef<FJsonObject> Body = MakeShared<FJsonObject>();
	Body->SetStringField(TEXT("server_id"), ServerId);
	PostWithKey(Key, TEXT("multiplayer/servers/deregister"), Body, 2, [ServerId, OnComplete](const FGamingPanelResponse& Response)
	{
		if (Response.bOk)
		{
			UE_LOG(LogGamingPanel, Log, TEXT("Server %s deregistered."), *ServerId);
		}
		else
		{
			UE_LOG(LogGamingPanel, Warning, TEXT("Could not deregister server %s (it leaves the list after ttl_seconds): %s"), *ServerId, *Response.Error.ToString());
		}
		if (OnComplete) OnComplete(Response.bOk, Response.Error);
	});
}

bool UGamingPanelServerSubsystem::TickHeartbeat(float /*DeltaSeconds*/)
{
	HeartbeatHandle.Reset();
	const TSharedPtr<FHeartbeatRun> Run = HeartbeatRun;
	if (!Run.IsValid() || Run->bStopped || Run->bBeatOut) return false;
	Run->bBeatOut = true;
	const FString BeatServerId = HeartbeatStatus.ServerId;
	const FString Key = ServerKey;
	TWeakObjectPtr<UGamingPanelServerSubsystem> WeakThis(this);
	Post(TEXT("multiplayer/servers/heartbeat"), HeartbeatStatus.ToJson(), 0, [WeakThis, Run, BeatServerId, Key](const FGamingPanelResponse& Response)
	{
		Run->bBeatOut = false;
		const TSharedPtr<FJsonObject> Json = Response.bOk ? Response.JsonObject() : nullptr;
		const FGamingPanelHeartbeatSchedule::EOutcome Outcome =
			FGamingPanelHeartbeatSchedule::Classify(Response.bOk, Response.Error.Status, Response.Error.Code);
		float Delay = Run->Schedule.Next(Outcome, Json.IsValid() ? GamingPanelJson::GetInt(*Json, TEXT("ttl_seconds")) : 0,
			Response.bOk ? -1.f : Response.Error.RetryAfterSeconds);
		if (Outcome == FGamingPanelHeartbeatSchedule::EOutcome::Listed)
		{
			Run->ServerId = BeatServerId;
			if (Run->FixedIntervalSeconds > 0.f) Delay = FMath::Min(Delay, Run->FixedIntervalSeconds);
		}
		if (Run->bStopped)
		{
			if (Run->bDeregisterAfterBeat && Run->Schedule.bRegistered) DeregisterWithKey(Key, Run->ServerId, nullptr);
			return;
		}
		int32 Limit = 0;
		if (Outcome == FGamingPanelHeartbeatSchedule::EOutcome::TooManyServers)
		{
			const TSharedPtr<FJsonValue> Problem = FGamingPanelHttp::ParseJson(Response.Body);
			const TSharedPtr<FJsonObject> ProblemObject = Problem.IsValid() ? Problem->AsObject() : nullptr;
			Limit = ProblemObject.IsValid() ? static_cast<int32>(GamingPanelJson::GetInt(*ProblemObject, TEXT("limit"))) : 0;
			UE_LOG(LogGamingPanel, Warning, TEXT("Server %s not listed: the game already has %d live servers (too_many_servers); beating again in %.0f s."),
				*BeatServerId, Limit, Delay);
		}
		else if (Outcome == FGamingPanelHeartbeatSchedule::EOutcome::Failed)
		{
			UE_LOG(LogGamingPanel, Warning, TEXT("Heartbeat failed: %s; beating again in %.0f s."), *Response.Error.Code, Delay);
		}
		UGamingPanelServerSubsystem* Self = WeakThis.Get();
		if (Self == nullptr || Self->HeartbeatRun.Get() != Run.Get()) return; // stopped or restarted meanwhile
		Self->ScheduleBeat(Delay);
		if (Outcome == FGamingPanelHeartbeatSchedule::EOutcome::TooManyServers)
		{
			Self->OnTooManyServers.Broadcast(Limit);
		}
	});
	return false; // one shot: the answer schedules the next beat
}

FString UGamingPanelServerSubsystem::GetTokenFromOptions(const FString& Options)
{
	return UGameplayStatics::ParseOption(Options, TokenOptionName);
}

FString UGamingPanelServerSubsystem::NewMatchId()
{
	return FGuid::NewGuid().ToString(EGuidFormats::DigitsWithHyphens).ToLower();
}

// ------------------------------------------------------------------------------------------------ Blueprint nodes

UGamingPanelValidatePlayerAction* UGamingPanelValidatePlayerAction::ValidatePlayerToken(UObject* WorldContextObject, const FString& PlayerAccessToken)
{
	UGamingPanelValidatePlayerAction* Action = NewObject<UGamingPanelValidatePlayerAction>();
	Action->Subsystem = UGamingPanelServerSubsystem::Get(WorldContextObject);
	Action->Token = PlayerAccessToken;
	Action->RegisterWithGameInstance(WorldContextObject);
	return Action;
}

void UGamingPanelValidatePlayerAction::Activate()
{
	UGamingPanelServerSubsystem* Server = Subsystem.Get();
	if (Server == nullptr)
	{
		OnRejected.Broadcast(FGamingPanelTokenValidation(), FGamingPanelError::Make(0, TEXT("no_server_subsystem"), TEXT("Not running as a Gaming Panel server.")));
		SetReadyToDestroy();
		return;
	}
	TWeakObjectPtr<UGamingPanelValidatePlayerAction> WeakThis(this);
	Server->ValidatePlayerToken(Token, [WeakThis](bool bOk, const FGamingPanelTokenValidation& Validation, const FGamingPanelError& Error)
	{
		if (UGamingPanelValidatePlayerAction* Self = WeakThis.Get())
		{
			(bOk && Validation.MayJoin() ? Self->OnAccepted : Self->OnRejected).Broadcast(Validation, Error);
			Self->SetReadyToDestroy();
		}
	});
}

UGamingPanelPostMatchResultAction* UGamingPanelPostMatchResultAction::PostMatchResult(UObject* WorldContextObject, const FGamingPanelMatchResult& Result)
{
	UGamingPanelPostMatchResultAction* Action = NewObject<UGamingPanelPostMatchResultAction>();
	Action->Subsystem = UGamingPanelServerSubsystem::Get(WorldContextObject);
	Action->Result = Result;
	Action->RegisterWithGameInstance(WorldContextObject);
	return Action;
}

void UGamingPanelPostMatchResultAction::Activate()
{
	UGamingPanelServerSubsystem* Server = Subsystem.Get();
	if (Server == nullptr)
	{
		OnFailure.Broadcast(FGamingPanelError::Make(0, TEXT("no_server_subsystem"), TEXT("Not running as a Gaming Panel server.")));
		SetReadyToDestroy();
		return;
	}
	TWeakObjectPtr<UGamingPanelPostMatchResultAction> WeakThis(this);
	Server->PostMatchResult(Result, [WeakThis](bool bOk, const FGamingPanelError& Error)
	{
		if (UGamingPanelPostMatchResultAction* Self = WeakThis.Get())
		{
			(bOk ? Self->OnSuccess : Self->OnFailure).Broadcast(Error);
			Self->SetReadyToDestroy();
		}
	});
}
