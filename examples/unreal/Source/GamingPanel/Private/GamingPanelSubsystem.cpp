// Gaming Panel Unreal example: session handling and player calls.
#include "GamingPanelSubsystem.h"
#include "GamingPanelAnalytics.h"
#include "GamingPanelModule.h"
#include "GamingPanelSettings.h"
#include "Engine/Engine.h"
#include "Engine/GameInstance.h"
#include "Engine/World.h"
#include "HAL/PlatformTime.h"
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
	/** The player logged in when the call was made (empty: nobody): every send, retries and the resend after a 401
	 *  included, goes with that player's token or not at all. */
	FString PinnedPlayerId;
	FGamingPanelResponseCallback OnComplete;
};

namespace
{
	/** A login or refresh answer that holds both tokens; anything else (a proxy's page, an empty object) changes nothing. */
	bool HasTokenPair(const FJsonObject& Json)
	{
		return !GamingPanelJson::GetString(Json, TEXT("access_token")).IsEmpty()
			&& !GamingPanelJson::GetString(Json, TEXT("refresh_token")).IsEmpty();
	}

	FGamingPanelError SessionEnded(const TCHAR* Detail)
	{
		return FGamingPanelError::Make(401, GamingPanelErrorCodes::NotLoggedIn, Detail);
	}

	/** After the panel confirmed the deletion of the player's account: everything kept for them is wiped, nobody is logged in. */
	FGamingPanelError AccountDeleted()
	{
		return SessionEnded(TEXT("The player's account was deleted (the panel confirmed a DELETE player that went out earlier); its data on this device is wiped."));
	}
}

UGamingPanelSubsystem* UGamingPanelSubsystem::Get(const UObject* WorldContextObject)
{
	const UWorld* World = GEngine ? GEngine->GetWorldFromContextObject(WorldContextObject, EGetWorldErrorMode::LogAndReturnNull) : nullptr;
	const UGameInstance* GameInstance = World ? World->GetGameInstance() : nullptr;
	return GameInstance ? GameInstance->GetSubsystem<UGamingPanelSubsystem>() : nullptr;
}

void UGamingPanelSubsystem::Initialize(FSubsystemCollectionBase& Collection)
{
	Super::Initialize(Collection);
	TWeakObjectPtr<UGamingPanelSubsystem> WeakThis(this);
	TokenRefresh = MakeShared<FGamingPanelTokenRefresh>(
		[WeakThis](const FString& Token, FGamingPanelTokenRefresh::FOnAnswer OnAnswer)
		{
			if (UGamingPanelSubsystem* Self = WeakThis.Get())
			{
				Self->SendRefresh(Token, MoveTemp(OnAnswer));
			}
		},
		[WeakThis](float Seconds, TFunction<void()> Then)
		{
			FGamingPanelHttp::Delay(Seconds, [WeakThis, Then]()
			{
				if (WeakThis.Get() != nullptr)
				{
					Then(); // the subsystem, and TokenRefresh with it, is still there
				}
			});
		},
		[]() { return FPlatformTime::Seconds(); });
	AccountDeletion = MakeShared<FGamingPanelAccountDeletion>(
		[WeakThis](const FGamingPanelAccountRequest& Request, FGamingPanelAccountDeletion::FOnAnswer OnAnswer)
		{
			UGamingPanelSubsystem* Self = WeakThis.Get();
			if (Self == nullptr)
			{
				return;
			}
			TMap<FString, FString> Headers;
			Headers.Add(TEXT("Authorization"), FString::Printf(TEXT("Bearer %s"), *Request.AccessToken));
			// The DELETE has none (its confirmation is in the query string): then no body and no Content-Type go out.
			TSharedPtr<FJsonObject> Body;
			if (!Request.BodyJson.IsEmpty())
			{
				const TSharedPtr<FJsonValue> Value = FGamingPanelHttp::ParseJson(Request.BodyJson);
				if (Value.IsValid())
				{
					Body = Value->AsObject();
				}
			}
			FGamingPanelHttp::Send(Request.Verb, Self->Url(Request.Path), Headers, Body,
				GetDefault<UGamingPanelSettings>()->RequestTimeoutSeconds, [OnAnswer](const FGamingPanelResponse& Response)
				{
					FGamingPanelAccountAnswer Answer;
					Answer.bOk = Response.bOk;
					Answer.Status = Response.Status;
					Answer.Error = Response.Error;
					OnAnswer(Answer);
				});
		},
		[WeakThis](const FString& FailedToken, FGamingPanelAccountDeletion::FOnToken OnToken)
		{
			UGamingPanelSubsystem* Self = WeakThis.Get();
			if (Self == nullptr)
			{
				return;
			}
			const FString Player = Self->PlayerId;
			Self->RecoverFromUnauthorized(FailedToken, [WeakThis, Player, OnToken](bool bOk, const FString& Token, const FGamingPanelError& Error)
			{
				const UGamingPanelSubsystem* Inner = WeakThis.Get();
				if (bOk && (Inner == nullptr || Inner->PlayerId != Player))
				{
					OnToken(false, FString(), SessionEnded(TEXT("The player whose account was being deleted is no longer logged in.")));
					return;
				}
				OnToken(bOk, Token, Error);
			});
		},
		[WeakThis](const FString& Player, const FString& FailedToken, FGamingPanelAccountDeletion::FOnToken OnToken)
		{
			if (UGamingPanelSubsystem* Self = WeakThis.Get())
			{
				Self->RenewWithoutLogin(Player, FailedToken, MoveTemp(OnToken));
			}
		},
		[WeakThis](float Seconds, TFunction<void()> Then)
		{
			FGamingPanelHttp::Delay(Seconds, [WeakThis, Then]()
			{
				if (WeakThis.Get() != nullptr)
				{
					Then();
				}
			});
		},
		GetDefault<UGamingPanelSettings>()->MaxTransientRetries,
		[WeakThis](const FString& /*Player*/, const FString& /*Token*/)
		{
			if (const UGamingPanelSubsystem* Self = WeakThis.Get())
			{
				Self->SaveState(); // the unconfirmed DELETE goes into the session file before it is sent
			}
		},
		[WeakThis](const FString& Player)
		{
			if (UGamingPanelSubsystem* Self = WeakThis.Get())
			{
				Self->LoseSessionKeepingDeletion(Player);
			}
		});
	LoadState();
	// Refresh shortly before expiry even when the game makes no calls for a while (long matches, menus).
	RefreshTickerHandle = FTSTicker::GetCoreTicker().AddTicker(
		FTickerDelegate::CreateUObject(this, &UGamingPanelSubsystem::TickRefresh), 30.f);
}

