// Gaming Panel Unreal example: one HTTP exchange over FHttpModule, JSON helpers and the error codes.
#pragma once

#include "CoreMinimal.h"
#include "Dom/JsonObject.h"
#include "Dom/JsonValue.h"
#include "GamingPanelTypes.h"

/** Stable machine codes (the problem JSON "code"), plus the ones the client makes up. */
namespace GamingPanelErrorCodes
{
	inline const TCHAR* InvalidCredentials = TEXT("invalid_credentials");
	inline const TCHAR* TokenExpired = TEXT("token_expired");
	inline const TCHAR* TokenRevoked = TEXT("token_revoked");
	inline const TCHAR* InvalidToken = TEXT("invalid_token");
	inline const TCHAR* RefreshTokenReused = TEXT("refresh_token_reused");
	inline const TCHAR* PlayerBanned = TEXT("player_banned");
	inline const TCHAR* InsufficientFunds = TEXT("insufficient_funds");
	inline const TCHAR* AlreadyClaimed = TEXT("already_claimed");
	inline const TCHAR* RateLimited = TEXT("rate_limited");
	inline const TCHAR* PlatformUnavailable = TEXT("platform_unavailable");
	inline const TCHAR* RequestInProgress = TEXT("request_in_progress");
	inline const TCHAR* PaymentProviderUnavailable = TEXT("payment_provider_unavailable");
	inline const TCHAR* ValidationError = TEXT("validation_error");
	inline const TCHAR* IdempotencyKeyReused = TEXT("idempotency_key_reused");
	inline const TCHAR* ReceiptAccountMismatch = TEXT("receipt_account_mismatch");
	// Client side, no server answer behind them:
	inline const TCHAR* NetworkError = TEXT("network_error");
	inline const TCHAR* InvalidResponse = TEXT("invalid_response");
	inline const TCHAR* NotLoggedIn = TEXT("not_logged_in");
	inline const TCHAR* CredentialsUnavailable = TEXT("credentials_unavailable");
	/** A DELETE of the account was left unconfirmed and the next login answered the same player: the account still exists. */
	inline const TCHAR* DeletionNotDone = TEXT("deletion_not_done");
}

/**
 * Store purchases. The account token ties a purchase to its player: RFC 9562 UUID version 5 (SHA-1) of the
 * player id login returned (decimal text, e.g. "7") in the namespace 30e9ef35-f03c-5ad2-a865-50d1cf91596e
 * (= uuid5(NAMESPACE_URL, "https://gamingpanel/store-account")), lower-case 8-4-4-4-12 hex; the server
 * derives the same value from the player it knows.
 */
namespace GamingPanelStore
{
	GAMINGPANEL_API FString AccountTokenFor(const FString& PlayerId);
}

/** The `receipt` of POST shop/receipts, per store. */
namespace GamingPanelStoreReceipts
{
	/** StoreKit 2: Transaction.jwsRepresentation. */
	GAMINGPANEL_API TSharedPtr<FJsonValue> AppleSignedTransaction(const FString& JwsRepresentation);
	/** StoreKit 1: SKPaymentTransaction.transactionIdentifier (the server looks it up with Apple). */
	GAMINGPANEL_API TSharedPtr<FJsonValue> AppleTransactionId(const FString& TransactionIdentifier);
	/** Google Play Billing: Purchase.getPurchaseToken(). */
	GAMINGPANEL_API TSharedPtr<FJsonValue> GooglePlayPurchaseToken(const FString& PurchaseToken);
}

/** A finished exchange: bOk for a 2xx (Json holds the body), otherwise Error says why. */
struct GAMINGPANEL_API FGamingPanelResponse
{
	bool bOk = false;
	int32 Status = 0;
	FString Body;
	/** The ETag header (cloud save documents, remote config), empty when absent. */
	FString ETag;
	/** The Content-Type header (application/problem+json for the panel's errors), empty when absent. */
	FString ContentType;
	/** The Date header (the panel's clock, an HTTP-date to the second), empty when absent. */
	FString Date;
	/** The parsed body (an object or an array, or any JSON value); invalid for an empty body. */
	TSharedPtr<FJsonValue> Json;
	FGamingPanelError Error;

