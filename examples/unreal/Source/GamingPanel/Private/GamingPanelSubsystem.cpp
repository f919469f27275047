// Gaming Panel Unreal example: session handling and player calls.
#include "GamingPanelSubsystem.h"
#include "GamingPanelModule.h"
#include "GamingPanelSettings.h"
#include "Engine/Engine.h"
#include "Engine/GameInstance.h"
#include "Engine/World.h"
#include "Misc/FileHelper.h"
#include "Misc/Guid.h"
#include "Misc/Paths.h"
#include "Misc/SecureHash.h"

/** One authorised call on its way: kept together so retries resend exactly the same request. */
struct UGamingPanelSubsystem::FCall
{
	FString Verb;
	FString Path;
	TSharedPtr<FJsonObject> Body;
	TMap<FString, FString> Headers;
	bool bRetrySafe = false;
	int32 TransientAttempts = 0;
	FGamingPanelResponseCallback OnComplete;
};

UGamingPanelSubsystem* UGamingPanelSubsystem::Get(const UObject* WorldContextObject)
{
	const UWorld* World = GEngine ? GEngine->GetWorldFromContextObject(WorldContextObject, EGetWorldErrorMode::LogAndReturnNull) : nullptr;
	const UGameInstance* GameInstance = World ? World->GetGameInstance() : nullptr;
	return GameInstance ? GameInstance->GetSubsystem<UGamingPanelSubsystem>() : nullptr;
}

void UGamingPanelSubsystem::Initialize(FSubsystemCollectionBase& Collection)
{
	Super::Initialize(Collection);
	LoadState();
	// Refresh shortly before expiry even when the game makes no calls for a while (long matches, menus).
	RefreshTickerHandle = FTSTicker::GetCoreTicker().AddTicker(
		FTickerDelegate::CreateUObject(this, &UGamingPanelSubsystem::TickRefresh), 30.f);
}

void UGamingPanelSubsystem::Deinitialize()
{
	FTSTicker::GetCoreTicker().RemoveTicker(RefreshTickerHandle);
	Super::Deinitialize();
}

FString UGamingPanelSubsystem::Url(const FString& Path) const
{
	return FGamingPanelHttp::JoinUrl(GetDefault<UGamingPanelSettings>()->BaseUrl, Path);
}

// ------------------------------------------------------------------------------------------------ login

void UGamingPanelSubsystem::Login(TSharedPtr<IGamingPanelCredentialProvider> Provider, FOnLogin OnComplete)
{
	if (!Provider.IsValid())
	{
		OnComplete(false, FGamingPanelLoginResult(), FGamingPanelError::Make(0, GamingPanelErrorCodes::CredentialsUnavailable, TEXT("No credential provider.")));
		return;
	}
	CredentialProvider = Provider;
	LoginWaiters.Add(MoveTemp(OnComplete));
	if (bLoginInFlight)
	{
		return; // joins the login already running
	}
	bLoginInFlight = true;

	TWeakObjectPtr<UGamingPanelSubsystem> WeakThis(this);
	auto FinishLogin = [WeakThis](bool bOk, const FGamingPanelLoginResult& Result, const FGamingPanelError& Error)
	{
		if (UGamingPanelSubsystem* Self = WeakThis.Get())
		{
			Self->bLoginInFlight = false;
			TArray<FOnLogin> Waiters = MoveTemp(Self->LoginWaiters);
			Self->LoginWaiters.Reset();
			for (FOnLogin& Waiter : Waiters)
			{
				Waiter(bOk, Result, Error);
			}
		}
	};

	Provider->GetCredentials([WeakThis, Provider, FinishLogin](bool bOk, TSharedPtr<FJsonObject> Credentials, const FGamingPanelError& Error)
	{
		UGamingPanelSubsystem* Self = WeakThis.Get();
		if (Self == nullptr)
		{
			return;
		}
		if (!bOk)
		{
			FinishLogin(false, FGamingPanelLoginResult(), Error);
			return;
		}

		TSharedPtr<FJsonObject> Body = MakeShared<FJsonObject>();
		Body->SetStringField(TEXT("platform"), Provider->GetPlatform());
		Body->SetObjectField(TEXT("credentials"), Credentials);
		TMap<FString, FString> Headers;
		Headers.Add(TEXT("X-Game-Key"), GetDefault<UGamingPanelSettings>()->GameKey);

		// Never retried automatically: platform tickets and codes are single-use.
		FGamingPanelHttp::Send(TEXT("POST"), Self->Url(TEXT("auth/third-party/login")), Headers, Body,
			GetDefault<UGamingPanelSettings>()->RequestTimeoutSeconds,
			[WeakThis, Provider, FinishLogin](const FGamingPanelResponse& Response)
			{
				Provider->OnLoginFinished();
				UGamingPanelSubsystem* Self = WeakThis.Get();
				if (Self == nullptr)
				{
					return;
				}
				const TSharedPtr<FJsonObject> Json = Response.JsonObject();
				if (!Response.bOk || !Json.IsValid())
				{
					FGamingPanelError Error = Response.bOk
						? FGamingPanelError::Make(Response.Status, GamingPanelErrorCodes::InvalidResponse, TEXT("The login response is not an object."))
						: Response.Error;
					UE_LOG(LogGamingPanel, Warning, TEXT("Login failed: %s"), *Error.ToString());
					FinishLogin(false, FGamingPanelLoginResult(), Error);
					return;
				}
				Self->ApplyTokens(*Json);
				FGamingPanelLoginResult Result;
				Result.PlayerId = Self->PlayerId;
				Result.DisplayName = Self->DisplayName;
				if (const TSharedPtr<FJsonObject> Player = GamingPanelJson::GetObject(*Json, TEXT("player")))
				{
					Result.bCreated = GamingPanelJson::GetBool(*Player, TEXT("created"));
				}
				UE_LOG(LogGamingPanel, Log, TEXT("Logged in as %s"), *Result.DisplayName);
				FinishLogin(true, Result, FGamingPanelError());
			});
	});
}

