// Gaming Panel Unreal example: the player's session and the calls made with it.
//
// One per game instance: UGameInstance::GetSubsystem<UGamingPanelSubsystem>() or, from anywhere with a world,
// UGamingPanelSubsystem::Get(this). Blueprint users use the async nodes in GamingPanelAsyncActions.h.
//
// Token rules:
//  - The access token (2 h) is refreshed shortly before it expires (RefreshMarginSeconds), lazily before a
//    request and by a 30-second ticker, so long offline stretches don't end with an expired token.
//  - Refresh tokens rotate; one refresh runs at a time (callers queue, also while it waits to be sent again), and the
//    new pair is saved at once.
//  - A 401 token_expired / token_revoked / invalid_token refreshes (or logs in again) and retries the request exactly once.
//  - A refresh is sent again with the same refresh token, at most twice and only while it is still the session's
//    (GamingPanelTokenRefresh.h): after a 429's or 503's whole Retry-After (the panel rotated nothing; over 30 s it
//    fails at once with that error), or after 1 s and 2 s when its answer may have been lost (no answer, 408, another
//    5xx, a 2xx without the token pair), inside the 30 s in which the server still answers a retired token.
//  - Nothing but a refusal drops the session (FGamingPanelError::EndsSession: 401 invalid_token, token_expired,
//    token_revoked, refresh_token_reused, 403 player_banned): network errors, 429, 5xx, a proxy's HTML 403/404 keep
//    the tokens for the next try (not within 5 s of a failed refresh, so a call's retries do not multiply refreshes,
//    and never before its Retry-After has passed).
//    After a refusal the last credential provider logs in again silently, and OnSessionLost fires only if that is
//    impossible. Not while a DELETE of the player's account is unconfirmed (GamingPanelAccount.h): after an erasure a
//    login would make a new account. Then a refusal with 401 token_revoked is the erasure (the player is wiped) and any
//    other leaves the tokens as they are; and every call of the player first resends the DELETE.
//  - Every login and logout starts a new session generation: a refresh or login answer for an older one (say one
//    that arrives after Logout) is discarded, never saved.
//  - An authorised call is pinned to the player logged in when it was made: a retry or a resend after a 401 when
//    another player (or nobody) is logged in ends with 401 not_logged_in instead of going out with their token.
#pragma once

#include "CoreMinimal.h"
#include "Subsystems/GameInstanceSubsystem.h"
#include "Containers/Ticker.h"
#include "GamingPanelAccount.h"
#include "GamingPanelCredentials.h"
#include "GamingPanelHttp.h"
#include "GamingPanelTokenRefresh.h"
#include "GamingPanelTypes.h"
#include "GamingPanelSubsystem.generated.h"

DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FGamingPanelSessionLostSignature, const FGamingPanelError&, Error);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(FGamingPanelDeletionSettledSignature, bool, bDeleted, const FGamingPanelError&, Error);

class FGamingPanelAnalytics;

UCLASS()
class GAMINGPANEL_API UGamingPanelSubsystem : public UGameInstanceSubsystem
{
	GENERATED_BODY()

public:
	using FOnLogin = TFunction<void(bool bOk, const FGamingPanelLoginResult& Result, const FGamingPanelError& Error)>;
	using FOnAccessToken = TFunction<void(bool bOk, const FString& AccessToken, const FGamingPanelError& Error)>;
	using FOnDone = TFunction<void(bool bOk, const FGamingPanelError& Error)>;
	using FOnStats = TFunction<void(bool bOk, const FGamingPanelPlayerStats& Stats, const FGamingPanelError& Error)>;
	using FOnInventory = TFunction<void(bool bOk, const FGamingPanelInventory& Inventory, const FGamingPanelError& Error)>;
	using FOnPurchase = TFunction<void(bool bOk, const FGamingPanelPurchaseResult& Result, const FGamingPanelError& Error)>;
	/** Json: the answer's JSON text as the panel sent it (an object: sections per app, plus "exported_at"); Data: parsed. */
	using FOnDataExport = TFunction<void(bool bOk, const FString& Json, const TSharedPtr<FJsonObject>& Data, const FGamingPanelError& Error)>;

	/** The subsystem of the game instance that owns WorldContextObject, or nullptr. */
	static UGamingPanelSubsystem* Get(const UObject* WorldContextObject);

	virtual void Initialize(FSubsystemCollectionBase& Collection) override;
	virtual void Deinitialize() override;

	/** Logs in with a platform and keeps the provider for silent re-login. */
	void Login(TSharedPtr<IGamingPanelCredentialProvider> Provider, FOnLogin OnComplete);

	/** Sets the provider used to log in again when the refresh token is refused, without logging in now. */
	void SetCredentialProvider(TSharedPtr<IGamingPanelCredentialProvider> Provider) { CredentialProvider = Provider; }