void UGamingPanelSubsystem::Deinitialize()
{
	FTSTicker::GetCoreTicker().RemoveTicker(RefreshTickerHandle);
	if (Analytics.IsValid())
	{
		Analytics->SaveNow(); // the events tracked in the last 2 s, to disk before the game instance goes
		Analytics.Reset();
	}
	Super::Deinitialize();
}

TSharedRef<FGamingPanelAnalytics> UGamingPanelSubsystem::GetAnalytics()
{
	if (!Analytics.IsValid())
	{
		Analytics = MakeShared<FGamingPanelAnalytics>(this);
	}
	return Analytics.ToSharedRef();
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
	const int32 Generation = SessionGeneration;
	LoginGeneration = Generation;

	TWeakObjectPtr<UGamingPanelSubsystem> WeakThis(this);
	Provider->GetCredentials([WeakThis, Provider, Generation](bool bOk, TSharedPtr<FJsonObject> Credentials, const FGamingPanelError& Error)
	{
		UGamingPanelSubsystem* Self = WeakThis.Get();
		if (Self == nullptr)
		{
			return;
		}
		if (!bOk)
		{
			Self->FinishLogin(Generation, false, FGamingPanelLoginResult(), Error);
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
			[WeakThis, Provider, Generation](const FGamingPanelResponse& Response)
			{
				Provider->OnLoginFinished();
				UGamingPanelSubsystem* Self = WeakThis.Get();
				if (Self == nullptr)
				{
					return;
				}
				if (Self->SessionGeneration != Generation)
				{
					// Logged out while this login was out: its session is not wanted any more and is never saved.
					Self->FinishLogin(Generation, false, FGamingPanelLoginResult(), SessionEnded(TEXT("Logged out during the login.")));
					return;
				}
				const TSharedPtr<FJsonObject> Json = Response.JsonObject();
				if (!Response.bOk || !Json.IsValid() || !HasTokenPair(*Json))
				{
					FGamingPanelError Error = Response.bOk
						? FGamingPanelError::Make(Response.Status, GamingPanelErrorCodes::InvalidResponse, TEXT("The login response holds no token pair."))
						: Response.Error;
					UE_LOG(LogGamingPanel, Warning, TEXT("Login failed: %s"), *Error.ToString());
					Self->FinishLogin(Generation, false, FGamingPanelLoginResult(), Error);
					return;
				}
				const FString Previous = Self->PlayerId;
				++Self->SessionGeneration; // a new session: answers still out for an older one are discarded
				Self->SessionPlatform = Provider->GetPlatform();
				Self->ApplyTokens(*Json);
				// Only now, with the new session in place: a deletion run of the old one ends (nothing it starts uses the old tokens).
				Self->AccountDeletion->EndSession(Previous);
				FGamingPanelLoginResult Result;
				Result.PlayerId = Self->PlayerId;
				Result.DisplayName = Self->DisplayName;
				if (const TSharedPtr<FJsonObject> Player = GamingPanelJson::GetObject(*Json, TEXT("player")))
				{
					Result.bCreated = GamingPanelJson::GetBool(*Player, TEXT("created"));
				}
				FString Settled;
				switch (Self->AccountDeletion->SettleAtLogin(Self->PlayerId, Result.bCreated, Self->SessionPlatform, Settled))
				{
				case FGamingPanelAccountDeletion::ESettled::Deleted:
					UE_LOG(LogGamingPanel, Log, TEXT("The login settled an unconfirmed deletion: the old account is gone."));
					Self->WipeDeletedPlayer(Settled, false);
					Self->OnAccountDeletionSettled.Broadcast(true, FGamingPanelError());
					break;
				case FGamingPanelAccountDeletion::ESettled::NotDone:
					UE_LOG(LogGamingPanel, Log, TEXT("The login settled an unconfirmed deletion: the account still exists."));
					Self->OnAccountDeletionSettled.Broadcast(false, FGamingPanelError::Make(409, GamingPanelErrorCodes::DeletionNotDone,
						TEXT("The account still exists: the DELETE sent earlier never reached the panel. Ask the player again before deleting.")));
					break;
				case FGamingPanelAccountDeletion::ESettled::Nothing:
					break;
				}
				UE_LOG(LogGamingPanel, Log, TEXT("Logged in as %s"), *Result.DisplayName);
				Self->FinishLogin(Generation, true, Result, FGamingPanelError());
			});
	});
}