void UGamingPanelSubsystem::ResumeSession(FOnLogin OnComplete)
{
	if (!HasSession())
	{
		OnComplete(false, FGamingPanelLoginResult(), FGamingPanelError::Make(401, GamingPanelErrorCodes::NotLoggedIn, TEXT("No saved session.")));
		return;
	}
	TWeakObjectPtr<UGamingPanelSubsystem> WeakThis(this);
	GetAccessToken([WeakThis, OnComplete](bool bOk, const FString& /*Token*/, const FGamingPanelError& Error)
	{
		const UGamingPanelSubsystem* Self = WeakThis.Get();
		FGamingPanelLoginResult Result;
		if (Self != nullptr)
		{
			Result.PlayerId = Self->PlayerId;
			Result.DisplayName = Self->DisplayName;
		}
		// Offline with a saved session is still a session: play from what the game has.
		const bool bUsable = Self != nullptr && (bOk || (Error.IsTransient() && Self->HasSession()));
		OnComplete(bUsable, Result, bUsable ? FGamingPanelError() : Error);
	});
}

void UGamingPanelSubsystem::Logout()
{
	const FString Token = AccessToken;
	const bool bTokenAlive = !Token.IsEmpty() && FDateTime::UtcNow() < AccessExpiresAt;
	CredentialProvider.Reset(); // logging out means: do not log back in silently
	ClearSession();
	if (bTokenAlive)
	{
		TMap<FString, FString> Headers;
		Headers.Add(TEXT("Authorization"), FString::Printf(TEXT("Bearer %s"), *Token));
		FGamingPanelHttp::Send(TEXT("POST"), Url(TEXT("auth/logout")), Headers, nullptr,
			GetDefault<UGamingPanelSettings>()->RequestTimeoutSeconds,
			[](const FGamingPanelResponse& Response)
			{
				if (!Response.bOk)
				{
					UE_LOG(LogGamingPanel, Log, TEXT("Logout not confirmed by the server (%s); local session cleared anyway."), *Response.Error.Code);
				}
			});
	}
}

// ------------------------------------------------------------------------------------------------ tokens

bool UGamingPanelSubsystem::IsRefreshDue() const
{
	const float Margin = GetDefault<UGamingPanelSettings>()->RefreshMarginSeconds;
	return HasSession() && FDateTime::UtcNow() >= AccessExpiresAt - FTimespan::FromSeconds(Margin);
}

bool UGamingPanelSubsystem::TickRefresh(float /*DeltaSeconds*/)
{
	if (IsRefreshDue() && !bRefreshInFlight)
	{
		Refresh([](bool bOk, const FGamingPanelError& Error)
		{
			if (!bOk)
			{
				UE_LOG(LogGamingPanel, Log, TEXT("Background token refresh failed (%s)."), *Error.Code);
			}
		});
	}
	return true; // keep ticking
}