	/** Makes sure a saved session is still usable (refreshing it if due). Fails with not_logged_in when there is none. */
	void ResumeSession(FOnLogin OnComplete);

	/** A usable access token, refreshed first when due. Also what a client hands to a dedicated server. */
	void GetAccessToken(FOnAccessToken OnComplete);

	/**
	 * Any authorised call: path relative to the API root ("player/stats"). bRetrySafe only for requests the
	 * server de-duplicates or that change nothing (GET, purchase with Idempotency-Key, claims).
	 * A call made while a player is logged in belongs to that player: it, its retries and its resend after a 401 go
	 * with that player's token only. Once that player has logged out, or another has logged in, it ends with
	 * 401 not_logged_in, unsent (a silent re-login of the same player continues it).
	 */
	void SendAuthorized(const FString& Verb, const FString& Path, TSharedPtr<FJsonObject> Body,
		const TMap<FString, FString>& ExtraHeaders, bool bRetrySafe, FGamingPanelResponseCallback OnComplete);

	void GetPlayerStats(FOnStats OnComplete);
	void GetInventory(FOnInventory OnComplete);

	/**
	 * Leaderboards; each answers the API's JSON as it is (Response.JsonObject() / the array's values).
	 * GET leaderboards: the game's boards and the open period's end (period_ends_at, null: never resets).
	 */
	void GetLeaderboards(FGamingPanelResponseCallback OnComplete);

	/** GET leaderboards/{Slug}?limit&cursor: the top of the open period; pass the answer's "next" as Cursor. */
	void GetLeaderboardTop(const FString& Slug, int32 Limit, const FString& Cursor, FGamingPanelResponseCallback OnComplete);

	/** GET leaderboards/{Slug}/around-me?radius: "entry" (the player's rank, null without a score) and "results". */
	void GetLeaderboardAroundMe(const FString& Slug, int32 Radius, FGamingPanelResponseCallback OnComplete);

	/** GET leaderboards/{Slug}/players/{PlayerId}: a given player's entry and rank. */
	void GetLeaderboardPlayer(const FString& Slug, const FString& PlayerId, FGamingPanelResponseCallback OnComplete);

	/**
	 * GET leaderboards/{Slug}/periods?limit&before: the closed periods, latest first (an array); for the page after,
	 * pass the last period's "number" as Before (0: from the latest).
	 */
	void GetLeaderboardPeriods(const FString& Slug, int32 Limit, int32 Before, FGamingPanelResponseCallback OnComplete);

	/** GET leaderboards/{Slug}/periods/{Period}?limit&cursor: a closed period's final standings. */
	void GetLeaderboardStandings(const FString& Slug, int32 Period, int32 Limit, const FString& Cursor, FGamingPanelResponseCallback OnComplete);

	/**
	 * POST leaderboards/{Slug}/my-score: the player's own score where the board allows client submissions
	 * (else 403 client_submissions_not_allowed). Retried safely: the server records each SubmissionId once.
	 */
	void SubmitMyScore(const FString& Slug, const FString& SubmissionId, int64 Score, TSharedPtr<FJsonObject> Metadata, FGamingPanelResponseCallback OnComplete);

	/**
	 * POST shop/purchase with an Idempotency-Key that is saved before sending and reused for every retry of this
	 * attempt (timeouts, 5xx, the retry after a token refresh, and the next Purchase of the same offer and
	 * quantity after a failure or restart, and after 409 request_in_progress). The key is forgotten once the server
	 * gives a definitive answer (FGamingPanelError::EndsPurchaseAttempt), 503 payment_provider_unavailable included:
	 * nothing was charged and the server answers that key with it for ever, so buying again is a new attempt, new key.
	 */
	void Purchase(const FString& OfferId, int32 Quantity, FOnPurchase OnComplete);

	/**
	 * POST shop/receipts: redeems a store purchase for OfferId. Provider is "apple" or "google_play"; Receipt is
	 * the store's proof (GamingPanelStoreReceipts). The server grants a store transaction once, so the call is
	 * retried when transient; finish the purchase with the store (finishTransaction / consume) after it succeeds.
	 * Final errors: invalid_receipt, receipt_not_paid, receipt_already_used, receipt_account_mismatch.
	 */
	void RedeemReceipt(const FString& Provider, const FString& OfferId, TSharedPtr<FJsonValue> Receipt, FOnPurchase OnComplete);

	/**
	 * The logged-in player's store account token (empty before login): a UUIDv5 of the player id login
	 * returned. Give it to the store when a purchase starts: appAccountToken (StoreKit 2) or applicationUsername
	 * (StoreKit 1) on Apple, BillingFlowParams.setObfuscatedAccountId on Google Play. The server refuses a
	 * receipt bought with another player's token (403 receipt_account_mismatch).
	 */
	UFUNCTION(BlueprintPure, Category = "Gaming Panel|Shop")
	FString GetStoreAccountToken() const;

