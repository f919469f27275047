// Gaming Panel Unreal example: JSON <-> Blueprint structs.
#include "GamingPanelTypes.h"
#include "GamingPanelHttp.h"
#include "Dom/JsonObject.h"
#include "Dom/JsonValue.h"

namespace
{
	FString OutcomeToString(EGamingPanelMatchOutcome Outcome)
	{
		switch (Outcome)
		{
		case EGamingPanelMatchOutcome::Win: return TEXT("win");
		case EGamingPanelMatchOutcome::Draw: return TEXT("draw");
		default: return TEXT("loss");
		}
	}

	TSharedRef<FJsonObject> StatsToJson(const TMap<FString, int64>& Stats)
	{
		TSharedRef<FJsonObject> Object = MakeShared<FJsonObject>();
		for (const TPair<FString, int64>& Stat : Stats)
		{
			Object->SetNumberField(Stat.Key, static_cast<double>(Stat.Value));
		}
		return Object;
	}
}

FGamingPanelPlayerStats FGamingPanelPlayerStats::FromJson(const FJsonObject& Json)
{
	FGamingPanelPlayerStats Out;
	Out.PlayerId = GamingPanelJson::GetId(Json, TEXT("player_id"));
	Out.Level = GamingPanelJson::GetInt(Json, TEXT("level"));
	Out.Xp = GamingPanelJson::GetInt(Json, TEXT("xp"));
	Out.XpToNextLevel = GamingPanelJson::GetInt(Json, TEXT("xp_to_next_level"));
	if (const TSharedPtr<FJsonObject> Stats = GamingPanelJson::GetObject(Json, TEXT("stats")))
	{
		for (const TPair<FString, TSharedPtr<FJsonValue>>& Entry : Stats->Values)
		{
			double Number = 0.0;
			if (Entry.Value.IsValid() && Entry.Value->TryGetNumber(Number))
			{
				Out.Stats.Add(Entry.Key, Number);
			}
		}
	}
	return Out;
}

FGamingPanelInventory FGamingPanelInventory::FromJson(const FJsonObject& Json)
{
	FGamingPanelInventory Out;
	if (const TSharedPtr<FJsonObject> Currencies = GamingPanelJson::GetObject(Json, TEXT("currencies")))
	{
		for (const TPair<FString, TSharedPtr<FJsonValue>>& Entry : Currencies->Values)
		{
			double Amount = 0.0;
			if (Entry.Value.IsValid() && Entry.Value->TryGetNumber(Amount))
			{
				Out.Currencies.Add(Entry.Key, static_cast<int64>(Amount));
			}
		}
	}
	if (const TArray<TSharedPtr<FJsonValue>>* Items = GamingPanelJson::GetArray(Json, TEXT("items")))
	{
		for (const TSharedPtr<FJsonValue>& Value : *Items)
		{
			const TSharedPtr<FJsonObject> Item = Value.IsValid() ? Value->AsObject() : nullptr;
			if (!Item.IsValid())
			{
				continue;
			}
			FGamingPanelInventoryItem Parsed;
			Parsed.Sku = GamingPanelJson::GetString(*Item, TEXT("sku"));
			Parsed.Name = GamingPanelJson::GetString(*Item, TEXT("name"));
			Parsed.Quantity = GamingPanelJson::GetInt(*Item, TEXT("quantity"));
			Out.Items.Add(Parsed);
		}
	}
	return Out;
}

FGamingPanelPurchaseResult FGamingPanelPurchaseResult::FromJson(int32 HttpStatus, const FJsonObject& Json, const FString& Key)
{
	FGamingPanelPurchaseResult Out;
	const FString Status = GamingPanelJson::GetString(Json, TEXT("status"));
	Out.Status = (HttpStatus == 202 || Status == TEXT("pending")) ? EGamingPanelPurchaseStatus::Pending : EGamingPanelPurchaseStatus::Completed;
	Out.PurchaseId = GamingPanelJson::GetId(Json, TEXT("purchase_id"));
	Out.IdempotencyKey = Key;
	if (const TSharedPtr<FJsonObject> Balances = GamingPanelJson::GetObject(Json, TEXT("balances")))
	{
		for (const TPair<FString, TSharedPtr<FJsonValue>>& Entry : Balances->Values)
		{
			double Amount = 0.0;
			if (Entry.Value.IsValid() && Entry.Value->TryGetNumber(Amount))
			{
				Out.Balances.Add(Entry.Key, static_cast<int64>(Amount));
			}
		}
	}
	if (const TSharedPtr<FJsonObject> Payment = GamingPanelJson::GetObject(Json, TEXT("payment")))
	{
		Out.CheckoutUrl = GamingPanelJson::GetString(*Payment, TEXT("checkout_url"));
	}
	return Out;
}