void UGamingPanelSubsystem::GetAccessToken(FOnAccessToken OnComplete)
{
	if (!HasSession())
	{
		if (!CredentialProvider.IsValid())
		{
			OnComplete(false, FString(), FGamingPanelError::Make(401, GamingPanelErrorCodes::NotLoggedIn, TEXT("Log in first.")));
			return;
		}
		TWeakObjectPtr<UGamingPanelSubsystem> WeakThis(this);
		Login(CredentialProvider, [WeakThis, OnComplete](bool bOk, const FGamingPanelLoginResult&, const FGamingPanelError& Error)
		{
			const UGamingPanelSubsystem* Self = WeakThis.Get();
			OnComplete(bOk && Self != nullptr, Self != nullptr ? Self->AccessToken : FString(), Error);
		});
		return;
	}
	if (!IsRefreshDue())
	{
		OnComplete(true, AccessToken, FGamingPanelError());
		return;
	}

	const FString Current = AccessToken;
	const FDateTime CurrentExpiry = AccessExpiresAt;
	TWeakObjectPtr<UGamingPanelSubsystem> WeakThis(this);
	Refresh([WeakThis, OnComplete, Current, CurrentExpiry](bool bOk, const FGamingPanelError& Error)
	{
		const UGamingPanelSubsystem* Self = WeakThis.Get();
		if (Self == nullptr)
		{
			return;
		}
		if (bOk)
		{
			OnComplete(true, Self->AccessToken, FGamingPanelError());
		}
		else if (Error.IsTransient() && Self->AccessToken == Current && FDateTime::UtcNow() < CurrentExpiry)
		{
			OnComplete(true, Current, FGamingPanelError()); // server unreachable, but the token still works for a while
		}
		else
		{
			OnComplete(false, FString(), Error);
		}
	});
}

void UGamingPanelSubsystem::Refresh(FOnDone OnComplete)
{
	RefreshWaiters.Add(MoveTemp(OnComplete));
	if (bRefreshInFlight)
	{
		return; // refresh tokens rotate: never two refreshes with the same token
	}
	if (!HasSession())
	{
		FinishRefresh(false, FGamingPanelError::Make(401, GamingPanelErrorCodes::NotLoggedIn, TEXT("No session to refresh.")));
		return;
	}
	bRefreshInFlight = true;

	TSharedPtr<FJsonObject> Body = MakeShared<FJsonObject>();
	Body->SetStringField(TEXT("refresh_token"), RefreshToken);
	TWeakObjectPtr<UGamingPanelSubsystem> WeakThis(this);
	FGamingPanelHttp::Send(TEXT("POST"), Url(TEXT("auth/refresh")), TMap<FString, FString>(), Body,
		GetDefault<UGamingPanelSettings>()->RequestTimeoutSeconds,
		[WeakThis](const FGamingPanelResponse& Response)
		{
			UGamingPanelSubsystem* Self = WeakThis.Get();
			if (Self == nullptr)
			{
				return;
			}
			const TSharedPtr<FJsonObject> Json = Response.JsonObject();
			if (Response.bOk && Json.IsValid())
			{
				Self->ApplyTokens(*Json);
				Self->FinishRefresh(true, FGamingPanelError());
				return;
			}
			if (!Response.bOk && Response.Error.IsTransient())
			{
				// Offline, rate limited, server trouble: keep the session and try again later.
				Self->FinishRefresh(false, Response.Error);
				return;
			}

			// The server refused the refresh token (expired, revoked, reused, banned): the session is over.
			const FGamingPanelError Refused = Response.bOk
				? FGamingPanelError::Make(Response.Status, GamingPanelErrorCodes::InvalidResponse, TEXT("The refresh response is not an object."))
				: Response.Error;
			UE_LOG(LogGamingPanel, Log, TEXT("Refresh token refused (%s)."), *Refused.Code);
			Self->ClearSession();
			if (!Self->CredentialProvider.IsValid())
			{
				Self->LoseSession(Refused);
				Self->FinishRefresh(false, Refused);
				return;
			}
			Self->Login(Self->CredentialProvider, [WeakThis](bool bOk, const FGamingPanelLoginResult&, const FGamingPanelError& LoginError)
			{
				if (UGamingPanelSubsystem* Inner = WeakThis.Get())
				{
					if (!bOk && !LoginError.IsTransient())
					{
						Inner->LoseSession(LoginError);
					}
					Inner->FinishRefresh(bOk, LoginError);
				}
			});
		});
}