	/** The body as an object, or nullptr. */
	TSharedPtr<FJsonObject> JsonObject() const;

	static FGamingPanelResponse Failure(const FGamingPanelError& InError);
};

using FGamingPanelResponseCallback = TFunction<void(const FGamingPanelResponse&)>;

class GAMINGPANEL_API FGamingPanelHttp
{
public:
	/**
	 * Sends one request. OnComplete runs on the game thread, exactly once. Never logs headers or bodies:
	 * they hold tokens, tickets and server keys.
	 */
	static void Send(const FString& Verb, const FString& Url, const TMap<FString, FString>& Headers,
		const TSharedPtr<FJsonObject>& Body, float TimeoutSeconds, FGamingPanelResponseCallback OnComplete);

	/** Like Send, retrying network errors, 429 and 5xx up to MaxRetries times (after Retry-After, or 1, 2, 4 s); a
	 *  Retry-After over MaxRetryWaitSeconds ends it with the error instead. Only for requests that are safe to repeat. */
	static void SendWithRetries(const FString& Verb, const FString& Url, const TMap<FString, FString>& Headers,
		const TSharedPtr<FJsonObject>& Body, float TimeoutSeconds, int32 MaxRetries, FGamingPanelResponseCallback OnComplete);

	/** Runs Callback on the game thread after Seconds (core ticker). */
	static void Delay(float Seconds, TFunction<void()> Callback);

	static FString JoinUrl(const FString& BaseUrl, const FString& Path);
	static FString ToJsonString(const TSharedRef<FJsonObject>& Object);
	/** Any JSON text (an object, an array, a string, a number, true/false/null) as a value; nullptr when it is not JSON. */
	static TSharedPtr<FJsonValue> ParseJson(const FString& Text);
	/** Seconds to wait before retry attempt number Attempt (0-based): the answer's Retry-After when it has one, in full
	 *  (sent sooner, the request would only be refused again), else 1, 2, 4, 8 s. Inline so
	 *  Tests/CloudSaveQueueTest.cpp runs it. */
	static float RetryDelaySeconds(const FGamingPanelError& Error, int32 Attempt)
	{
		if (Error.RetryAfterSeconds >= 0.f) return Error.RetryAfterSeconds;
		return FMath::Min(8.f, static_cast<float>(1 << FMath::Clamp(Attempt, 0, 3))); // 1, 2, 4, 8 s
	}
	/** SendWithRetries waits at most this long before a retry: a longer Retry-After ends the call with the error (its
	 *  RetryAfterSeconds says when to try again), so nothing is sent again sooner than the panel asked. */
	static constexpr float MaxRetryWaitSeconds = 60.f;
	/** The panel's clock minus the device's, in seconds, learned from the Date header of the last answer that had
	 *  one (any request, errors included); false before any. In memory only. Analytics events are stamped with it. */
	static bool GetPanelClockOffset(int64& OutSeconds);
	/** A Date header (HTTP-date) in Unix seconds; 0 when it is empty or not an HTTP-date. */
	static int64 ParseDateHeader(const FString& Date);
};

