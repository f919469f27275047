// Gaming Panel Unreal example: Blueprint async nodes.
#include "GamingPanelAsyncActions.h"
#include "GamingPanelCredentials.h"
#include "GamingPanelHttp.h"
#include "GamingPanelSettings.h"
#include "GamingPanelSubsystem.h"

namespace
{
	FGamingPanelError NoSubsystem()
	{
		return FGamingPanelError::Make(0, TEXT("no_subsystem"), TEXT("No Gaming Panel subsystem: call the node from an object that has a world."));
	}
}

// ------------------------------------------------------------------------------------------------ login

UGamingPanelLoginAction* UGamingPanelLoginAction::LoginWithDev(UObject* WorldContextObject, const FString& UserId, const FString& DisplayName)
{
	UGamingPanelLoginAction* Action = NewObject<UGamingPanelLoginAction>();
	Action->Subsystem = UGamingPanelSubsystem::Get(WorldContextObject);
	Action->Provider = MakeShared<FGamingPanelDevCredentials>(UserId, DisplayName);
	Action->RegisterWithGameInstance(WorldContextObject);
	return Action;
}

UGamingPanelLoginAction* UGamingPanelLoginAction::LoginWithSteam(UObject* WorldContextObject)
{
	UGamingPanelLoginAction* Action = NewObject<UGamingPanelLoginAction>();
	Action->Subsystem = UGamingPanelSubsystem::Get(WorldContextObject);
	Action->Provider = MakeGamingPanelSteamCredentials(GetDefault<UGamingPanelSettings>()->SteamIdentity);
	if (!Action->Provider.IsValid())
	{
		Action->SetupError = FGamingPanelError::Make(0, GamingPanelErrorCodes::CredentialsUnavailable, TEXT("This build has no Steam support."));
	}
	Action->RegisterWithGameInstance(WorldContextObject);
	return Action;
}

UGamingPanelLoginAction* UGamingPanelLoginAction::ResumeSession(UObject* WorldContextObject)
{
	UGamingPanelLoginAction* Action = NewObject<UGamingPanelLoginAction>();
	Action->Subsystem = UGamingPanelSubsystem::Get(WorldContextObject);
	Action->RegisterWithGameInstance(WorldContextObject);
	return Action;
}

void UGamingPanelLoginAction::Activate()
{
	UGamingPanelSubsystem* Panel = Subsystem.Get();
	if (Panel == nullptr || SetupError.IsSet())
	{
		Finish(false, FGamingPanelLoginResult(), SetupError.IsSet() ? SetupError : NoSubsystem());
		return;
	}
	TWeakObjectPtr<UGamingPanelLoginAction> WeakThis(this);
	auto OnDone = [WeakThis](bool bOk, const FGamingPanelLoginResult& Result, const FGamingPanelError& Error)
	{
		if (UGamingPanelLoginAction* Self = WeakThis.Get())
		{
			Self->Finish(bOk, Result, Error);
		}
	};
	if (Provider.IsValid())
	{
		Panel->Login(Provider, OnDone);
	}
	else
	{
		Panel->ResumeSession(OnDone);
	}
}

void UGamingPanelLoginAction::Finish(bool bOk, const FGamingPanelLoginResult& Result, const FGamingPanelError& Error)
{
	if (bOk)
	{
		OnSuccess.Broadcast(Result, Error);
	}
	else
	{
		OnFailure.Broadcast(Result, Error);
	}
	SetReadyToDestroy();
}

// ------------------------------------------------------------------------------------------------ stats

UGamingPanelGetStatsAction* UGamingPanelGetStatsAction::GetPlayerStats(UObject* WorldContextObject)
{
	UGamingPanelGetStatsAction* Action = NewObject<UGamingPanelGetStatsAction>();
	Action->Subsystem = UGamingPanelSubsystem::Get(WorldContextObject);
	Action->RegisterWithGameInstance(WorldContextObject);
	return Action;
}

void UGamingPanelGetStatsAction::Activate()
{
	UGamingPanelSubsystem* Panel = Subsystem.Get();
	if (Panel == nullptr)
	{
		OnFailure.Broadcast(FGamingPanelPlayerStats(), NoSubsystem());
		SetReadyToDestroy();
		return;
	}
	TWeakObjectPtr<UGamingPanelGetStatsAction> WeakThis(this);
	Panel->GetPlayerStats([WeakThis](bool bOk, const FGamingPanelPlayerStats& Stats, const FGamingPanelError& Error)
	{
		if (UGamingPanelGetStatsAction* Self = WeakThis.Get())
		{
			(bOk ? Self->OnSuccess : Self->OnFailure).Broadcast(Stats, Error);
			Self->SetReadyToDestroy();
		}
	});
}

// ------------------------------------------------------------------------------------------------ inventory