void UGamingPanelSubsystem::FinishRefresh(bool bOk, const FGamingPanelError& Error)
{
	bRefreshInFlight = false;
	TArray<FOnDone> Waiters = MoveTemp(RefreshWaiters);
	RefreshWaiters.Reset();
	for (FOnDone& Waiter : Waiters)
	{
		Waiter(bOk, Error);
	}
}

void UGamingPanelSubsystem::RecoverFromUnauthorized(const FString& FailedAccessToken, FOnAccessToken OnComplete)
{
	// Another call already replaced the token that failed: use the new one, no second refresh.
	if (HasSession() && AccessToken != FailedAccessToken)
	{
		OnComplete(true, AccessToken, FGamingPanelError());
		return;
	}
	if (!HasSession())
	{
		GetAccessToken(MoveTemp(OnComplete)); // logs in again if a provider is set
		return;
	}
	TWeakObjectPtr<UGamingPanelSubsystem> WeakThis(this);
	Refresh([WeakThis, OnComplete](bool bOk, const FGamingPanelError& Error)
	{
		const UGamingPanelSubsystem* Self = WeakThis.Get();
		OnComplete(bOk && Self != nullptr, Self != nullptr ? Self->AccessToken : FString(), Error);
	});
}

void UGamingPanelSubsystem::ApplyTokens(const FJsonObject& Json)
{
	// Expiry from the server's durations, not timestamps: a wrong device clock cannot break it.
	const FDateTime Now = FDateTime::UtcNow();
	AccessToken = GamingPanelJson::GetString(Json, TEXT("access_token"));
	RefreshToken = GamingPanelJson::GetString(Json, TEXT("refresh_token"));
	AccessExpiresAt = Now + FTimespan::FromSeconds(static_cast<double>(GamingPanelJson::GetInt(Json, TEXT("expires_in"), 7200)));
	RefreshExpiresAt = Now + FTimespan::FromSeconds(static_cast<double>(GamingPanelJson::GetInt(Json, TEXT("refresh_expires_in"), 2592000)));
	if (const TSharedPtr<FJsonObject> Player = GamingPanelJson::GetObject(Json, TEXT("player")))
	{
		PlayerId = GamingPanelJson::GetId(*Player, TEXT("id"));
		DisplayName = GamingPanelJson::GetString(*Player, TEXT("display_name"));
	}
	SaveState(); // at once: the old refresh token is dead, losing the new one would end the session
}

void UGamingPanelSubsystem::ClearSession()
{
	AccessToken.Reset();
	RefreshToken.Reset();
	AccessExpiresAt = FDateTime();
	RefreshExpiresAt = FDateTime();
	SaveState();
}

void UGamingPanelSubsystem::LoseSession(const FGamingPanelError& Error)
{
	UE_LOG(LogGamingPanel, Warning, TEXT("Session lost (%s): the player must log in again."), *Error.Code);
	OnSessionLost.Broadcast(Error);
}

// ------------------------------------------------------------------------------------------------ authorised calls

void UGamingPanelSubsystem::SendAuthorized(const FString& Verb, const FString& Path, TSharedPtr<FJsonObject> Body,
	const TMap<FString, FString>& ExtraHeaders, bool bRetrySafe, FGamingPanelResponseCallback OnComplete)
{
	TSharedRef<FCall> Call = MakeShared<FCall>();
	Call->Verb = Verb;
	Call->Path = Path;
	Call->Body = Body;
	Call->Headers = ExtraHeaders;
	Call->bRetrySafe = bRetrySafe;
	Call->OnComplete = MoveTemp(OnComplete);
	StartCall(Call);
}

void UGamingPanelSubsystem::StartCall(TSharedRef<FCall> Call)
{
	TWeakObjectPtr<UGamingPanelSubsystem> WeakThis(this);
	GetAccessToken([WeakThis, Call](bool bOk, const FString& Token, const FGamingPanelError& Error)
	{
		UGamingPanelSubsystem* Self = WeakThis.Get();
		if (Self == nullptr)
		{
			return;
		}
		if (!bOk)
		{
			Self->FinishCall(Call, FGamingPanelResponse::Failure(Error));
			return;
		}
		Self->SendWithToken(Call, Token, true);
	});
}

