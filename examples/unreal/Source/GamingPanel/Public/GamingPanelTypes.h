// Gaming Panel Unreal example: Blueprint-visible data returned by the API.
#pragma once

#include "CoreMinimal.h"
#include "GamingPanelTypes.generated.h"

class FJsonObject;

/**
 * Every failure, from the server's problem JSON ({"type","title","status","detail","code"}) or made up on the
 * client when no response arrived (Status 0, Code "network_error"). Branch on Code; it is a stable string.
 */
USTRUCT(BlueprintType)
struct GAMINGPANEL_API FGamingPanelError
{
	GENERATED_BODY()

	/** HTTP status, or 0 when the server could not be reached. */
	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	int32 Status = 0;

	/** invalid_credentials, token_expired, token_revoked, insufficient_funds, already_claimed, rate_limited, platform_unavailable, validation_error, idempotency_key_reused, network_error... */
	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	FString Code;

	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	FString Title;

	/** For logs and support. Map Code to your own localised text for players. */
	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	FString Detail;

	/** From Retry-After on 429/503; negative when absent. */
	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	float RetryAfterSeconds = -1.f;

	/** The problem document's "account_deleted": true (only with 401 token_revoked: the token's account was erased). */
	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	bool bAccountDeleted = false;

	bool IsSet() const { return !Code.IsEmpty(); }
	bool IsNetworkError() const { return Status == 0; }
	/** No answer, 429, 5xx, or 409 request_in_progress (the first request with this Idempotency-Key is still being
	 *  processed): the same request may succeed later. One exception: a purchase's 503 payment_provider_unavailable
	 *  is worth trying again only as a new attempt with a new key (EndsPurchaseAttempt). */
	bool IsTransient() const
	{
		return Status == 0 || Status == 429 || Status >= 500 || (Status == 409 && Code == TEXT("request_in_progress"));
	}

	/** 401 token_revoked because the account was erased; every other token_revoked (a logout, an operator, reuse detection) is not. */
	bool IsAccountErased() const
	{
		return Status == 401 && Code == TEXT("token_revoked") && bAccountDeleted;
	}

	/** The server refused the session itself: 401 invalid_token, token_expired, token_revoked, refresh_token_reused, or
	 *  403 player_banned, each from the panel's problem document. Only these end a session when a refresh fails;
	 *  anything else (no answer, 429, 5xx, a proxy's HTML 403/404, a 408) keeps it. */
	bool EndsSession() const
	{
		if (Status == 401)
		{
			return Code == TEXT("invalid_token") || Code == TEXT("token_expired") || Code == TEXT("token_revoked")
				|| Code == TEXT("refresh_token_reused");
		}
		return Status == 403 && Code == TEXT("player_banned");
	}

	/** A purchase attempt (its Idempotency-Key) is over: a refusal about the purchase itself (a 4xx other than 401/403
	 *  and the transient 429 and 409 request_in_progress), or 503 payment_provider_unavailable. That one is transient
	 *  for the player but final for the key: nothing was charged, the purchase ended, and the server answers the same
	 *  key with this 503 for ever, so "try again" is a new attempt with a new key. */
	bool EndsPurchaseAttempt() const
	{
		if (Status == 503 && Code == TEXT("payment_provider_unavailable"))
		{
			return true;
		}
		return Status >= 400 && Status < 500 && Status != 401 && Status != 403 && !IsTransient();
	}

	static FGamingPanelError Make(int32 InStatus, const FString& InCode, const FString& InDetail);
	static FGamingPanelError Network(const FString& InDetail);
	/** Reads a problem document; tolerates bodies that are not JSON (proxies, load balancers). */
	static FGamingPanelError FromResponse(int32 InStatus, const FString& Body, const FString& RetryAfterHeader);
	FString ToString() const;
};

USTRUCT(BlueprintType)
struct GAMINGPANEL_API FGamingPanelLoginResult
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	FString PlayerId;

	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	FString DisplayName;

	/** True when this login created the player (first launch on this platform account). */
	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	bool bCreated = false;
};

/** GET player/stats */
USTRUCT(BlueprintType)
struct GAMINGPANEL_API FGamingPanelPlayerStats
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	FString PlayerId;

	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	int64 Level = 0;

	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	int64 Xp = 0;

	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	int64 XpToNextLevel = 0;

	/** Game-defined counters ("kills", "wins"...). */
	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	TMap<FString, double> Stats;

	static FGamingPanelPlayerStats FromJson(const FJsonObject& Json);
};