/** The plugin's local files (session, cloud saves, remote config), never left half written. */
namespace GamingPanelFiles
{
	/**
	 * Writes Text to "<Path>.tmp", then moves that over Path in one call (IFileManager::Move, replacing): a crash
	 * mid-write leaves the previous file, never a half one.
	 */
	GAMINGPANEL_API bool SaveText(const FString& Text, const FString& Path);
	/** Reads Path, or "<Path>.tmp" when Path is missing (a crash between writing the temporary file and moving it). */
	GAMINGPANEL_API bool LoadText(FString& OutText, const FString& Path);
	/** Whether Path, or its "<Path>.tmp", is on disk (LoadText failing on an existing file: it cannot be read). */
	GAMINGPANEL_API bool Exists(const FString& Path);
	/**
	 * Moves a file that cannot be read (Path, or "<Path>.tmp" when Path is missing) beside it, as
	 * "<Path>.unreadable-<unix time>", never over another file, so nothing is written over what it holds. Answers
	 * where it went, or an empty string when it could not be moved (another program holds it).
	 */
	GAMINGPANEL_API FString SetAside(const FString& Path);

	/** What LoadState found on disk. */
	enum class EStateFile : uint8
	{
		/** No file: start empty, and write one. */
		Missing,
		/** Read: OutText holds it. */
		Read,
		/** A file that could not be read was moved aside (kept, never written over): start empty, and write a new one. */
		MovedAside,
		/** A file that could not be read could not be moved either: keep this session's state in memory, never write the file. */
		MemoryOnly,
	};

	/**
	 * Reads a file that holds what only this device knows (the session and its purchases' Idempotency-Keys, queued
	 * cloud saves, analytics events not sent yet), so that one which exists but cannot be read (cut short, corrupt,
	 * held by another program) is never written over, which would lose what it holds: it is moved aside (SetAside),
	 * or, when it cannot be moved, the caller must not write the file this session (MemoryOnly). IsReadable: whether
	 * the text is what the caller expects (text that is not counts as unreadable). What names the file in the log.
	 */
	GAMINGPANEL_API EStateFile LoadState(FString& OutText, const FString& Path, const TFunction<bool(const FString&)>& IsReadable, const TCHAR* What);

	/**
	 * A deleted player's folder (Saved/GamingPanel/<player>): from now on SaveText writes nothing under it in this run,
	 * so a late answer (a sync, a flush, a config fetch still out) cannot put the player's data back. In memory.
	 */
	GAMINGPANEL_API void MarkErased(const FString& Folder);
	/** Path is under a folder MarkErased was called with. */
	GAMINGPANEL_API bool IsErased(const FString& Path);
	/**
	 * MarkErased(Folder), then deletes it with everything in it (cloud_saves.json, remote_config.json,
	 * analytics_queue.json, their .tmp and .unreadable-* copies). True when nothing of it is left.
	 */
	GAMINGPANEL_API bool EraseFolder(const FString& Folder);
	/** Deletes Path and its "<Path>.tmp"; true when neither is left. */
	GAMINGPANEL_API bool DeleteFile(const FString& Path);
}

/** Lenient readers: a missing or mistyped field gives the fallback instead of failing the whole response. */
namespace GamingPanelJson
{
	GAMINGPANEL_API FString GetString(const FJsonObject& Object, const FString& Field, const FString& Fallback = FString());
	GAMINGPANEL_API int64 GetInt(const FJsonObject& Object, const FString& Field, int64 Fallback = 0);
	GAMINGPANEL_API double GetNumber(const FJsonObject& Object, const FString& Field, double Fallback = 0.0);
	GAMINGPANEL_API bool GetBool(const FJsonObject& Object, const FString& Field, bool bFallback = false);
	/** Ids may be numbers or strings on the wire; both come back as a string ("7"). */
	GAMINGPANEL_API FString GetId(const FJsonObject& Object, const FString& Field);
	/** Writes an id back the way the server sent it: digits as a number, anything else as a string. */
	GAMINGPANEL_API void SetId(FJsonObject& Object, const FString& Field, const FString& Id);
	GAMINGPANEL_API TSharedPtr<FJsonObject> GetObject(const FJsonObject& Object, const FString& Field);
	GAMINGPANEL_API const TArray<TSharedPtr<FJsonValue>>* GetArray(const FJsonObject& Object, const FString& Field);
	GAMINGPANEL_API FString ValueToString(const TSharedPtr<FJsonValue>& Value);
}