void UGamingPanelSubsystem::SendWithToken(TSharedRef<FCall> Call, const FString& Token, bool bMayRecover)
{
	TMap<FString, FString> Headers = Call->Headers;
	Headers.Add(TEXT("Authorization"), FString::Printf(TEXT("Bearer %s"), *Token));
	TWeakObjectPtr<UGamingPanelSubsystem> WeakThis(this);
	FGamingPanelHttp::Send(Call->Verb, Url(Call->Path), Headers, Call->Body, GetDefault<UGamingPanelSettings>()->RequestTimeoutSeconds,
		[WeakThis, Call, Token, bMayRecover](const FGamingPanelResponse& Response)
		{
			UGamingPanelSubsystem* Self = WeakThis.Get();
			if (Self == nullptr)
			{
				return;
			}
			// invalid_token too: e.g. the server rotated its token keys; a refresh fixes that as well.
			const bool bTokenProblem = Response.Status == 401 &&
				(Response.Error.Code == GamingPanelErrorCodes::TokenExpired || Response.Error.Code == GamingPanelErrorCodes::TokenRevoked ||
				 Response.Error.Code == GamingPanelErrorCodes::InvalidToken);
			if (!bTokenProblem || !bMayRecover)
			{
				Self->FinishCall(Call, Response);
				return;
			}
			// The token died early (clock skew, session revoked elsewhere): renew it and retry exactly once.
			UE_LOG(LogGamingPanel, Log, TEXT("%s on %s; renewing the session and retrying once."), *Response.Error.Code, *Call->Path);
			Self->RecoverFromUnauthorized(Token, [WeakThis, Call](bool bOk, const FString& NewToken, const FGamingPanelError& Error)
			{
				UGamingPanelSubsystem* Inner = WeakThis.Get();
				if (Inner == nullptr)
				{
					return;
				}
				if (!bOk)
				{
					Inner->FinishCall(Call, FGamingPanelResponse::Failure(Error));
					return;
				}
				Inner->SendWithToken(Call, NewToken, false);
			});
		});
}

void UGamingPanelSubsystem::FinishCall(TSharedRef<FCall> Call, const FGamingPanelResponse& Response)
{
	const int32 MaxRetries = GetDefault<UGamingPanelSettings>()->MaxTransientRetries;
	if (!Response.bOk && Call->bRetrySafe && Response.Error.IsTransient() && Call->TransientAttempts < MaxRetries)
	{
		const float Wait = FGamingPanelHttp::RetryDelaySeconds(Response.Error, Call->TransientAttempts);
		if (Wait <= 30.f)
		{
			Call->TransientAttempts++;
			TWeakObjectPtr<UGamingPanelSubsystem> WeakThis(this);
			FGamingPanelHttp::Delay(Wait, [WeakThis, Call]()
			{
				if (UGamingPanelSubsystem* Self = WeakThis.Get())
				{
					Self->StartCall(Call); // same body, same headers: the same Idempotency-Key
				}
			});
			return;
		}
	}
	Call->OnComplete(Response);
}

// ------------------------------------------------------------------------------------------------ game data

void UGamingPanelSubsystem::GetPlayerStats(FOnStats OnComplete)
{
	SendAuthorized(TEXT("GET"), TEXT("player/stats"), nullptr, TMap<FString, FString>(), true,
		[OnComplete](const FGamingPanelResponse& Response)
		{
			const TSharedPtr<FJsonObject> Json = Response.JsonObject();
			if (!Response.bOk || !Json.IsValid())
			{
				OnComplete(false, FGamingPanelPlayerStats(), Response.bOk
					? FGamingPanelError::Make(Response.Status, GamingPanelErrorCodes::InvalidResponse, TEXT("Expected an object.")) : Response.Error);
				return;
			}
			OnComplete(true, FGamingPanelPlayerStats::FromJson(*Json), FGamingPanelError());
		});
}

void UGamingPanelSubsystem::GetInventory(FOnInventory OnComplete)
{
	SendAuthorized(TEXT("GET"), TEXT("player/inventory"), nullptr, TMap<FString, FString>(), true,
		[OnComplete](const FGamingPanelResponse& Response)
		{
			const TSharedPtr<FJsonObject> Json = Response.JsonObject();
			if (!Response.bOk || !Json.IsValid())
			{
				OnComplete(false, FGamingPanelInventory(), Response.bOk
					? FGamingPanelError::Make(Response.Status, GamingPanelErrorCodes::InvalidResponse, TEXT("Expected an object.")) : Response.Error);
				return;
			}
			OnComplete(true, FGamingPanelInventory::FromJson(*Json), FGamingPanelError());
		});
}

// ------------------------------------------------------------------------------------------------ leaderboards

void UGamingPanelSubsystem::GetLeaderboards(FGamingPanelResponseCallback OnComplete)
{
	SendAuthorized(TEXT("GET"), TEXT("leaderboards"), nullptr, TMap<FString, FString>(), true, OnComplete);
}

