// Gaming Panel Unreal example: deleting the player's account (the in-app deletion Apple requires), without HTTP,
// JSON or the engine: what UGamingPanelSubsystem::DeleteAccount decides.
//
// DELETE player?confirm=delete%20my%20account, with no body (HTTP gives a DELETE body no defined meaning and proxies
// may drop it), answers 204 and revokes every session of the player. When that
// answer is lost (no answer, 408, 5xx, a 2xx that is not the 204) the same DELETE is sent again with the same access
// token, and the panel answers the revoked token 401 token_revoked: once a DELETE went out, that 401 (and only that one)
// means the account is gone. The panel checks expiry before revocation, so a resend after the token's lifetime gets
// 401 token_expired whether or not the DELETE arrived: after a DELETE went out, a 401 token_expired / invalid_token
// renews the session once with no silent login (RenewWithoutLogin): a refresh refused with 401 token_revoked is the
// erasure (done), new tokens mean the account is still there (the DELETE is sent again with them), and any other
// failure goes to OnDone(false). A DELETE still unanswered after the automatic retries is remembered (in memory) with
// its token, and the next Delete of that player resends it with that token. A 401 token_expired / token_revoked /
// invalid_token before any DELETE went out renews the session once (the account still exists). On success (204, or
// that 401 token_revoked) Wipe runs, then OnDone(true); on anything else nothing is wiped and OnDone(false) gets the
// error unchanged (400 confirmation_required, a 5xx or no answer after the retries, a failed refresh...). Tests/AccountDeletionTest.cpp (built and run by scripts/check_examples.sh) drives
// it against a fake panel and fake files.
#pragma once

#include "CoreMinimal.h"
#include "GamingPanelTypes.h"

/** The request the deletion sends: the subsystem adds Authorization: Bearer AccessToken, and sends BodyJson as is. */
struct GAMINGPANEL_API FGamingPanelAccountRequest
{
	FString Verb;
	/** Relative to the API root, with its query string. */
	FString Path;
	/** Empty: no body, and so no Content-Type. */
	FString BodyJson;
	FString AccessToken;
};

/** The panel's answer, read out of the HTTP response by the caller. */
struct GAMINGPANEL_API FGamingPanelAccountAnswer
{
	/** A 2xx (Status says which: only 204 is the panel's answer to the DELETE). */
	bool bOk = false;
	int32 Status = 0;
	/** !bOk: why (Status 0 when no answer arrived). */
	FGamingPanelError Error;
};

class GAMINGPANEL_API FGamingPanelAccountDeletion
{
public:
	/** The text the panel wants in the confirm query parameter; the kit sends it, the game passes none. */
	static constexpr const TCHAR* Confirmation = TEXT("delete my account");

	using FOnAnswer = TFunction<void(const FGamingPanelAccountAnswer& Answer)>;
	/** Sends Request and calls OnAnswer once. */
	using FSend = TFunction<void(const FGamingPanelAccountRequest& Request, FOnAnswer OnAnswer)>;
	using FOnToken = TFunction<void(bool bOk, const FString& AccessToken, const FGamingPanelError& Error)>;
	/** Renews the session after FailedToken got a 401 (the subsystem: RecoverFromUnauthorized, the same player only). */
	using FRenew = TFunction<void(const FString& FailedToken, FOnToken OnToken)>;
	/**
	 * Renews PlayerId's session after FailedToken got a 401 once a DELETE went out (the subsystem: RenewWithoutLogin):
	 * never logs in again (after an erasure that would make a new account), answers no other player's token, and gives
	 * a refusal of the refresh (401 token_revoked when the erasure revoked the session) to OnToken as it came.
	 */
	using FRenewWithoutLogin = TFunction<void(const FString& PlayerId, const FString& FailedToken, FOnToken OnToken)>;
	/** Runs Then after Seconds (the subsystem: the core ticker). */
	using FDelay = TFunction<void(float Seconds, TFunction<void()> Then)>;
	using FOnDone = TFunction<void(bool bOk, const FGamingPanelError& Error)>;

	/** MaxRetries: how often a DELETE whose answer may have been lost (or a 429) is sent again in one Delete. */
	FGamingPanelAccountDeletion(FSend InSend, FRenew InRenew, FRenewWithoutLogin InRenewWithoutLogin, FDelay InDelay, int32 InMaxRetries);

	/** DELETE player?confirm=delete%20my%20account (percent-encoded: a space is %20, never +), no body, with AccessToken. */
	static FGamingPanelAccountRequest DeleteRequest(const FString& AccessToken);

	/**
	 * Deletes PlayerId's account with AccessToken (or, when a DELETE of that player went out unanswered, resends it with
	 * its own token). Wipe runs once the panel confirmed (204, or a 401 token_revoked after a DELETE went out), before
	 * OnDone(true).
	 */
	void Delete(const FString& PlayerId, const FString& AccessToken, TFunction<void()> Wipe, FOnDone OnDone);

	/** A DELETE of PlayerId went out and no answer said what became of it: the token it went with. */
	bool UnconfirmedToken(const FString& PlayerId, FString& OutToken) const;

private:
	struct FUnconfirmed
	{
		FString PlayerId;
		FString AccessToken;
	};
	struct FRun;
	static void Attempt(TSharedRef<FRun> Run);
	static void Answered(TSharedRef<FRun> Run, const FGamingPanelAccountAnswer& Answer);
	static void Done(TSharedRef<FRun> Run);

	FSend Send;
	FRenew Renew;
	FRenewWithoutLogin RenewWithoutLogin;
	FDelay Delay;
	int32 MaxRetries = 2;
	TSharedRef<FUnconfirmed> Unconfirmed;
};
