// Gaming Panel Unreal example: Blueprint async nodes (Login, Get Player Stats, Get Inventory, Purchase Offer, Delete
// Account, Request Data Export).
//
// Each node has On Success / On Failure pins; On Failure carries an FGamingPanelError (branch on Code).
#pragma once

#include "CoreMinimal.h"
#include "Kismet/BlueprintAsyncActionBase.h"
#include "GamingPanelTypes.h"
#include "GamingPanelAsyncActions.generated.h"

class UGamingPanelSubsystem;
class IGamingPanelCredentialProvider;

DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(FGamingPanelLoginPin, const FGamingPanelLoginResult&, Result, const FGamingPanelError&, Error);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(FGamingPanelStatsPin, const FGamingPanelPlayerStats&, Stats, const FGamingPanelError&, Error);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(FGamingPanelInventoryPin, const FGamingPanelInventory&, Inventory, const FGamingPanelError&, Error);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(FGamingPanelPurchasePin, const FGamingPanelPurchaseResult&, Result, const FGamingPanelError&, Error);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FGamingPanelDeleteAccountPin, const FGamingPanelError&, Error);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(FGamingPanelDataExportPin, const FString&, Json, const FGamingPanelError&, Error);

UCLASS()
class GAMINGPANEL_API UGamingPanelLoginAction : public UBlueprintAsyncActionBase
{
	GENERATED_BODY()

public:
	UPROPERTY(BlueprintAssignable)
	FGamingPanelLoginPin OnSuccess;

	UPROPERTY(BlueprintAssignable)
	FGamingPanelLoginPin OnFailure;

	/** Sandbox login (games in sandbox mode only, e.g. the local demo game). */
	UFUNCTION(BlueprintCallable, Category = "Gaming Panel|Auth", meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject"))
	static UGamingPanelLoginAction* LoginWithDev(UObject* WorldContextObject, const FString& UserId, const FString& DisplayName);

	/** Steam login with a Web API ticket (identity from Project Settings). Fails with credentials_unavailable without Steam. */
	UFUNCTION(BlueprintCallable, Category = "Gaming Panel|Auth", meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject"))
	static UGamingPanelLoginAction* LoginWithSteam(UObject* WorldContextObject);

	/** Continues the session saved by an earlier launch; On Failure (not_logged_in) means: show the login screen. */
	UFUNCTION(BlueprintCallable, Category = "Gaming Panel|Auth", meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject"))
	static UGamingPanelLoginAction* ResumeSession(UObject* WorldContextObject);

	virtual void Activate() override;

private:
	void Finish(bool bOk, const FGamingPanelLoginResult& Result, const FGamingPanelError& Error);

	TWeakObjectPtr<UGamingPanelSubsystem> Subsystem;
	TSharedPtr<IGamingPanelCredentialProvider> Provider;
	FGamingPanelError SetupError;
};

UCLASS()
class GAMINGPANEL_API UGamingPanelGetStatsAction : public UBlueprintAsyncActionBase
{
	GENERATED_BODY()

public:
	UPROPERTY(BlueprintAssignable)
	FGamingPanelStatsPin OnSuccess;

	UPROPERTY(BlueprintAssignable)
	FGamingPanelStatsPin OnFailure;

	UFUNCTION(BlueprintCallable, Category = "Gaming Panel|Player", meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject"))
	static UGamingPanelGetStatsAction* GetPlayerStats(UObject* WorldContextObject);

	virtual void Activate() override;

private:
	TWeakObjectPtr<UGamingPanelSubsystem> Subsystem;
};

UCLASS()
class GAMINGPANEL_API UGamingPanelGetInventoryAction : public UBlueprintAsyncActionBase
{
	GENERATED_BODY()

public:
	UPROPERTY(BlueprintAssignable)
	FGamingPanelInventoryPin OnSuccess;

	UPROPERTY(BlueprintAssignable)
	FGamingPanelInventoryPin OnFailure;

	UFUNCTION(BlueprintCallable, Category = "Gaming Panel|Player", meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject"))
	static UGamingPanelGetInventoryAction* GetInventory(UObject* WorldContextObject);

	virtual void Activate() override;

private:
	TWeakObjectPtr<UGamingPanelSubsystem> Subsystem;
};

UCLASS()
class GAMINGPANEL_API UGamingPanelPurchaseAction : public UBlueprintAsyncActionBase
{
	GENERATED_BODY()

public:
	/** Completed: new Balances. Pending (real money): open Checkout Url (Launch URL node). */
	UPROPERTY(BlueprintAssignable)
	FGamingPanelPurchasePin OnSuccess;

	/**
	 * insufficient_funds, validation_error... or a transient error (network_error, rate_limited, request_in_progress):
	 * buying again resumes the same attempt. payment_provider_unavailable: nothing was charged and the attempt is over;
	 * offer "try again", which starts a new attempt.
	 */
	UPROPERTY(BlueprintAssignable)
	FGamingPanelPurchasePin OnFailure;

	UFUNCTION(BlueprintCallable, Category = "Gaming Panel|Shop", meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject"))
	static UGamingPanelPurchaseAction* PurchaseOffer(UObject* WorldContextObject, const FString& OfferId, int32 Quantity = 1);

	virtual void Activate() override;

private:
	TWeakObjectPtr<UGamingPanelSubsystem> Subsystem;
	FString OfferId;
	int32 Quantity = 1;
};

UCLASS()
class GAMINGPANEL_API UGamingPanelDeleteAccountAction : public UBlueprintAsyncActionBase
{
	GENERATED_BODY()

public:
	/** The account is deleted and nothing of the player is left on the device; the player is logged out: show the login screen. */
	UPROPERTY(BlueprintAssignable)
	FGamingPanelDeleteAccountPin OnSuccess;

	/** Not deleted (network_error, a 5xx after the retries, not_logged_in...): nothing was wiped. Deleting again resends a DELETE that went out. */
	UPROPERTY(BlueprintAssignable)
	FGamingPanelDeleteAccountPin OnFailure;

	/** UGamingPanelSubsystem::DeleteAccount: call it only after the player confirmed in the game's own UI (the node asks nothing). */
	UFUNCTION(BlueprintCallable, Category = "Gaming Panel|Account", meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject"))
	static UGamingPanelDeleteAccountAction* DeleteAccount(UObject* WorldContextObject);

	virtual void Activate() override;

private:
	TWeakObjectPtr<UGamingPanelSubsystem> Subsystem;
};

UCLASS()
class GAMINGPANEL_API UGamingPanelDataExportAction : public UBlueprintAsyncActionBase
{
	GENERATED_BODY()

public:
	/** Json: what the panel holds about the player, as the panel sent it (not stored on the device). */
	UPROPERTY(BlueprintAssignable)
	FGamingPanelDataExportPin OnSuccess;

	UPROPERTY(BlueprintAssignable)
	FGamingPanelDataExportPin OnFailure;

	/** UGamingPanelSubsystem::RequestDataExport (GET player/data-export). */
	UFUNCTION(BlueprintCallable, Category = "Gaming Panel|Account", meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject"))
	static UGamingPanelDataExportAction* RequestDataExport(UObject* WorldContextObject);

	virtual void Activate() override;

private:
	TWeakObjectPtr<UGamingPanelSubsystem> Subsystem;
};