void UGamingPanelSubsystem::GetLeaderboardTop(const FString& Slug, int32 Limit, const FString& Cursor, FGamingPanelResponseCallback OnComplete)
{
	// Slugs and cursors use only URL-safe characters (letters, digits, "-", "_").
	FString Path = FString::Printf(TEXT("leaderboards/%s?limit=%d"), *Slug, Limit);
	if (!Cursor.IsEmpty())
	{
		Path += FString::Printf(TEXT("&cursor=%s"), *Cursor);
	}
	SendAuthorized(TEXT("GET"), Path, nullptr, TMap<FString, FString>(), true, OnComplete);
}

void UGamingPanelSubsystem::GetLeaderboardAroundMe(const FString& Slug, int32 Radius, FGamingPanelResponseCallback OnComplete)
{
	SendAuthorized(TEXT("GET"), FString::Printf(TEXT("leaderboards/%s/around-me?radius=%d"), *Slug, Radius), nullptr,
		TMap<FString, FString>(), true, OnComplete);
}

void UGamingPanelSubsystem::GetLeaderboardPlayer(const FString& Slug, const FString& InPlayerId, FGamingPanelResponseCallback OnComplete)
{
	SendAuthorized(TEXT("GET"), FString::Printf(TEXT("leaderboards/%s/players/%s"), *Slug, *InPlayerId), nullptr,
		TMap<FString, FString>(), true, OnComplete);
}

void UGamingPanelSubsystem::GetLeaderboardPeriods(const FString& Slug, int32 Limit, int32 Before, FGamingPanelResponseCallback OnComplete)
{
	FString Path = FString::Printf(TEXT("leaderboards/%s/periods?limit=%d"), *Slug, Limit);
	if (Before > 0)
	{
		Path += FString::Printf(TEXT("&before=%d"), Before);
	}
	SendAuthorized(TEXT("GET"), Path, nullptr, TMap<FString, FString>(), true, OnComplete);
}

void UGamingPanelSubsystem::GetLeaderboardStandings(const FString& Slug, int32 Period, int32 Limit, const FString& Cursor, FGamingPanelResponseCallback OnComplete)
{
	FString Path = FString::Printf(TEXT("leaderboards/%s/periods/%d?limit=%d"), *Slug, Period, Limit);
	if (!Cursor.IsEmpty())
	{
		Path += FString::Printf(TEXT("&cursor=%s"), *Cursor);
	}
	SendAuthorized(TEXT("GET"), Path, nullptr, TMap<FString, FString>(), true, OnComplete);
}

void UGamingPanelSubsystem::SubmitMyScore(const FString& Slug, const FString& SubmissionId, int64 Score, TSharedPtr<FJsonObject> Metadata, FGamingPanelResponseCallback OnComplete)
{
	TSharedPtr<FJsonObject> Body = MakeShared<FJsonObject>();
	Body->SetStringField(TEXT("submission_id"), SubmissionId);
	Body->SetNumberField(TEXT("score"), static_cast<double>(Score));  // exact up to 2^53, the API allows 10^15
	if (Metadata.IsValid())
	{
		Body->SetObjectField(TEXT("metadata"), Metadata);
	}
	SendAuthorized(TEXT("POST"), FString::Printf(TEXT("leaderboards/%s/my-score"), *Slug), Body,
		TMap<FString, FString>(), true, OnComplete);
}

FString UGamingPanelSubsystem::PendingPurchaseSlot(const FString& OfferId, int32 Quantity) const
{
	return FString::Printf(TEXT("%s|%s|%d"), *PlayerId, *OfferId, Quantity);
}