FGamingPanelTokenValidation FGamingPanelTokenValidation::FromJson(const FJsonObject& Json)
{
	FGamingPanelTokenValidation Out;
	Out.bValid = GamingPanelJson::GetBool(Json, TEXT("valid"));
	Out.Reason = GamingPanelJson::GetString(Json, TEXT("reason"));
	Out.PlayerId = GamingPanelJson::GetId(Json, TEXT("player_id"));
	Out.GameId = GamingPanelJson::GetId(Json, TEXT("game_id"));
	FDateTime::ParseIso8601(*GamingPanelJson::GetString(Json, TEXT("expires_at")), Out.ExpiresAt);
	if (const TArray<TSharedPtr<FJsonValue>>* Permissions = GamingPanelJson::GetArray(Json, TEXT("permissions")))
	{
		for (const TSharedPtr<FJsonValue>& Permission : *Permissions)
		{
			Out.Permissions.Add(GamingPanelJson::ValueToString(Permission));
		}
	}
	if (const TSharedPtr<FJsonObject> Player = GamingPanelJson::GetObject(Json, TEXT("player")))
	{
		Out.DisplayName = GamingPanelJson::GetString(*Player, TEXT("display_name"));
		Out.Level = GamingPanelJson::GetInt(*Player, TEXT("level"));
		Out.bBanned = GamingPanelJson::GetBool(*Player, TEXT("banned"));
	}
	return Out;
}

TSharedRef<FJsonObject> FGamingPanelMatchResult::ToJson() const
{
	TSharedRef<FJsonObject> Object = MakeShared<FJsonObject>();
	Object->SetStringField(TEXT("match_id"), MatchId);
	// Only match_id and players are required: the panel refuses a blank mode, and an unset FDateTime is year 1.
	if (!Mode.IsEmpty())
	{
		Object->SetStringField(TEXT("mode"), Mode);
	}
	if (StartedAt != FDateTime())
	{
		Object->SetStringField(TEXT("started_at"), StartedAt.ToIso8601());
	}
	if (EndedAt != FDateTime())
	{
		Object->SetStringField(TEXT("ended_at"), EndedAt.ToIso8601());
	}

	TArray<TSharedPtr<FJsonValue>> PlayerValues;
	for (const FGamingPanelMatchPlayer& Player : Players)
	{
		TSharedRef<FJsonObject> Entry = MakeShared<FJsonObject>();
		GamingPanelJson::SetId(*Entry, TEXT("player_id"), Player.PlayerId);
		Entry->SetStringField(TEXT("outcome"), OutcomeToString(Player.Outcome));
		Entry->SetNumberField(TEXT("score"), static_cast<double>(Player.Score));
		Entry->SetObjectField(TEXT("stats"), StatsToJson(Player.Stats));
		PlayerValues.Add(MakeShared<FJsonValueObject>(Entry));
	}
	Object->SetArrayField(TEXT("players"), PlayerValues);
	return Object;
}

TSharedRef<FJsonObject> FGamingPanelServerStatus::ToJson() const
{
	TSharedRef<FJsonObject> Object = MakeShared<FJsonObject>();
	Object->SetStringField(TEXT("server_id"), ServerId);
	Object->SetStringField(TEXT("region"), Region);
	Object->SetStringField(TEXT("address"), Address);
	Object->SetNumberField(TEXT("port"), Port);
	Object->SetNumberField(TEXT("capacity"), Capacity);
	Object->SetNumberField(TEXT("players"), Players);
	Object->SetStringField(TEXT("mode"), Mode);
	Object->SetStringField(TEXT("version"), Version);
	return Object;
}