	/**
	 * The game's analytics events (GamingPanelAnalytics.h): one queue per game instance, made on first use. Its events
	 * not on disk yet are written when the subsystem deinitializes (and when the application deactivates, goes to the
	 * background or terminates); call GetAnalytics()->SaveNow() when the game pauses or quits.
	 */
	TSharedRef<FGamingPanelAnalytics> GetAnalytics();

	/**
	 * Forgets the session locally at once and ends it on the server (best effort); no silent re-login afterwards.
	 * auth/logout takes only an access token: an expired one is renewed first (by the refresh already out, if any),
	 * and the renewed pair is used for the logout only, never saved.
	 */
	UFUNCTION(BlueprintCallable, Category = "Gaming Panel|Auth")
	void Logout();

	/**
	 * Deletes the logged-in player's account (DELETE player?confirm=delete%20my%20account, no body; the game passes no
	 * text), then everything the plugin keeps on the device for the player: the session and its refresh token, the
	 * player's pending purchase keys (the session file goes when no other player's keys are in it), and
	 * Saved/GamingPanel/<player>/ (the cloud-save cache and queued writes, the remote-config copy, the analytics queue,
	 * their .tmp and unreadable copies), which is never written again this run. The player is logged out with no
	 * silent re-login. bOk once the panel answered 204, or 401 token_revoked with account_deleted (to a resend after a
	 * DELETE whose answer was lost, to the refresh after that resend got 401 token_expired / invalid_token, or to any
	 * call's refresh; GamingPanelAccount.h). Any other outcome reaches OnComplete unchanged (400 confirmation_required,
	 * no answer or a 5xx after the automatic retries, a failed refresh...) and wipes nothing; calling it again resends
	 * a DELETE that went out. Such a DELETE stays unconfirmed, kept in the session file from before it is sent (after a
	 * restart too, and after its session ended): no silent login meanwhile, and the player's next call resends it
	 * first. A 401 token_revoked without account_deleted is not the erasure: the session is lost (OnSessionLost,
	 * not_logged_in) and the DELETE stays pending. A deletion confirmed while no DeleteAccount waits broadcasts
	 * OnSessionLost (not_logged_in). It cannot be cancelled; Logout or another Login ends the run (not_logged_in), and
	 * the next Login settles the DELETE (OnAccountDeletionSettled).
	 */
	void DeleteAccount(FOnDone OnComplete);

	/** A DELETE of an account went out (this run or before a restart) and is not confirmed yet, logged in or not. */
	UFUNCTION(BlueprintPure, Category = "Gaming Panel|Account")
	bool IsAccountDeletionPending() const;

	/** GET player/data-export: what the panel holds about the player, as its JSON (not stored on the device). */
	void RequestDataExport(FOnDataExport OnComplete);

	UFUNCTION(BlueprintPure, Category = "Gaming Panel|Auth")
	bool HasSession() const { return !RefreshToken.IsEmpty(); }

	UFUNCTION(BlueprintPure, Category = "Gaming Panel|Auth")
	FString GetPlayerId() const { return PlayerId; }

	UFUNCTION(BlueprintPure, Category = "Gaming Panel|Auth")
	FString GetDisplayName() const { return DisplayName; }

	/**
	 * Fires when the session is gone and could not be re-created: show the login screen. Also when the panel confirmed
	 * an account deletion no DeleteAccount was waiting for (401 not_logged_in; the player's data is wiped).
	 */
	UPROPERTY(BlueprintAssignable, Category = "Gaming Panel|Auth")
	FGamingPanelSessionLostSignature OnSessionLost;

	/**
	 * A Login settled a DELETE left unconfirmed by an earlier session: bDeleted when the login created a player on the
	 * DELETE's platform (the old account was erased; its data on the device is wiped now); otherwise Error is 409
	 * deletion_not_done: the login answered the same player, the account still exists. Ask the player again; the
	 * plugin never resends it on its own.
	 */
	UPROPERTY(BlueprintAssignable, Category = "Gaming Panel|Account")
	FGamingPanelDeletionSettledSignature OnAccountDeletionSettled;

private:
	struct FCall;