void UGamingPanelSubsystem::FinishLogin(int32 Generation, bool bOk, const FGamingPanelLoginResult& Result, const FGamingPanelError& Error)
{
	if (!bLoginInFlight || LoginGeneration != Generation)
	{
		return; // Logout already answered this login's waiters
	}
	bLoginInFlight = false;
	TArray<FOnLogin> Waiters = MoveTemp(LoginWaiters);
	LoginWaiters.Reset();
	for (FOnLogin& Waiter : Waiters)
	{
		Waiter(bOk, Result, Error);
	}
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
	const bool bHadSession = HasSession();
	const FString Token = AccessToken;
	const FString SessionRefreshToken = RefreshToken;
	const bool bTokenAlive = !Token.IsEmpty() && FDateTime::UtcNow() < AccessExpiresAt;
	const bool bRefreshOut = TokenRefresh->IsInFlight() && RefreshGeneration == SessionGeneration;
	const FString Player = PlayerId;
	CredentialProvider.Reset(); // logging out means: do not log back in silently
	ClearSession();             // at once; answers still out for this session are discarded (SessionGeneration)
	// Then a deletion run of this session ends (a 401 token_revoked may now be this logout's); its DELETE stays pending.
	AccountDeletion->EndSession(Player);

	// Whoever waits on a refresh or login of the session that just ended hears so now.
	const FGamingPanelError Ended = SessionEnded(TEXT("Logged out."));
	if (TokenRefresh->IsInFlight())
	{
		TokenRefresh->Finish(false, Ended);
	}
	if (bLoginInFlight)
	{
		FinishLogin(LoginGeneration, false, FGamingPanelLoginResult(), Ended);
	}
	if (!bHadSession)
	{
		return;
	}
	if (bTokenAlive)
	{
		SendLogout(Token);
		return;
	}

	// auth/logout takes only an access token: renew the expired one first and log out with it (it is never saved).
	if (bRefreshOut)
	{
		bLogoutAwaitsRefresh = true; // one refresh per refresh token: the one already out brings it (RefreshAnswered)
		return;
	}
	// Sent, and sent again, by the refresh's own rules (GamingPanelTokenRefresh.h), for this logout only.
	TWeakObjectPtr<UGamingPanelSubsystem> WeakThis(this);
	TokenRefresh->Exchange(SessionRefreshToken, []() { return true; },
		[WeakThis](const FGamingPanelRefreshAnswer& Answer)
		{
			UGamingPanelSubsystem* Self = WeakThis.Get();
			if (Self == nullptr)
			{
				return;
			}
			if (!Answer.bPair)
			{
				UE_LOG(LogGamingPanel, Log, TEXT("Logout: the expired access token could not be renewed (%s); the server's session ends when its refresh token expires."),
					*Answer.Error.Code);
				return;
			}
			Self->SendLogout(GamingPanelJson::GetString(*Answer.Json, TEXT("access_token")));
		});
}

void UGamingPanelSubsystem::SendLogout(const FString& Token)
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

// ------------------------------------------------------------------------------------------------ tokens

bool UGamingPanelSubsystem::IsRefreshDue() const
{
	const float Margin = GetDefault<UGamingPanelSettings>()->RefreshMarginSeconds;
	return HasSession() && FDateTime::UtcNow() >= AccessExpiresAt - FTimespan::FromSeconds(Margin);
}

