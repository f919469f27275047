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

	bool IsSet() const { return !Code.IsEmpty(); }
	bool IsNetworkError() const { return Status == 0; }
	/** No answer, 429, 5xx, or 409 request_in_progress (the first request with this Idempotency-Key is still being
	 *  processed): the same request may succeed later. */
	bool IsTransient() const
	{
		return Status == 0 || Status == 429 || Status >= 500 || (Status == 409 && Code == TEXT("request_in_progress"));
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

	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "Gaming Panel")
	FString Mode;

	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "Gaming Panel")
	FDateTime StartedAt;

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
