// Gaming Panel Unreal example: deleting the player's account (the in-app deletion Apple requires), without HTTP,
// JSON or the engine: what UGamingPanelSubsystem::DeleteAccount decides.
//
// DELETE player?confirm=delete%20my%20account, with no body (HTTP gives a DELETE body no defined meaning and proxies
// may drop it), answers 204 and revokes every session of the player. A token refused because the account was erased
// is answered 401 token_revoked with "account_deleted": true (FGamingPanelError::IsAccountErased): that, to the
// DELETE's resend (its answer lost: no answer, 408, 5xx, a 2xx that is not the 204), to a refresh or to any call, is
// the deletion confirmed. A 401 token_revoked without it is not (a logout, an operator, reuse detection): after a
// DELETE went out it ends the session (LoseSession), nothing is wiped, the DELETE stays pending. The panel checks
// expiry before revocation, so a resend after the token's lifetime gets 401 token_expired whether or not the DELETE
// arrived: a 401 token_expired / invalid_token then renews the session once with no silent login (RenewWithoutLogin),
// and new tokens send the DELETE again. A 401 token_expired / token_revoked / invalid_token before any DELETE went out
// renews the session once (the account still exists). On success Wipe runs, then OnDone(true); on anything else
// nothing is wiped and OnDone(false) gets the error (400 confirmation_required, a 5xx or no answer after the retries,
// a failed refresh...; not_logged_in when the session ended).
//
// Until the panel answers, the DELETE is unconfirmed: the player and the token it goes with are kept, and handed to
// Persist (the subsystem: the session file) before it is sent; they are forgotten only when the deletion is confirmed,
// every DELETE sent was refused as it came (nothing may have arrived), or a login settles it (SettleAtLogin). Restore
// brings them back after a restart, with or without a session. While they are kept nothing logs in again silently
// (after an erasure that would make a new account); RefreshRefused says what a refused refresh means. The next
// Delete, or Resume (the subsystem: before the player's next call), resends the DELETE with its token; one Delete of a
// player runs at a time (a second one joins it). A run belongs to its session: EndSession (a logout, a login) ends it
// with not_logged_in, and nothing is sent or decided for it after that; the DELETE stays pending. A deletion that went
// out cannot be cancelled. Tests/AccountDeletionTest.cpp (built and run by scripts/check_examples.sh) drives it
// against a fake panel and fake files.
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
	/**
	 * Keeps, where the session is kept (the subsystem: the session file, written at once), that a DELETE of PlayerId went
	 * out with AccessToken and is unconfirmed; both empty: none is. Called before every DELETE is sent.
	 */
	using FPersist = TFunction<void(const FString& PlayerId, const FString& AccessToken)>;
	/**
	 * PlayerId's session was refused with a 401 token_revoked that is not the erasure while a DELETE of theirs went out:
	 * the subsystem ends the session (no silent login) and broadcasts OnSessionLost; the DELETE stays pending.
	 */
	using FLoseSession = TFunction<void(const FString& PlayerId)>;

	/** What a refused refresh of a player's session means (RefreshRefused). */
	enum class ERefreshRefused : uint8
	{
		/** No DELETE of the player is unconfirmed: the session is over, the silent login may run as always. */
		LogInAgain,
		/** A DELETE of the player is unconfirmed and the refusal says nothing of it: no login, the session left as it is. */
		KeepSession,
		/** 401 token_revoked with account_deleted: the account is gone; Wipe ran (a DELETE unconfirmed or not). */
		Deleted,
		/**
		 * 401 token_revoked without account_deleted, with a DELETE of the player unconfirmed: the session is over for
		 * another reason. LoseSession ran (no login), nothing wiped, the DELETE kept; the player's runs ended with not_logged_in.
		 */
		SessionLost,
	};

	/** What a login did to an unconfirmed DELETE (SettleAtLogin). */
	enum class ESettled : uint8
	{
		/** None was kept, or the login says nothing of it (another platform, an existing other player): still kept. */
		Nothing,
		/** The login answered the DELETE's player: the account still exists; forgotten, never resent on its own. */
		NotDone,
		/** The login created a player on the DELETE's platform: the erasure deleted the old one; forgotten. */
		Deleted,
	};

	/** MaxRetries: how often a DELETE whose answer may have been lost (or a 429) is sent again in one Delete. */
	FGamingPanelAccountDeletion(FSend InSend, FRenew InRenew, FRenewWithoutLogin InRenewWithoutLogin, FDelay InDelay, int32 InMaxRetries,
		FPersist InPersist = FPersist(), FLoseSession InLoseSession = FLoseSession());

	/** DELETE player?confirm=delete%20my%20account (percent-encoded: a space is %20, never +), no body, with AccessToken. */
	static FGamingPanelAccountRequest DeleteRequest(const FString& AccessToken);

	/**
	 * Deletes PlayerId's account with AccessToken (or, when a DELETE of that player went out unanswered, resends it with
	 * its own token). Wipe runs once the panel confirmed (204, or a 401 token_revoked after a DELETE went out), before
	 * OnDone(true).
	 */
	void Delete(const FString& PlayerId, const FString& AccessToken, TFunction<void()> Wipe, FOnDone OnDone,
		const FString& Platform = FString());

	/**
	 * Before a call of PlayerId while a DELETE of theirs is unconfirmed: resends it once (no automatic resend), or joins
	 * the Delete under way. OnDone(true) once the panel confirmed it (Wipe ran); OnDone(false, Error) when it is still
	 * unconfirmed (or none is: not_logged_in), and the call goes on.
	 */
	void Resume(const FString& PlayerId, TFunction<void()> Wipe, FOnDone OnDone);

	/** A DELETE of PlayerId went out and no answer said what became of it: the token it went with. */
	bool UnconfirmedToken(const FString& PlayerId, FString& OutToken) const;

	/** A DELETE went out unconfirmed, whoever is logged in (or nobody): its player and platform (empty: unknown). */
	bool Pending(FString& OutPlayerId, FString& OutPlatform) const;

	/** At start: the unconfirmed DELETE the session file kept (as Persist was given it), with or without a session. */
	void Restore(const FString& PlayerId, const FString& AccessToken, const FString& Platform = FString());

	/**
	 * The session of PlayerId ended (Logout, a login): its runs end with not_logged_in and send nothing more (a 401
	 * token_revoked may now be the logout's). The DELETE stays pending until a login settles it.
	 */
	void EndSession(const FString& PlayerId);

	/**
	 * A login answered NewPlayerId (bCreated: it made that player) on Platform. With a DELETE unconfirmed: the same
	 * player is NotDone; a player it created on the DELETE's platform is Deleted (OutPlayerId: whose data to wipe);
	 * both forget the DELETE. Anything else leaves it kept (Nothing).
	 */
	ESettled SettleAtLogin(const FString& NewPlayerId, bool bCreated, const FString& Platform, FString& OutPlayerId);

	/**
	 * A refresh of PlayerId's session was refused with Error (FGamingPanelError::EndsSession). 401 token_revoked with
	 * account_deleted is the erasure: Wipe runs and every Delete under way gets OnDone(true). With a DELETE of the
	 * player unconfirmed, any other 401 token_revoked is SessionLost, the rest KeepSession.
	 */
	ERefreshRefused RefreshRefused(const FString& PlayerId, const FGamingPanelError& Error, TFunction<void()> Wipe);