USTRUCT(BlueprintType)
struct GAMINGPANEL_API FGamingPanelInventoryItem
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	FString Sku;

	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	FString Name;

	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	int64 Quantity = 0;
};

/** GET player/inventory */
USTRUCT(BlueprintType)
struct GAMINGPANEL_API FGamingPanelInventory
{
	GENERATED_BODY()

	/** Balance per currency code. Whole numbers: the API never uses floats for money. */
	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	TMap<FString, int64> Currencies;

	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	TArray<FGamingPanelInventoryItem> Items;

	static FGamingPanelInventory FromJson(const FJsonObject& Json);
};

UENUM(BlueprintType)
enum class EGamingPanelPurchaseStatus : uint8
{
	/** 201: paid with virtual currency; contents granted; Balances are the new balances. */
	Completed,
	/** 202: real money; open CheckoutUrl; the grant arrives when the payment processor confirms. */
	Pending
};

/** POST shop/purchase */
USTRUCT(BlueprintType)
struct GAMINGPANEL_API FGamingPanelPurchaseResult
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	EGamingPanelPurchaseStatus Status = EGamingPanelPurchaseStatus::Completed;

	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	FString PurchaseId;

	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	FString IdempotencyKey;

	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	TMap<FString, int64> Balances;

	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	FString CheckoutUrl;

	static FGamingPanelPurchaseResult FromJson(int32 HttpStatus, const FJsonObject& Json, const FString& Key);
};

/** POST multiplayer/validate-token (server side). */
USTRUCT(BlueprintType)
struct GAMINGPANEL_API FGamingPanelTokenValidation
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	bool bValid = false;

	/** Why not valid ("expired", "revoked"...), when bValid is false. */
	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	FString Reason;

	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	FString PlayerId;

	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	FString GameId;

	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	TArray<FString> Permissions;

	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	FDateTime ExpiresAt;

	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	FString DisplayName;

	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	int64 Level = 0;

	UPROPERTY(BlueprintReadOnly, Category = "Gaming Panel")
	bool bBanned = false;

	/** A valid token of a player who is not banned. */
	bool MayJoin() const { return bValid && !bBanned; }

	static FGamingPanelTokenValidation FromJson(const FJsonObject& Json);
};

UENUM(BlueprintType)
enum class EGamingPanelMatchOutcome : uint8
{
	Win,
	Loss,
	Draw
};

USTRUCT(BlueprintType)
struct GAMINGPANEL_API FGamingPanelMatchPlayer
{
	GENERATED_BODY()

	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "Gaming Panel")
	FString PlayerId;

	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "Gaming Panel")
	EGamingPanelMatchOutcome Outcome = EGamingPanelMatchOutcome::Loss;

	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "Gaming Panel")
	int64 Score = 0;

	/** Whole numbers only ("kills": 12): the panel stores match stats as integers. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "Gaming Panel")
	TMap<FString, int64> Stats;
};

/** POST multiplayer/match-result. The server applies each MatchId once, however often it is sent. */
USTRUCT(BlueprintType)
struct GAMINGPANEL_API FGamingPanelMatchResult
{
	GENERATED_BODY()

	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "Gaming Panel")
	FString MatchId;

	/** Optional; left out when empty (the panel then applies only the XP rules for every mode). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "Gaming Panel")
	FString Mode;

	/** Optional; left out when unset (FDateTime()): the panel takes EndedAt. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "Gaming Panel")
	FDateTime StartedAt;

	/** Optional; left out when unset (FDateTime()): the panel takes the time it receives the result. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "Gaming Panel")
	FDateTime EndedAt;

	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "Gaming Panel")
	TArray<FGamingPanelMatchPlayer> Players;

	TSharedRef<FJsonObject> ToJson() const;
};

/** POST multiplayer/servers/heartbeat: what clients see in GET multiplayer/server-info. */
USTRUCT(BlueprintType)
struct GAMINGPANEL_API FGamingPanelServerStatus
{
	GENERATED_BODY()

	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "Gaming Panel")
	FString ServerId;

	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "Gaming Panel")
	FString Region;

	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "Gaming Panel")
	FString Address;

	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "Gaming Panel")
	int32 Port = 7777;

	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "Gaming Panel")
	int32 Capacity = 16;

	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "Gaming Panel")
	int32 Players = 0;

	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "Gaming Panel")
	FString Mode;

	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "Gaming Panel")
	FString Version;

	TSharedRef<FJsonObject> ToJson() const;
};