void UGamingPanelSubsystem::Purchase(const FString& OfferId, int32 Quantity, FOnPurchase OnComplete)
{
	if (OfferId.IsEmpty() || Quantity < 1)
	{
		OnComplete(false, FGamingPanelPurchaseResult(), FGamingPanelError::Make(400, GamingPanelErrorCodes::ValidationError, TEXT("An offer id and a quantity of at least 1 are required.")));
		return;
	}
	if (!HasSession())
	{
		OnComplete(false, FGamingPanelPurchaseResult(), FGamingPanelError::Make(401, GamingPanelErrorCodes::NotLoggedIn, TEXT("Log in before buying.")));
		return;
	}

	// Continue an unresolved identical attempt, or start a new one; either way the key is on disk first.
	const FString Slot = PendingPurchaseSlot(OfferId, Quantity);
	FString Key;
	if (const FString* Existing = PendingPurchaseKeys.Find(Slot))
	{
		Key = *Existing;
	}
	else
	{
		Key = FGuid::NewGuid().ToString(EGuidFormats::DigitsWithHyphens).ToLower();
		PendingPurchaseKeys.Add(Slot, Key);
		SaveState();
	}

	TSharedPtr<FJsonObject> Body = MakeShared<FJsonObject>();
	GamingPanelJson::SetId(*Body, TEXT("offer_id"), OfferId);
	Body->SetNumberField(TEXT("quantity"), Quantity);
	TMap<FString, FString> Headers;
	Headers.Add(TEXT("Idempotency-Key"), Key);

	TWeakObjectPtr<UGamingPanelSubsystem> WeakThis(this);
	SendAuthorized(TEXT("POST"), TEXT("shop/purchase"), Body, Headers, true,
		[WeakThis, Slot, Key, OnComplete](const FGamingPanelResponse& Response)
		{
			UGamingPanelSubsystem* Self = WeakThis.Get();
			const TSharedPtr<FJsonObject> Json = Response.JsonObject();
			if (Response.bOk && Json.IsValid())
			{
				if (Self != nullptr)
				{
					Self->PendingPurchaseKeys.Remove(Slot);
					Self->SaveState();
				}
				OnComplete(true, FGamingPanelPurchaseResult::FromJson(Response.Status, *Json, Key), FGamingPanelError());
				return;
			}
			// A 4xx about the purchase itself is final (insufficient_funds, validation_error, idempotency_key_reused).
			// No answer, 429, 5xx, 401/403: the server may or may not have done it, so keep the key for the next try.
			const int32 Status = Response.Status;
			const bool bDefinitive = Status >= 400 && Status < 500 && Status != 401 && Status != 403 && Status != 429;
			if (bDefinitive && Self != nullptr)
			{
				Self->PendingPurchaseKeys.Remove(Slot);
				Self->SaveState();
			}
			OnComplete(false, FGamingPanelPurchaseResult(), Response.bOk
				? FGamingPanelError::Make(Status, GamingPanelErrorCodes::InvalidResponse, TEXT("Expected an object.")) : Response.Error);
		});
}

void UGamingPanelSubsystem::RedeemReceipt(const FString& Provider, const FString& OfferId, TSharedPtr<FJsonValue> Receipt, FOnPurchase OnComplete)
{
	if ((Provider != TEXT("apple") && Provider != TEXT("google_play")) || OfferId.IsEmpty() || !Receipt.IsValid())
	{
		OnComplete(false, FGamingPanelPurchaseResult(), FGamingPanelError::Make(400, GamingPanelErrorCodes::ValidationError, TEXT("A provider (apple or google_play), an offer id and a receipt are required.")));
		return;
	}
	if (!HasSession())
	{
		OnComplete(false, FGamingPanelPurchaseResult(), FGamingPanelError::Make(401, GamingPanelErrorCodes::NotLoggedIn, TEXT("Log in before redeeming.")));
		return;
	}
	TSharedPtr<FJsonObject> Body = MakeShared<FJsonObject>();
	Body->SetStringField(TEXT("provider"), Provider);
	GamingPanelJson::SetId(*Body, TEXT("offer_id"), OfferId);
	Body->SetField(TEXT("receipt"), Receipt);
	// The server grants a store transaction once: repeating the request is safe.
	SendAuthorized(TEXT("POST"), TEXT("shop/receipts"), Body, TMap<FString, FString>(), true,
		[OnComplete](const FGamingPanelResponse& Response)
		{
			const TSharedPtr<FJsonObject> Json = Response.JsonObject();
			if (Response.bOk && Json.IsValid())
			{
				OnComplete(true, FGamingPanelPurchaseResult::FromJson(Response.Status, *Json, FString()), FGamingPanelError());
				return;
			}
			OnComplete(false, FGamingPanelPurchaseResult(), Response.bOk
				? FGamingPanelError::Make(Response.Status, GamingPanelErrorCodes::InvalidResponse, TEXT("Expected an object.")) : Response.Error);
		});
}

FString UGamingPanelSubsystem::GetStoreAccountToken() const
{
	return PlayerId.IsEmpty() ? FString() : GamingPanelStore::AccountTokenFor(PlayerId);
}

TSharedPtr<FJsonValue> GamingPanelStoreReceipts::AppleSignedTransaction(const FString& JwsRepresentation)
{
	return MakeShared<FJsonValueString>(JwsRepresentation);
}

