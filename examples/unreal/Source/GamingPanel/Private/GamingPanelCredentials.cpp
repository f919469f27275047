// Gaming Panel Unreal example: credential providers (dev sandbox, Steam).
#include "GamingPanelCredentials.h"
#include "GamingPanelHttp.h"
#include "GamingPanelModule.h"
#include "Containers/Ticker.h"
#include "Runtime/Launch/Resources/Version.h"

// Steam login asks for a Web API ticket bound to an identity (GetAuthTicketForWebApi and its
// GetTicketForWebApiResponse_t callback), which first ships with Steamworks 1.57: the SDK of UE 5.4. UE 5.1 to
// 5.3 ship Steamworks 1.53a, so there the provider compiles out and Login With Steam answers
// credentials_unavailable. A project that updated its engine's Steamworks to 1.57 sets
// GAMINGPANEL_STEAM_WEB_API_TICKETS=1 in its Build.cs.
#ifndef GAMINGPANEL_STEAM_WEB_API_TICKETS
#define GAMINGPANEL_STEAM_WEB_API_TICKETS (ENGINE_MAJOR_VERSION > 5 || (ENGINE_MAJOR_VERSION == 5 && ENGINE_MINOR_VERSION >= 4))
#endif
#define GAMINGPANEL_STEAM_LOGIN (GAMINGPANEL_WITH_STEAM && GAMINGPANEL_STEAM_WEB_API_TICKETS)

#if GAMINGPANEL_STEAM_LOGIN
THIRD_PARTY_INCLUDES_START
#include "steam/steam_api.h"
THIRD_PARTY_INCLUDES_END
#endif

FGamingPanelDevCredentials::FGamingPanelDevCredentials(const FString& InUserId, const FString& InDisplayName)
	: UserId(InUserId)
	, DisplayName(InDisplayName)
{
}

void FGamingPanelDevCredentials::GetCredentials(FOnCredentials OnReady)
{
	if (UserId.IsEmpty())
	{
		OnReady(false, nullptr, FGamingPanelError::Make(400, GamingPanelErrorCodes::ValidationError, TEXT("A dev login needs a user id.")));
		return;
	}
	TSharedPtr<FJsonObject> Credentials = MakeShared<FJsonObject>();
	Credentials->SetStringField(TEXT("user_id"), UserId);
	if (!DisplayName.IsEmpty())
	{
		Credentials->SetStringField(TEXT("display_name"), DisplayName);
	}
	OnReady(true, Credentials, FGamingPanelError());
}

#if GAMINGPANEL_STEAM_LOGIN

/**
 * Steam: ISteamUser::GetAuthTicketForWebApi(identity), sent hex-encoded as {"ticket": "..."}; the backend checks
 * it with ISteamUserAuth/AuthenticateUserTicket and that the account owns the game. Needs Steam initialised and
 * callbacks pumped (the Online Subsystem Steam plugin does both).
 */
class FGamingPanelSteamCredentials : public IGamingPanelCredentialProvider
{
public:
	explicit FGamingPanelSteamCredentials(const FString& InIdentity)
		: Identity(InIdentity)
		, TicketCallback(this, &FGamingPanelSteamCredentials::OnTicket)
	{
	}

	virtual ~FGamingPanelSteamCredentials() override
	{
		FTSTicker::GetCoreTicker().RemoveTicker(TimeoutHandle);
		CancelTicket();
	}

	virtual FString GetPlatform() const override { return TEXT("steam"); }

	virtual void GetCredentials(FOnCredentials OnReady) override
	{
		if (Pending)
		{
			OnReady(false, nullptr, FGamingPanelError::Make(0, GamingPanelErrorCodes::CredentialsUnavailable, TEXT("A Steam ticket request is already running.")));
			return;
		}
		if (SteamUser() == nullptr)
		{
			OnReady(false, nullptr, FGamingPanelError::Make(0, GamingPanelErrorCodes::CredentialsUnavailable, TEXT("Steam is not running or not initialised.")));
			return;
		}
		CancelTicket();
		Pending = MoveTemp(OnReady);
		const char* IdentityUtf8 = nullptr;
		FTCHARToUTF8 IdentityConverted(*Identity);
		if (!Identity.IsEmpty())
		{
			IdentityUtf8 = IdentityConverted.Get();
		}
		RequestedTicket = SteamUser()->GetAuthTicketForWebApi(IdentityUtf8);
		if (RequestedTicket == k_HAuthTicketInvalid)
		{
			Fail(TEXT("Steam refused to create a Web API ticket."));
			return;
		}
		// The answer arrives as a callback; give up if it does not come (callbacks not pumped?).
		TimeoutHandle = FTSTicker::GetCoreTicker().AddTicker(FTickerDelegate::CreateLambda([this](float)
		{
			TimeoutHandle.Reset();
			Fail(TEXT("No ticket from Steam in time. Are Steam callbacks being run?"));
			return false;
		}), 10.f);
	}

	virtual void OnLoginFinished() override
	{
		// The backend has used the ticket; cancel it so it cannot be replayed.
		CancelTicket();
	}

private:
	void OnTicket(GetTicketForWebApiResponse_t* Response)
	{
		if (!Pending || Response == nullptr || Response->m_hAuthTicket != RequestedTicket)
		{
			return;
		}
		FTSTicker::GetCoreTicker().RemoveTicker(TimeoutHandle);
		TimeoutHandle.Reset();
		if (Response->m_eResult != k_EResultOK)
		{
			Fail(FString::Printf(TEXT("Steam could not create the ticket (EResult %d)."), static_cast<int32>(Response->m_eResult)));
			return;
		}
		TSharedPtr<FJsonObject> Credentials = MakeShared<FJsonObject>();
		Credentials->SetStringField(TEXT("ticket"), BytesToHex(Response->m_rgubTicket, Response->m_cubTicket).ToLower());
		FOnCredentials Done = MoveTemp(Pending);
		Pending = nullptr;
		Done(true, Credentials, FGamingPanelError());
	}

	void Fail(const FString& Why)
	{
		CancelTicket();
		if (Pending)
		{
			FOnCredentials Done = MoveTemp(Pending);
			Pending = nullptr;
			Done(false, nullptr, FGamingPanelError::Make(0, GamingPanelErrorCodes::CredentialsUnavailable, Why));
		}
	}

	void CancelTicket()
	{
		if (RequestedTicket != k_HAuthTicketInvalid && SteamUser() != nullptr)
		{
			SteamUser()->CancelAuthTicket(RequestedTicket);
		}
		RequestedTicket = k_HAuthTicketInvalid;
	}

	FString Identity;
	HAuthTicket RequestedTicket = k_HAuthTicketInvalid;
	FOnCredentials Pending;
	FTSTicker::FDelegateHandle TimeoutHandle;
	CCallback<FGamingPanelSteamCredentials, GetTicketForWebApiResponse_t, false> TicketCallback;
};

TSharedPtr<IGamingPanelCredentialProvider> MakeGamingPanelSteamCredentials(const FString& Identity)
{
	return MakeShared<FGamingPanelSteamCredentials>(Identity);
}

#else

TSharedPtr<IGamingPanelCredentialProvider> MakeGamingPanelSteamCredentials(const FString& /*Identity*/)
{
	return nullptr;
}

#endif