UGamingPanelGetInventoryAction* UGamingPanelGetInventoryAction::GetInventory(UObject* WorldContextObject)
{
	UGamingPanelGetInventoryAction* Action = NewObject<UGamingPanelGetInventoryAction>();
	Action->Subsystem = UGamingPanelSubsystem::Get(WorldContextObject);
	Action->RegisterWithGameInstance(WorldContextObject);
	return Action;
}

void UGamingPanelGetInventoryAction::Activate()
{
	UGamingPanelSubsystem* Panel = Subsystem.Get();
	if (Panel == nullptr)
	{
		OnFailure.Broadcast(FGamingPanelInventory(), NoSubsystem());
		SetReadyToDestroy();
		return;
	}
	TWeakObjectPtr<UGamingPanelGetInventoryAction> WeakThis(this);
	Panel->GetInventory([WeakThis](bool bOk, const FGamingPanelInventory& Inventory, const FGamingPanelError& Error)
	{
		if (UGamingPanelGetInventoryAction* Self = WeakThis.Get())
		{
			(bOk ? Self->OnSuccess : Self->OnFailure).Broadcast(Inventory, Error);
			Self->SetReadyToDestroy();
		}
	});
}

// ------------------------------------------------------------------------------------------------ purchase

UGamingPanelPurchaseAction* UGamingPanelPurchaseAction::PurchaseOffer(UObject* WorldContextObject, const FString& OfferId, int32 Quantity)
{
	UGamingPanelPurchaseAction* Action = NewObject<UGamingPanelPurchaseAction>();
	Action->Subsystem = UGamingPanelSubsystem::Get(WorldContextObject);
	Action->OfferId = OfferId;
	Action->Quantity = Quantity;
	Action->RegisterWithGameInstance(WorldContextObject);
	return Action;
}

void UGamingPanelPurchaseAction::Activate()
{
	UGamingPanelSubsystem* Panel = Subsystem.Get();
	if (Panel == nullptr)
	{
		OnFailure.Broadcast(FGamingPanelPurchaseResult(), NoSubsystem());
		SetReadyToDestroy();
		return;
	}
	TWeakObjectPtr<UGamingPanelPurchaseAction> WeakThis(this);
	Panel->Purchase(OfferId, Quantity, [WeakThis](bool bOk, const FGamingPanelPurchaseResult& Result, const FGamingPanelError& Error)
	{
		if (UGamingPanelPurchaseAction* Self = WeakThis.Get())
		{
			(bOk ? Self->OnSuccess : Self->OnFailure).Broadcast(Result, Error);
			Self->SetReadyToDestroy();
		}
	});
}

// ------------------------------------------------------------------------------------------------ the player's account

UGamingPanelDeleteAccountAction* UGamingPanelDeleteAccountAction::DeleteAccount(UObject* WorldContextObject)
{
	UGamingPanelDeleteAccountAction* Action = NewObject<UGamingPanelDeleteAccountAction>();
	Action->Subsystem = UGamingPanelSubsystem::Get(WorldContextObject);
	Action->RegisterWithGameInstance(WorldContextObject);
	return Action;
}

void UGamingPanelDeleteAccountAction::Activate()
{
	UGamingPanelSubsystem* Panel = Subsystem.Get();
	if (Panel == nullptr)
	{
		OnFailure.Broadcast(NoSubsystem());
		SetReadyToDestroy();
		return;
	}
	TWeakObjectPtr<UGamingPanelDeleteAccountAction> WeakThis(this);
	Panel->DeleteAccount([WeakThis](bool bOk, const FGamingPanelError& Error)
	{
		if (UGamingPanelDeleteAccountAction* Self = WeakThis.Get())
		{
			(bOk ? Self->OnSuccess : Self->OnFailure).Broadcast(Error);
			Self->SetReadyToDestroy();
		}
	});
}

UGamingPanelDataExportAction* UGamingPanelDataExportAction::RequestDataExport(UObject* WorldContextObject)
{
	UGamingPanelDataExportAction* Action = NewObject<UGamingPanelDataExportAction>();
	Action->Subsystem = UGamingPanelSubsystem::Get(WorldContextObject);
	Action->RegisterWithGameInstance(WorldContextObject);
	return Action;
}

void UGamingPanelDataExportAction::Activate()
{
	UGamingPanelSubsystem* Panel = Subsystem.Get();
	if (Panel == nullptr)
	{
		OnFailure.Broadcast(FString(), NoSubsystem());
		SetReadyToDestroy();
		return;
	}
	TWeakObjectPtr<UGamingPanelDataExportAction> WeakThis(this);
	Panel->RequestDataExport([WeakThis](bool bOk, const FString& Json, const TSharedPtr<FJsonObject>& /*Data*/, const FGamingPanelError& Error)
	{
		if (UGamingPanelDataExportAction* Self = WeakThis.Get())
		{
			(bOk ? Self->OnSuccess : Self->OnFailure).Broadcast(Json, Error);
			Self->SetReadyToDestroy();
		}
	});
}