private:
	struct FRun;
	/** What every run shares with this object: the unconfirmed DELETE, where it is kept, and the runs under way. */
	struct FShared
	{
		FString PlayerId;
		FString AccessToken;
		FString Platform;
		FPersist Persist;
		FLoseSession LoseSession;
		/** Held by their pending callbacks (an answer, a wait, a renewal), not by this list. */
		TArray<TWeakPtr<FRun>> Running;
	};
	/** The runs of PlayerId under way. */
	static TArray<TSharedRef<FRun>> RunsOf(FShared& InShared, const FString& PlayerId);
	/** The runs of PlayerId under way, marked while RefreshRefused decides their outcome (FRun::bDeciding). */
	static TArray<TSharedRef<FRun>> Deciding(FShared& InShared, const FString& PlayerId);
	/** Joins the Delete of PlayerId under way; false when there is none. */
	bool Join(const FString& PlayerId, FOnDone& OnDone);
	void Start(const FString& PlayerId, const FString& AccessToken, const FString& Platform, bool bSent, int32 Retries,
		TFunction<void()> Wipe, FOnDone OnDone);
	static void Attempt(TSharedRef<FRun> Run);
	static void Answered(TSharedRef<FRun> Run, const FGamingPanelAccountAnswer& Answer);
	static void Done(TSharedRef<FRun> Run);
	static void Fail(TSharedRef<FRun> Run, const FGamingPanelError& Error);
	/** A 401 token_revoked that is not the erasure after a DELETE went out: the session is lost, the DELETE kept. */
	static void Lost(TSharedRef<FRun> Run);
	static void Finish(TSharedRef<FRun> Run, bool bOk, const FGamingPanelError& Error);
	static void Keep(FShared& Shared, const FString& PlayerId, const FString& AccessToken, const FString& Platform = FString());

	FSend Send;
	FRenew Renew;
	FRenewWithoutLogin RenewWithoutLogin;
	FDelay Delay;
	int32 MaxRetries = 2;
	TSharedRef<FShared> Shared;
};