bool UGamingPanelSubsystem::TickRefresh(float /*DeltaSeconds*/)
{
	if (IsRefreshDue() && !TokenRefresh->IsInFlight())
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
		if (IsAccountDeletionPending())
		{
			OnComplete(false, FString(), SessionEnded(TEXT("A DELETE of the account is unconfirmed: no silent login (after the erasure it would create a new account). Call Login.")));
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

void UGamingPanelSubsystem::Refresh(FOnDone OnComplete, bool bForce)
{
	if (!TokenRefresh->Join(MoveTemp(OnComplete), bForce))
	{
		return; // joins the refresh in flight (never two with one token), or was answered at once (a refresh just failed)
	}
	if (!HasSession())
	{
		TokenRefresh->Finish(false, FGamingPanelError::Make(401, GamingPanelErrorCodes::NotLoggedIn, TEXT("No session to refresh.")));
		return;
	}
	const int32 Generation = SessionGeneration;
	RefreshGeneration = Generation;
	TWeakObjectPtr<UGamingPanelSubsystem> WeakThis(this);
	TokenRefresh->Exchange(RefreshToken,
		[WeakThis, Generation]()
		{
			// Sent again only while it is this session's token, or a Logout waits for its renewal.
			const UGamingPanelSubsystem* Self = WeakThis.Get();
			return Self != nullptr && (Self->SessionGeneration == Generation || Self->bLogoutAwaitsRefresh);
		},
		[WeakThis, Generation](const FGamingPanelRefreshAnswer& Answer)
		{
			if (UGamingPanelSubsystem* Self = WeakThis.Get())
			{
				Self->RefreshAnswered(Generation, Answer);
			}
		});
}

void UGamingPanelSubsystem::SendRefresh(const FString& Token, FGamingPanelTokenRefresh::FOnAnswer OnAnswer)
{
	TSharedPtr<FJsonObject> Body = MakeShared<FJsonObject>();
	Body->SetStringField(TEXT("refresh_token"), Token);
	TWeakObjectPtr<UGamingPanelSubsystem> WeakThis(this);
	FGamingPanelHttp::Send(TEXT("POST"), Url(TEXT("auth/refresh")), TMap<FString, FString>(), Body,
		GetDefault<UGamingPanelSettings>()->RequestTimeoutSeconds,
		[WeakThis, OnAnswer](const FGamingPanelResponse& Response)
		{
			if (WeakThis.Get() == nullptr)
			{
				return; // gone, and TokenRefresh with it
			}
			FGamingPanelRefreshAnswer Answer;
			Answer.Json = Response.JsonObject();
			Answer.bPair = Response.bOk && Answer.Json.IsValid() && HasTokenPair(*Answer.Json);
			if (!Answer.bPair)
			{
				Answer.Error = Response.bOk
					? FGamingPanelError::Make(Response.Status, GamingPanelErrorCodes::InvalidResponse, TEXT("The refresh answer holds no token pair."))
					: Response.Error;
			}
			OnAnswer(Answer);
		});
}

void UGamingPanelSubsystem::RefreshAnswered(int32 Generation, const FGamingPanelRefreshAnswer& Answer)
{
	const FGamingPanelError& Error = Answer.Error;
	if (Generation != SessionGeneration)
	{
		// Logged out (or in again) while this was out: the pair belongs to a session that is over and is never
		// saved. A Logout whose access token had expired logs out with it.
		if (bLogoutAwaitsRefresh)
		{
			bLogoutAwaitsRefresh = false;
			if (Answer.bPair)
			{
				SendLogout(GamingPanelJson::GetString(*Answer.Json, TEXT("access_token")));
			}
			else
			{
				UE_LOG(LogGamingPanel, Log, TEXT("Logout: the expired access token could not be renewed (%s)."), *Error.Code);
			}
		}
		FinishRefreshOf(Generation, false, SessionEnded(TEXT("The session ended while it was being refreshed.")));
		return;
	}
	if (Answer.bPair)
	{
		bRefreshWithoutLogin = false;
		ApplyTokens(*Answer.Json);
		FinishRefreshOf(Generation, true, FGamingPanelError());
		return;
	}
	if (!Error.EndsSession())
	{
		bRefreshWithoutLogin = false;
		// Offline, rate limited, server or proxy trouble (an HTML 403/404, a 408, a 2xx without tokens), after the
		// resends: not a refusal. Keep the session; a later call tries again (not before a Retry-After has passed).
		const FGamingPanelError Kept = Error.IsTransient() ? Error : FGamingPanelError::Network(FString::Printf(
			TEXT("auth/refresh answered %d %s, which is not the panel refusing the session; tokens kept."), Error.Status, *Error.Code));
		TokenRefresh->Pause(Kept);
		FinishRefreshOf(Generation, false, Kept);
		return;
	}

	// An account deletion asked for this refresh after its DELETE went out (RenewWithoutLogin), or a DELETE of this
	// player is unconfirmed: no silent login (the erasure deleted the player's identities, a login would make a new
	// account). What the refusal means is decided once, for every waiter (GamingPanelAccount.h).
	const bool bWithoutLogin = bRefreshWithoutLogin;
	bRefreshWithoutLogin = false;
	switch (AccountDeletion->RefreshRefused(PlayerId, Error, WipeFor(PlayerId)))
	{
	case FGamingPanelAccountDeletion::ERefreshRefused::Deleted:
		UE_LOG(LogGamingPanel, Log, TEXT("Refresh token revoked: the panel says the account was deleted."));
		FinishRefreshOf(Generation, false, AccountDeleted()); // the wipe answered the refresh's waiters already, if it was in flight
		return;
	case FGamingPanelAccountDeletion::ERefreshRefused::SessionLost:
		UE_LOG(LogGamingPanel, Log, TEXT("Refresh token revoked, not by the account's deletion: the session is lost, the DELETE stays unconfirmed."));
		FinishRefreshOf(Generation, false, SessionEnded(TEXT("The session was revoked while a DELETE of the account is unconfirmed.")));
		return;
	case FGamingPanelAccountDeletion::ERefreshRefused::KeepSession:
		UE_LOG(LogGamingPanel, Log, TEXT("Refresh token refused (%s) while the account's deletion is unconfirmed; no silent login, tokens kept."),
			*Error.Code);
		TokenRefresh->Pause(Error); // as any failed refresh: not sent again at once by every call
		FinishRefreshOf(Generation, false, Error);
		return;
	case FGamingPanelAccountDeletion::ERefreshRefused::LogInAgain:
		if (bWithoutLogin)
		{
			TokenRefresh->Pause(Error);
			FinishRefreshOf(Generation, false, Error);
			return;
		}
		break;
	}

	// The server refused the session (expired, revoked, reused, banned): it is over.
	UE_LOG(LogGamingPanel, Log, TEXT("Refresh token refused (%s)."), *Error.Code);
	ClearSession();
	if (!CredentialProvider.IsValid())
	{
		LoseSession(Error);
		FinishRefreshOf(Generation, false, Error);
		return;
	}
	TWeakObjectPtr<UGamingPanelSubsystem> WeakThis(this);
	Login(CredentialProvider, [WeakThis, Generation](bool bOk, const FGamingPanelLoginResult&, const FGamingPanelError& LoginError)
	{
		if (UGamingPanelSubsystem* Inner = WeakThis.Get())
		{
			if (!bOk && !LoginError.IsTransient() && LoginError.Code != GamingPanelErrorCodes::NotLoggedIn)
			{
				Inner->LoseSession(LoginError);
			}
			Inner->FinishRefreshOf(Generation, bOk, LoginError);
		}
	});
}

void UGamingPanelSubsystem::FinishRefreshOf(int32 Generation, bool bOk, const FGamingPanelError& Error)
{
	if (TokenRefresh->IsInFlight() && RefreshGeneration == Generation)
	{
		TokenRefresh->Finish(bOk, Error);
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
	// The server just answered, so it is reachable: refresh even right after a failed refresh.
	TWeakObjectPtr<UGamingPanelSubsystem> WeakThis(this);
	Refresh([WeakThis, OnComplete](bool bOk, const FGamingPanelError& Error)
	{
		const UGamingPanelSubsystem* Self = WeakThis.Get();
		OnComplete(bOk && Self != nullptr, Self != nullptr ? Self->AccessToken : FString(), Error);
	}, true);
}

void UGamingPanelSubsystem::RenewWithoutLogin(const FString& Player, const FString& FailedAccessToken, FOnAccessToken OnComplete)
{
	if (!HasSession() || PlayerId != Player)
	{
		OnComplete(false, FString(), SessionEnded(TEXT("The player whose account was being deleted is no longer logged in.")));
		return;
	}
	if (AccessToken != FailedAccessToken && FDateTime::UtcNow() < AccessExpiresAt)
	{
		OnComplete(true, AccessToken, FGamingPanelError()); // already renewed by another call (and not expired too)
		return;
	}
	// Marks the refresh in flight too, if one is: it ends at a refusal without logging in again.
	bRefreshWithoutLogin = true;
	TWeakObjectPtr<UGamingPanelSubsystem> WeakThis(this);
	Refresh([WeakThis, Player, OnComplete](bool bOk, const FGamingPanelError& Error)
	{
		const UGamingPanelSubsystem* Self = WeakThis.Get();
		if (bOk && (Self == nullptr || Self->PlayerId != Player))
		{
			OnComplete(false, FString(), SessionEnded(TEXT("The player whose account was being deleted is no longer logged in.")));
			return;
		}
		OnComplete(bOk && Self != nullptr, Self != nullptr ? Self->AccessToken : FString(), Error);
	}, true);
	if (!TokenRefresh->IsInFlight())
	{
		bRefreshWithoutLogin = false; // answered at once (a Retry-After not yet passed): nothing is left to mark
	}
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
	TokenRefresh->ClearPause();
	SaveState(); // at once: the old refresh token is dead, losing the new one would end the session
}

void UGamingPanelSubsystem::ClearSession()
{
	++SessionGeneration; // answers still out for this session are discarded
	bRefreshWithoutLogin = false;
	AccessToken.Reset();
	RefreshToken.Reset();
	AccessExpiresAt = FDateTime();
	RefreshExpiresAt = FDateTime();
	PlayerId.Reset();
	DisplayName.Reset();
	SessionPlatform.Reset();
	TokenRefresh->ClearPause();
	SaveState();
}

// ------------------------------------------------------------------------------------------------ the player's account

TFunction<void()> UGamingPanelSubsystem::WipeFor(const FString& Player)
{
	TWeakObjectPtr<UGamingPanelSubsystem> WeakThis(this);
	return [WeakThis, Player]()
	{
		if (UGamingPanelSubsystem* Self = WeakThis.Get())
		{
			Self->WipeDeletedPlayer(Player);
		}
	};
}

bool UGamingPanelSubsystem::IsAccountDeletionPending() const
{
	FString Player;
	FString Platform;
	return AccountDeletion.IsValid() && AccountDeletion->Pending(Player, Platform);
}

void UGamingPanelSubsystem::LoseSessionKeepingDeletion(const FString& Player)
{
	if (Player.IsEmpty() || PlayerId != Player)
	{
		return;
	}
	CredentialProvider.Reset(); // no silent login: the next Login is the game's, and settles the DELETE
	ClearSession();             // the unconfirmed DELETE stays in the session file
	const FGamingPanelError Lost = SessionEnded(
		TEXT("The session was revoked (not by the account's deletion) while a DELETE of the account is unconfirmed; log in again: the login settles it."));
	// OnSessionLost first, then the calls waiting on the refresh in flight hear not_logged_in (EndSession): none resumes
	// (retries, shows an error, logs in) on a session the game has not yet been told is gone.
	TokenRefresh->EndSession(Lost, [this, Lost]() { LoseSession(Lost); });
}

void UGamingPanelSubsystem::DeleteAccount(FOnDone InOnComplete)
{
	if (PlayerId.IsEmpty())
	{
		InOnComplete(false, SessionEnded(TEXT("Log in as the player whose account is deleted.")));
		return;
	}
	const FString Player = PlayerId;
	TWeakObjectPtr<UGamingPanelSubsystem> WeakThis(this);
	const TFunction<void()> Wipe = WipeFor(Player);
	// While the game waits here it hears the outcome: the wipe then does not broadcast OnSessionLost.
	++DeleteAccountWaiters;
	const FOnDone OnComplete = [WeakThis, InOnComplete](bool bOk, const FGamingPanelError& Error)
	{
		if (UGamingPanelSubsystem* Self = WeakThis.Get())
		{
			--Self->DeleteAccountWaiters;
		}
		InOnComplete(bOk, Error);
	};
	FString SentWith;
	if (AccountDeletion->UnconfirmedToken(Player, SentWith))
	{
		AccountDeletion->Delete(Player, SentWith, Wipe, OnComplete, SessionPlatform); // resent as it went, with its token
		return;
	}
	// Before anything is sent the token may be renewed (refreshed when due).
	GetAccessToken([WeakThis, Player, Wipe, OnComplete](bool bOk, const FString& Token, const FGamingPanelError& Error)
	{
		UGamingPanelSubsystem* Self = WeakThis.Get();
		if (Self == nullptr)
		{
			return;
		}
		if (!bOk)
		{
			OnComplete(false, Error);
			return;
		}
		if (Self->PlayerId != Player)
		{
			OnComplete(false, SessionEnded(TEXT("The player whose account was to be deleted is no longer logged in.")));
			return;
		}
		Self->AccountDeletion->Delete(Player, Token, Wipe, OnComplete, Self->SessionPlatform);
	});
}

void UGamingPanelSubsystem::WipeDeletedPlayer(const FString& Player, bool bTell)
{
	UE_LOG(LogGamingPanel, Log, TEXT("Account deleted; wiping the player's data on this device."));
	const FString Folder = FPaths::Combine(FPaths::ProjectSavedDir(), TEXT("GamingPanel"), Player);
	// First: no file of the player is written again (a sync, a flush or a config fetch still out), and the analytics
	// write under way, if any, has ended before the folder goes.
	GamingPanelFiles::MarkErased(Folder);
	if (Analytics.IsValid())
	{
		Analytics->SaveNow();
	}

	// The session, as Logout forgets it (no silent re-login: the provider would make a new account), and the
	// player's purchase keys. Whoever waits on the session's refresh or login hears not_logged_in only at the end, with
	// the player wiped and the game told (OnSessionLost); they are set aside now, so a Login the game starts when told
	// is its own and does not join the one that ended.
	const bool bEndsSession = PlayerId == Player;
	TArray<FOnLogin> LoginCallers;
	if (bEndsSession)
	{
		CredentialProvider.Reset();
		ClearSession();
		if (bLoginInFlight)
		{
			bLoginInFlight = false; // as FinishLogin: the login's own answer, when it comes, is discarded
			LoginCallers = MoveTemp(LoginWaiters);
			LoginWaiters.Reset();
		}
	}
	TArray<FString> Slots;
	for (const TPair<FString, FString>& Entry : PendingPurchaseKeys)
	{
		if (Entry.Key.StartsWith(Player + TEXT("|")))
		{
			Slots.Add(Entry.Key);
		}
	}
	for (const FString& Slot : Slots)
	{
		PendingPurchaseKeys.Remove(Slot);
	}
	SaveState();
	if (PendingPurchaseKeys.Num() == 0 && !HasSession() && !IsAccountDeletionPending() && !bStateMemoryOnly)
	{
		GamingPanelFiles::DeleteFile(StateFilePath()); // nothing left in it: no session file at the next launch
	}

	if (!GamingPanelFiles::EraseFolder(Folder))
	{
		UE_LOG(LogGamingPanel, Warning, TEXT("Could not delete every file of the deleted player (another program holds one); none is written again."));
	}
	// Confirmed by another call's refresh or resend: no DeleteAccount waits to say so, OnSessionLost does.
	const bool bTellGame = bTell && DeleteAccountWaiters == 0;
	if (!bEndsSession)
	{
		if (bTellGame)
		{
			LoseSession(AccountDeleted());
		}
		return;
	}
	// OnSessionLost first, then the calls waiting on the refresh in flight, then the login's callers (not_logged_in).
	const FGamingPanelError Ended = AccountDeleted();
	TokenRefresh->EndSession(Ended, [this, bTellGame, Ended]()
	{
		if (bTellGame)
		{
			LoseSession(Ended);
		}
	});
	for (FOnLogin& Caller : LoginCallers)
	{
		Caller(false, FGamingPanelLoginResult(), Ended);
	}
}

void UGamingPanelSubsystem::RequestDataExport(FOnDataExport OnComplete)
{
	if (PlayerId.IsEmpty())
	{
		OnComplete(false, FString(), nullptr, SessionEnded(TEXT("Log in first.")));
		return;
	}
	SendAuthorized(TEXT("GET"), TEXT("player/data-export"), nullptr, TMap<FString, FString>(), true,
		[OnComplete](const FGamingPanelResponse& Response)
		{
			const TSharedPtr<FJsonObject> Json = Response.JsonObject();
			if (!Response.bOk || !Json.IsValid())
			{
				OnComplete(false, FString(), nullptr, Response.bOk
					? FGamingPanelError::Make(Response.Status, GamingPanelErrorCodes::InvalidResponse, TEXT("Expected an object.")) : Response.Error);
				return;
			}
			OnComplete(true, Response.Body, Json, FGamingPanelError());
		});
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
	Call->PinnedPlayerId = PlayerId;
	Call->OnComplete = MoveTemp(OnComplete);
	FString Unconfirmed;
	if (!Call->PinnedPlayerId.IsEmpty() && AccountDeletion->UnconfirmedToken(Call->PinnedPlayerId, Unconfirmed))
	{
		// A DELETE of this player went out unconfirmed (this run or before a restart): finish it first. Once the panel
		// confirms it the player is wiped and the call ends with not_logged_in; otherwise it goes on.
		TWeakObjectPtr<UGamingPanelSubsystem> WeakThis(this);
		AccountDeletion->Resume(Call->PinnedPlayerId, WipeFor(Call->PinnedPlayerId), [WeakThis, Call](bool bDeleted, const FGamingPanelError& Error)
		{
			UGamingPanelSubsystem* Self = WeakThis.Get();
			if (Self == nullptr)
			{
				return;
			}
			if (bDeleted)
			{
				Call->OnComplete(FGamingPanelResponse::Failure(AccountDeleted()));
				return;
			}
			UE_LOG(LogGamingPanel, Log, TEXT("The account's deletion is still unconfirmed (%s); the call goes on."), *Error.Code);
			Self->StartCall(Call);
		});
		return;
	}
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
	if (!Call->PinnedPlayerId.IsEmpty() && Call->PinnedPlayerId != PlayerId)
	{
		// Logged out, or another player logged in, since the call was made (a retry or the resend after a 401): the
		// token is not its player's. Never sent as someone else; the caller keeps the request for its own player.
		Call->OnComplete(FGamingPanelResponse::Failure(FGamingPanelError::Make(401, GamingPanelErrorCodes::NotLoggedIn,
			TEXT("The player who made this call is no longer logged in."))));
		return;
	}
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
	// The server stores payment_provider_unavailable against an Idempotency-Key: the same key only answers it again.
	const bool bKeyAnswered = Call->Headers.Contains(TEXT("Idempotency-Key")) && Response.Error.EndsPurchaseAttempt();
	if (!Response.bOk && Call->bRetrySafe && Response.Error.IsTransient() && !bKeyAnswered && Call->TransientAttempts < MaxRetries)
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
			// The attempt is over (EndsPurchaseAttempt): a 4xx about the purchase itself (insufficient_funds,
			// validation_error, idempotency_key_reused), or 503 payment_provider_unavailable, which the server answers
			// this key with for ever (nothing charged): buying again is a new attempt with a new key. No answer, 429,
			// 5xx, 409 request_in_progress (the first request is still opening the checkout), 401/403: the server may
			// not have seen it, may have done it or is still at it, so keep the key for the next try.
			const int32 Status = Response.Status;
			const bool bOver = !Response.bOk && Response.Error.EndsPurchaseAttempt();
			if (bOver && Self != nullptr)
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
	if (bStateMemoryOnly)
	{
		return; // the file on disk could be neither read nor moved aside: not written over (LoadState)
	}
	// The purchases' Idempotency-Keys are always kept: without them a purchase whose answer was lost is bought
	// again, under a new key, after a restart. bPersistSession decides only about the session.
	const bool bPersistSession = GetDefault<UGamingPanelSettings>()->bPersistSession;
	// Plain JSON under Saved/: fine for development. Shipping builds should encrypt this or keep the refresh
	// token in the platform's secure store (Windows DPAPI / Credential Manager, macOS/iOS Keychain, Android
	// Keystore, console save-data APIs): it is a 30-day key to the player's account.
	TSharedRef<FJsonObject> State = MakeShared<FJsonObject>();
	if (bPersistSession && HasSession())
	{
		State->SetStringField(TEXT("access_token"), AccessToken);
		State->SetStringField(TEXT("refresh_token"), RefreshToken);
		State->SetNumberField(TEXT("access_expires_at"), static_cast<double>(AccessExpiresAt.ToUnixTimestamp()));
		State->SetNumberField(TEXT("refresh_expires_at"), static_cast<double>(RefreshExpiresAt.ToUnixTimestamp()));
		State->SetStringField(TEXT("player_id"), PlayerId);
		State->SetStringField(TEXT("display_name"), DisplayName);
		State->SetStringField(TEXT("platform"), SessionPlatform);
	}
	// A DELETE that went out unconfirmed, with or without its session: after a restart, still no silent login, and
	// the next login settles it.
	FString DeletionPlayer;
	FString PendingPlatform;
	FString Unconfirmed;
	if (bPersistSession && AccountDeletion.IsValid() && AccountDeletion->Pending(DeletionPlayer, PendingPlatform) &&
		AccountDeletion->UnconfirmedToken(DeletionPlayer, Unconfirmed))
	{
		TSharedRef<FJsonObject> Deletion = MakeShared<FJsonObject>();
		Deletion->SetStringField(TEXT("player_id"), DeletionPlayer);
		Deletion->SetStringField(TEXT("access_token"), Unconfirmed);
		Deletion->SetStringField(TEXT("platform"), PendingPlatform);
		State->SetObjectField(TEXT("unconfirmed_deletion"), Deletion);
	}
	TSharedRef<FJsonObject> Pending = MakeShared<FJsonObject>();
	for (const TPair<FString, FString>& Entry : PendingPurchaseKeys)
	{
		Pending->SetStringField(Entry.Key, Entry.Value);
	}
	State->SetObjectField(TEXT("pending_purchases"), Pending);
	if (!GamingPanelFiles::SaveText(FGamingPanelHttp::ToJsonString(State), StateFilePath())) // replaced in one step
	{
		UE_LOG(LogGamingPanel, Warning, TEXT("Could not save the Gaming Panel session."));
	}
}

void UGamingPanelSubsystem::LoadState()
{
	bStateMemoryOnly = false;
	FString Text;
	TSharedPtr<FJsonObject> State;
	// A session file that cannot be read is never written over by SaveState: it holds the refresh token and the
	// Idempotency-Keys of purchases whose answer was lost (bought again under a new key, they could be charged
	// twice). It is moved aside (kept for support), or, when it cannot be moved, nothing is saved this session.
	switch (GamingPanelFiles::LoadState(Text, StateFilePath(), [&State](const FString& Loaded)
		{
			const TSharedPtr<FJsonValue> Parsed = FGamingPanelHttp::ParseJson(Loaded);
			State = Parsed.IsValid() ? Parsed->AsObject() : nullptr;
			return State.IsValid();
		}, TEXT("Session")))
	{
	case GamingPanelFiles::EStateFile::Read:
		break;
	case GamingPanelFiles::EStateFile::MemoryOnly:
		bStateMemoryOnly = true;
		return;
	default:
		return;
	}
	const bool bPersistSession = GetDefault<UGamingPanelSettings>()->bPersistSession;
	RefreshExpiresAt = bPersistSession
		? FDateTime::FromUnixTimestamp(GamingPanelJson::GetInt(*State, TEXT("refresh_expires_at")))
		: FDateTime();
	if (bPersistSession && FDateTime::UtcNow() < RefreshExpiresAt)
	{
		AccessToken = GamingPanelJson::GetString(*State, TEXT("access_token"));
		RefreshToken = GamingPanelJson::GetString(*State, TEXT("refresh_token"));
		AccessExpiresAt = FDateTime::FromUnixTimestamp(GamingPanelJson::GetInt(*State, TEXT("access_expires_at")));
		PlayerId = GamingPanelJson::GetString(*State, TEXT("player_id"));
		DisplayName = GamingPanelJson::GetString(*State, TEXT("display_name"));
		SessionPlatform = GamingPanelJson::GetString(*State, TEXT("platform"));
	}
	// Kept even when the session is not (its refresh token expired): the next login settles it.
	if (const TSharedPtr<FJsonObject> Deletion = bPersistSession ? GamingPanelJson::GetObject(*State, TEXT("unconfirmed_deletion")) : nullptr)
	{
		AccountDeletion->Restore(GamingPanelJson::GetString(*Deletion, TEXT("player_id")), GamingPanelJson::GetString(*Deletion, TEXT("access_token")),
			GamingPanelJson::GetString(*Deletion, TEXT("platform")));
	}
	if (const TSharedPtr<FJsonObject> Pending = GamingPanelJson::GetObject(*State, TEXT("pending_purchases")))
	{
		for (const TPair<FString, TSharedPtr<FJsonValue>>& Entry : Pending->Values)
		{
			PendingPurchaseKeys.Add(Entry.Key, GamingPanelJson::ValueToString(Entry.Value));
		}
	}
}
