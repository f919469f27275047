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
	if (ServerKey.IsEmpty())
	{
		OnComplete(FGamingPanelResponse::Failure(FGamingPanelError::Make(0, TEXT("server_key_missing"), TEXT("No server key configured."))));
		return;
	}
	const UGamingPanelSettings* Settings = GetDefault<UGamingPanelSettings>();
	TMap<FString, FString> Headers;
	Headers.Add(TEXT("X-Server-Key"), ServerKey);
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
	TickHeartbeat(0.f); // register now, then every interval
	HeartbeatHandle = FTSTicker::GetCoreTicker().AddTicker(
		FTickerDelegate::CreateUObject(this, &UGamingPanelServerSubsystem::TickHeartbeat), FMath::Max(5.f, IntervalSeconds));
}

void UGamingPanelServerSubsystem::StopHeartbeat()
{
	FTSTicker::GetCoreTicker().RemoveTicker(HeartbeatHandle);
	HeartbeatHandle.Reset();
}

bool UGamingPanelServerSubsystem::TickHeartbeat(float /*DeltaSeconds*/)
{
	Post(TEXT("multiplayer/servers/heartbeat"), HeartbeatStatus.ToJson(), 0, [](const FGamingPanelResponse& Response)
	{
		if (!Response.bOk)
		{
			UE_LOG(LogGamingPanel, Warning, TEXT("Heartbeat failed: %s"), *Response.Error.Code);
		}
	});
	return true;
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