	bool IsRefreshDue() const;
	/** bForce: even right after a failed refresh (the server just answered, so it is reachable). */
	void Refresh(FOnDone OnComplete, bool bForce = false);
	/** One POST auth/refresh, its answer as FGamingPanelTokenRefresh takes it. */
	void SendRefresh(const FString& Token, FGamingPanelTokenRefresh::FOnAnswer OnAnswer);
	/** The last answer of the refresh started in session Generation: saves the pair, keeps the session, or ends it. */
	void RefreshAnswered(int32 Generation, const FGamingPanelRefreshAnswer& Answer);
	/** FinishRefresh, unless the refresh started in session Generation was already answered (Logout). */
	void FinishRefreshOf(int32 Generation, bool bOk, const FGamingPanelError& Error);
	/** Answers the login's waiters, unless the login started in session Generation was already answered (Logout). */
	void FinishLogin(int32 Generation, bool bOk, const FGamingPanelLoginResult& Result, const FGamingPanelError& Error);
	void SendLogout(const FString& Token);
	void RecoverFromUnauthorized(const FString& FailedAccessToken, FOnAccessToken OnComplete);
	/**
	 * Player's session renewed after FailedAccessToken got a 401 once a DELETE player went out: never logs in, answers
	 * no other player's token; a refusal is decided by AccountDeletion->RefreshRefused (RefreshAnswered).
	 */
	void RenewWithoutLogin(const FString& Player, const FString& FailedAccessToken, FOnAccessToken OnComplete);
	void StartCall(TSharedRef<FCall> Call);
	void SendWithToken(TSharedRef<FCall> Call, const FString& Token, bool bMayRecover);
	void FinishCall(TSharedRef<FCall> Call, const FGamingPanelResponse& Response);
	void ApplyTokens(const FJsonObject& Json);
	void ClearSession();
	/**
	 * The account of Player was deleted: forget everything kept for them, in memory and on disk (DeleteAccount).
	 * bTell: OnSessionLost when no DeleteAccount waits (not when a login settled it: that session is alive). The calls
	 * waiting on the session's refresh or login hear not_logged_in last: after the wipe and OnSessionLost.
	 */
	void WipeDeletedPlayer(const FString& Player, bool bTell = true);
	/**
	 * Player's session was revoked, not by the erasure, while a DELETE of theirs is unconfirmed: lost, the DELETE kept.
	 * OnSessionLost, then the calls waiting on the refresh in flight hear not_logged_in (FGamingPanelTokenRefresh::EndSession).
	 */
	void LoseSessionKeepingDeletion(const FString& Player);
	/** WipeDeletedPlayer(Player), for as long as the subsystem is there. */
	TFunction<void()> WipeFor(const FString& Player);
	void LoseSession(const FGamingPanelError& Error);
	bool TickRefresh(float DeltaSeconds);

	void SaveState() const;
	void LoadState();
	/** The session file could be neither read nor moved aside: SaveState leaves it as it is this session. */
	bool bStateMemoryOnly = false;
	FString StateFilePath() const;
	FString PendingPurchaseSlot(const FString& OfferId, int32 Quantity) const;

	FString Url(const FString& Path) const;

	FString AccessToken;
	FString RefreshToken;
	FDateTime AccessExpiresAt;
	FDateTime RefreshExpiresAt;
	FString PlayerId;
	FString DisplayName;
	/** The platform the session logged in with (saved with it): the one an unconfirmed DELETE is settled on. */
	FString SessionPlatform;

	TSharedPtr<IGamingPanelCredentialProvider> CredentialProvider;
	bool bLoginInFlight = false;
	TArray<FOnLogin> LoginWaiters;
	/** The refresh in flight, its waiters, resends and pause (GamingPanelTokenRefresh.h). Made in Initialize. */
	TSharedPtr<FGamingPanelTokenRefresh> TokenRefresh;
	/** +1 at every login and every end of a session: answers for an older generation are discarded. */
	int32 SessionGeneration = 0;
	/** The generations the login and the refresh in flight started in. */
	int32 LoginGeneration = 0;
	int32 RefreshGeneration = 0;
	/** A Logout whose access token had expired waits for the refresh that was already out, to log out with its token. */
	bool bLogoutAwaitsRefresh = false;
	/** The refresh in flight was asked for by an account deletion (RenewWithoutLogin): a refusal ends it with no login. */
	bool bRefreshWithoutLogin = false;

	/** "player|offer|quantity" -> Idempotency-Key of an attempt without a definitive answer yet. */
	TMap<FString, FString> PendingPurchaseKeys;

	FTSTicker::FDelegateHandle RefreshTickerHandle;

	TSharedPtr<FGamingPanelAnalytics> Analytics;

	/** DeleteAccount's decisions, and the DELETE of a player still unanswered (GamingPanelAccount.h). Made in Initialize. */
	TSharedPtr<FGamingPanelAccountDeletion> AccountDeletion;
	/** DeleteAccount calls waiting for their outcome: while there are some, a confirmed deletion does not broadcast OnSessionLost. */
	int32 DeleteAccountWaiters = 0;
};