TSharedPtr<FJsonValue> GamingPanelStoreReceipts::AppleTransactionId(const FString& TransactionIdentifier)
{
	TSharedPtr<FJsonObject> Receipt = MakeShared<FJsonObject>();
	Receipt->SetStringField(TEXT("transaction_id"), TransactionIdentifier);
	return MakeShared<FJsonValueObject>(Receipt);
}

TSharedPtr<FJsonValue> GamingPanelStoreReceipts::GooglePlayPurchaseToken(const FString& PurchaseToken)
{
	TSharedPtr<FJsonObject> Receipt = MakeShared<FJsonObject>();
	Receipt->SetStringField(TEXT("purchase_token"), PurchaseToken);
	return MakeShared<FJsonValueObject>(Receipt);
}

// ------------------------------------------------------------------------------------------------ persistence

FString UGamingPanelSubsystem::StateFilePath() const
{
	// One file per game key, so a dev and a live backend (or two games) never share a session.
	const FString GameKeyHash = FMD5::HashAnsiString(*GetDefault<UGamingPanelSettings>()->GameKey).Left(12);
	return FPaths::Combine(FPaths::ProjectSavedDir(), TEXT("GamingPanel"), FString::Printf(TEXT("Session-%s.json"), *GameKeyHash));
}

void UGamingPanelSubsystem::SaveState() const
{
	if (!GetDefault<UGamingPanelSettings>()->bPersistSession)
	{
		return;
	}
	// Plain JSON under Saved/: fine for development. Shipping builds should encrypt this or keep the refresh
	// token in the platform's secure store (Windows DPAPI / Credential Manager, macOS/iOS Keychain, Android
	// Keystore, console save-data APIs): it is a 30-day key to the player's account.
	TSharedRef<FJsonObject> State = MakeShared<FJsonObject>();
	if (HasSession())
	{
		State->SetStringField(TEXT("access_token"), AccessToken);
		State->SetStringField(TEXT("refresh_token"), RefreshToken);
		State->SetNumberField(TEXT("access_expires_at"), static_cast<double>(AccessExpiresAt.ToUnixTimestamp()));
		State->SetNumberField(TEXT("refresh_expires_at"), static_cast<double>(RefreshExpiresAt.ToUnixTimestamp()));
		State->SetStringField(TEXT("player_id"), PlayerId);
		State->SetStringField(TEXT("display_name"), DisplayName);
	}
	TSharedRef<FJsonObject> Pending = MakeShared<FJsonObject>();
	for (const TPair<FString, FString>& Entry : PendingPurchaseKeys)
	{
		Pending->SetStringField(Entry.Key, Entry.Value);
	}
	State->SetObjectField(TEXT("pending_purchases"), Pending);
	if (!FFileHelper::SaveStringToFile(FGamingPanelHttp::ToJsonString(State), *StateFilePath()))
	{
		UE_LOG(LogGamingPanel, Warning, TEXT("Could not save the Gaming Panel session."));
	}
}

void UGamingPanelSubsystem::LoadState()
{
	FString Text;
	if (!GetDefault<UGamingPanelSettings>()->bPersistSession || !FFileHelper::LoadFileToString(Text, *StateFilePath()))
	{
		return;
	}
	const TSharedPtr<FJsonValue> Parsed = FGamingPanelHttp::ParseJson(Text);
	const TSharedPtr<FJsonObject> State = Parsed.IsValid() ? Parsed->AsObject() : nullptr;
	if (!State.IsValid())
	{
		return;
	}
	RefreshExpiresAt = FDateTime::FromUnixTimestamp(GamingPanelJson::GetInt(*State, TEXT("refresh_expires_at")));
	if (FDateTime::UtcNow() < RefreshExpiresAt)
	{
		AccessToken = GamingPanelJson::GetString(*State, TEXT("access_token"));
		RefreshToken = GamingPanelJson::GetString(*State, TEXT("refresh_token"));
		AccessExpiresAt = FDateTime::FromUnixTimestamp(GamingPanelJson::GetInt(*State, TEXT("access_expires_at")));
		PlayerId = GamingPanelJson::GetString(*State, TEXT("player_id"));
		DisplayName = GamingPanelJson::GetString(*State, TEXT("display_name"));
	}
	if (const TSharedPtr<FJsonObject> Pending = GamingPanelJson::GetObject(*State, TEXT("pending_purchases")))
	{
		for (const TPair<FString, TSharedPtr<FJsonValue>>& Entry : Pending->Values)
		{
			PendingPurchaseKeys.Add(Entry.Key, GamingPanelJson::ValueToString(Entry.Value));
		}
	}
}
