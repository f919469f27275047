// Gaming Panel Unreal example: cloud save and remote config, offline-first (see GamingPanelCloudSave.h).
#include "GamingPanelCloudSave.h"

#include "GamingPanelSubsystem.h"
#include "Misc/FileHelper.h"
#include "Misc/Guid.h"
#include "Misc/Paths.h"

namespace
{
	FString VersionTag(int64 Version)
	{
		return FString::Printf(TEXT("\"%lld\""), static_cast<long long>(Version));
	}

	FString ToJsonText(const TSharedPtr<FJsonValue>& Value)
	{
		// A one-field wrapper object serialised, then the field's text cut out: the engine serialises objects.
		TSharedRef<FJsonObject> Wrapper = MakeShared<FJsonObject>();
		Wrapper->SetField(TEXT("v"), Value.IsValid() ? Value : MakeShared<FJsonValueNull>());
		FString Text = FGamingPanelHttp::ToJsonString(Wrapper);
		const int32 Prefix = 5; // {"v":
		return Text.Mid(Prefix, Text.Len() - Prefix - 1);
	}

	FString PlayerFolder(const UGamingPanelSubsystem* Subsystem)
	{
		FString Player = Subsystem ? Subsystem->GetPlayerId() : FString();
		return FPaths::Combine(FPaths::ProjectSavedDir(), TEXT("GamingPanel"), Player.IsEmpty() ? FString(TEXT("nobody")) : Player);
	}
}

FGamingPanelCloudSave::FGamingPanelCloudSave(UGamingPanelSubsystem* InSubsystem)
	: Subsystem(InSubsystem)
{
}

void FGamingPanelCloudSave::Save(const FString& Key, const FString& ValueJson)
{
	Queue(Key, ValueJson, false);
}

void FGamingPanelCloudSave::Delete(const FString& Key)
{
	Queue(Key, FString(), true);
}

bool FGamingPanelCloudSave::TryGet(const FString& Key, FString& OutValueJson)
{
	Load();
	if (const FPending* Queued = Pending.Find(Key))
	{
		if (Queued->bDeleted) return false;
		OutValueJson = Queued->ValueJson;
		return true;
	}
	if (const FGamingPanelSaveDocument* Document = Synced.Find(Key))
	{
		OutValueJson = Document->ValueJson;
		return true;
	}
	return false;
}

TArray<FGamingPanelSaveConflict> FGamingPanelCloudSave::GetConflicts()
{
	Load();
	TArray<FGamingPanelSaveConflict> Found;
	for (const auto& Entry : Pending)
	{
		if (Entry.Value.bConflict) Found.Add(ConflictOf(Entry.Key, Entry.Value));
	}
	return Found;
}

int32 FGamingPanelCloudSave::QueuedCount()
{
	Load();
	return Pending.Num();
}

void FGamingPanelCloudSave::Queue(const FString& Key, const FString& ValueJson, bool bDeleted)
{
	Load();
	FPending* Queued = Pending.Find(Key);
	if (!Queued)
	{
		const FGamingPanelSaveDocument* Document = Synced.Find(Key);
		if (bDeleted && !Document) return; // never synced: nothing to delete on the server
		FPending Fresh;
		Fresh.bHasBaseVersion = Document != nullptr;
		Fresh.BaseVersion = Document ? Document->Version : 0;
		Queued = &Pending.Add(Key, Fresh);
	}
	// The newest value per key, from the same base version; a new value gets a new Idempotency-Key.
	Queued->ValueJson = ValueJson;
	Queued->bDeleted = bDeleted;
	Queued->IdempotencyKey = FGuid::NewGuid().ToString();
	Store();
}

bool FGamingPanelCloudSave::Resolve(const FString& Key, EGamingPanelConflictResolution Resolution, const FString& MergedValueJson)
{
	Load();
	FPending* Queued = Pending.Find(Key);
	if (!Queued || !Queued->bConflict) return false;
	const bool bServerHas = Queued->bServerHasDocument;
	const FGamingPanelSaveDocument Server = Queued->Server;
	if (bServerHas) Synced.Add(Key, Server); else Synced.Remove(Key);
	if (Resolution == EGamingPanelConflictResolution::KeepServer)
	{
		Pending.Remove(Key);
	}
	else
	{
		if (Resolution == EGamingPanelConflictResolution::UseMerged)
		{
			Queued->ValueJson = MergedValueJson;
			Queued->bDeleted = false;
		}
		// Against the server's version now: the write applies unless yet another device writes first.
		Queued->bHasBaseVersion = bServerHas;
		Queued->BaseVersion = bServerHas ? Server.Version : 0;
		Queued->IdempotencyKey = FGuid::NewGuid().ToString();
		Queued->bConflict = false;
		Queued->bServerHasDocument = false;
		if (Queued->bDeleted && !bServerHas) Pending.Remove(Key); // deleted on both sides
	}
	Store();
	return true;
}

void FGamingPanelCloudSave::Sync(FOnSynced OnComplete)
{
	Load();
	TSharedRef<FGamingPanelSyncReport> Report = MakeShared<FGamingPanelSyncReport>();
	TArray<FString> Keys;
	for (const auto& Entry : Pending)
	{
		if (Entry.Value.bConflict) Report->Conflicts.Add(ConflictOf(Entry.Key, Entry.Value)); // still the game's to decide
		else Keys.Add(Entry.Key);
	}
	SendNext(Keys, Report, OnComplete);
}

void FGamingPanelCloudSave::SendNext(TArray<FString> Keys, TSharedRef<FGamingPanelSyncReport> Report, FOnSynced OnComplete)
{
	UGamingPanelSubsystem* Panel = Subsystem.Get();
	if (Keys.Num() == 0 || Report->bOffline || !Panel)
	{
		Report->StillQueued = Pending.Num();
		OnComplete(*Report);
		return;
	}
	const FString Key = Keys[0];
	Keys.RemoveAt(0);
	const FPending* Queued = Pending.Find(Key);
	if (!Queued)
	{
		SendNext(Keys, Report, OnComplete);
		return;
	}
	const FPending Sent = *Queued;
	TMap<FString, FString> Headers;
	Headers.Add(TEXT("Idempotency-Key"), Sent.IdempotencyKey);
	if (Sent.bHasBaseVersion) Headers.Add(TEXT("If-Match"), VersionTag(Sent.BaseVersion));
	else Headers.Add(TEXT("If-None-Match"), TEXT("*"));
	TSharedPtr<FJsonObject> Body;
	if (!Sent.bDeleted)
	{
		Body = MakeShared<FJsonObject>();
		Body->SetField(TEXT("value"), FGamingPanelHttp::ParseJson(Sent.ValueJson));
	}

	TSharedRef<FGamingPanelCloudSave> Self = AsShared();
	Panel->SendAuthorized(Sent.bDeleted ? TEXT("DELETE") : TEXT("PUT"), TEXT("player/saves/") + Key, Body, Headers, true,
		[Self, Key, Sent, Keys, Report, OnComplete](const FGamingPanelResponse& Response)
		{
			FPending* Now = Self->Pending.Find(Key);
			const bool bSame = Now && Now->IdempotencyKey == Sent.IdempotencyKey;
			if (Response.bOk)
			{
				FGamingPanelSaveDocument Written;
				if (!Sent.bDeleted && ReadDocument(Response.JsonObject(), Written))
				{
					Self->Synced.Add(Key, Written);
					Report->Written.Add(Written);
				}
				else
				{
					Self->Synced.Remove(Key);
				}
				if (bSame) Self->Pending.Remove(Key);
				else if (Now) // saved again meanwhile: that value now builds on what was just written
				{
					Now->bHasBaseVersion = !Sent.bDeleted;
					Now->BaseVersion = Sent.bDeleted ? 0 : Written.Version;
				}
			}
			else if (Response.Error.Status == 0 || Response.Error.Status == 429 || Response.Error.Status >= 500)
			{
				Report->bOffline = true; // stays queued, with its Idempotency-Key
			}
			else if (Response.Error.Status == 412 || (Sent.bDeleted && Response.Error.Status == 404))
			{
				// Another device wrote first: keep both copies, never overwrite. The problem carries `current`.
				FGamingPanelSaveDocument Current;
				bool bServerHas = false;
				const TSharedPtr<FJsonValue> Problem = FGamingPanelHttp::ParseJson(Response.Body);
				const TSharedPtr<FJsonObject> ProblemObject = Problem.IsValid() ? Problem->AsObject() : nullptr;
				const TSharedPtr<FJsonObject>* CurrentObject = nullptr;
				if (ProblemObject.IsValid() && ProblemObject->TryGetObjectField(TEXT("current"), CurrentObject) && CurrentObject)
				{
					bServerHas = ReadDocument(*CurrentObject, Current);
				}
				if (Now && Now->bDeleted && !bServerHas)
				{
					Self->Pending.Remove(Key); // deleted here and gone there: agreed
					Self->Synced.Remove(Key);
				}
				else if (Now)
				{
					Now->bConflict = true;
					Now->bServerHasDocument = bServerHas;
					Now->Server = Current;
					const FGamingPanelSaveConflict Conflict = ConflictOf(Key, *Now);
					Report->Conflicts.Add(Conflict);
					if (Self->OnConflict) Self->OnConflict(Conflict);
				}
			}
			else
			{
				// 400, 403, 413: this write can never succeed as it is. Drop it; the synced copy stays.
				if (bSame) Self->Pending.Remove(Key);
				Report->Rejected.Add(Response.Error);
			}
			Self->Store();
			Self->SendNext(Keys, Report, OnComplete);
		});
}

FGamingPanelSaveConflict FGamingPanelCloudSave::ConflictOf(const FString& Key, const FPending& Queued)
{
	FGamingPanelSaveConflict Conflict;
	Conflict.Key = Key;
	Conflict.LocalValueJson = Queued.bDeleted ? FString() : Queued.ValueJson;
	Conflict.bServerHasDocument = Queued.bServerHasDocument;
	Conflict.Server = Queued.Server;
	return Conflict;
}

bool FGamingPanelCloudSave::ReadDocument(const TSharedPtr<FJsonObject>& Json, FGamingPanelSaveDocument& Out)
{
	if (!Json.IsValid()) return false;
	Out.Key = GamingPanelJson::GetString(*Json, TEXT("key"));
	Out.Version = GamingPanelJson::GetInt(*Json, TEXT("version"));
	Out.ValueJson = ToJsonText(Json->TryGetField(TEXT("value")));
	return !Out.Key.IsEmpty();
}

TSharedPtr<FJsonObject> FGamingPanelCloudSave::DocumentJson(const FGamingPanelSaveDocument& Document)
{
	TSharedPtr<FJsonObject> Json = MakeShared<FJsonObject>();
	Json->SetStringField(TEXT("key"), Document.Key);
	Json->SetNumberField(TEXT("version"), static_cast<double>(Document.Version));
	Json->SetField(TEXT("value"), FGamingPanelHttp::ParseJson(Document.ValueJson));
	return Json;
}

FString FGamingPanelCloudSave::StatePath() const
{
	return FPaths::Combine(PlayerFolder(Subsystem.Get()), TEXT("cloud_saves.json"));
}

void FGamingPanelCloudSave::Load()
{
	const FString Player = Subsystem.IsValid() ? Subsystem->GetPlayerId() : FString();
	if (LoadedFor == Player && !Player.IsEmpty()) return;
	LoadedFor = Player;
	Synced.Reset();
	Pending.Reset();
	FString Text;
	if (!FFileHelper::LoadFileToString(Text, *StatePath())) return;
	const TSharedPtr<FJsonValue> Parsed = FGamingPanelHttp::ParseJson(Text);
	const TSharedPtr<FJsonObject> State = Parsed.IsValid() ? Parsed->AsObject() : nullptr;
	if (!State.IsValid()) return;
	const TSharedPtr<FJsonObject>* SyncedJson = nullptr;
	if (State->TryGetObjectField(TEXT("synced"), SyncedJson) && SyncedJson && SyncedJson->IsValid())
	{
		for (const auto& Entry : (*SyncedJson)->Values)
		{
			FGamingPanelSaveDocument Document;
			if (Entry.Value.IsValid() && ReadDocument(Entry.Value->AsObject(), Document)) Synced.Add(Entry.Key, Document);
		}
	}
	const TSharedPtr<FJsonObject>* PendingJson = nullptr;
	if (State->TryGetObjectField(TEXT("pending"), PendingJson) && PendingJson && PendingJson->IsValid())
	{
		for (const auto& Entry : (*PendingJson)->Values)
		{
			const TSharedPtr<FJsonObject> Item = Entry.Value.IsValid() ? Entry.Value->AsObject() : nullptr;
			if (!Item.IsValid()) continue;
			FPending Queued;
			Queued.ValueJson = GamingPanelJson::GetString(*Item, TEXT("value_json"));
			Queued.bDeleted = GamingPanelJson::GetBool(*Item, TEXT("deleted"));
			Queued.bHasBaseVersion = Item->HasField(TEXT("base_version"));
			Queued.BaseVersion = GamingPanelJson::GetInt(*Item, TEXT("base_version"));
			Queued.IdempotencyKey = GamingPanelJson::GetString(*Item, TEXT("idempotency_key"));
			Queued.bConflict = GamingPanelJson::GetBool(*Item, TEXT("conflict"));
			const TSharedPtr<FJsonObject>* Server = nullptr;
			if (Item->TryGetObjectField(TEXT("server"), Server) && Server)
			{
				Queued.bServerHasDocument = ReadDocument(*Server, Queued.Server);
			}
			Pending.Add(Entry.Key, Queued);
		}
	}
}

void FGamingPanelCloudSave::Store() const
{
	TSharedRef<FJsonObject> State = MakeShared<FJsonObject>();
	TSharedPtr<FJsonObject> SyncedJson = MakeShared<FJsonObject>();
	for (const auto& Entry : Synced) SyncedJson->SetObjectField(Entry.Key, DocumentJson(Entry.Value));
	TSharedPtr<FJsonObject> PendingJson = MakeShared<FJsonObject>();
	for (const auto& Entry : Pending)
	{
		const FPending& Queued = Entry.Value;
		TSharedPtr<FJsonObject> Item = MakeShared<FJsonObject>();
		Item->SetStringField(TEXT("value_json"), Queued.ValueJson);
		Item->SetBoolField(TEXT("deleted"), Queued.bDeleted);
		if (Queued.bHasBaseVersion) Item->SetNumberField(TEXT("base_version"), static_cast<double>(Queued.BaseVersion));
		Item->SetStringField(TEXT("idempotency_key"), Queued.IdempotencyKey);
		Item->SetBoolField(TEXT("conflict"), Queued.bConflict);
		if (Queued.bServerHasDocument) Item->SetObjectField(TEXT("server"), DocumentJson(Queued.Server));
		PendingJson->SetObjectField(Entry.Key, Item);
	}
	State->SetObjectField(TEXT("synced"), SyncedJson);
	State->SetObjectField(TEXT("pending"), PendingJson);
	// Written in one call; the queue is small (one entry per key).
	FFileHelper::SaveStringToFile(FGamingPanelHttp::ToJsonString(State), *StatePath());
}

// ------------------------------------------------------------------------------------------------ remote config

FGamingPanelRemoteConfig::FGamingPanelRemoteConfig(UGamingPanelSubsystem* InSubsystem, const FString& InClientVersion,
	const FString& InPlatform)
	: Subsystem(InSubsystem)
	, ClientVersion(InClientVersion)
	, Platform(InPlatform)
{
}

FString FGamingPanelRemoteConfig::CachePath() const
{
	return FPaths::Combine(PlayerFolder(Subsystem.Get()), TEXT("remote_config.json"));
}

TSharedPtr<FJsonObject> FGamingPanelRemoteConfig::LoadCached(FString* OutETag) const
{
	FString Text;
	if (!FFileHelper::LoadFileToString(Text, *CachePath())) return nullptr;
	const TSharedPtr<FJsonValue> Parsed = FGamingPanelHttp::ParseJson(Text);
	const TSharedPtr<FJsonObject> Saved = Parsed.IsValid() ? Parsed->AsObject() : nullptr;
	if (!Saved.IsValid()) return nullptr;
	if (OutETag) *OutETag = GamingPanelJson::GetString(*Saved, TEXT("etag"));
	const TSharedPtr<FJsonObject>* Values = nullptr;
	return Saved->TryGetObjectField(TEXT("values"), Values) && Values ? *Values : nullptr;
}

void FGamingPanelRemoteConfig::Fetch(FOnConfig OnComplete)
{
	UGamingPanelSubsystem* Panel = Subsystem.Get();
	FString SavedETag;
	const TSharedPtr<FJsonObject> Saved = LoadCached(&SavedETag);
	if (!Panel)
	{
		OnComplete(Saved.IsValid(), Saved, true, FGamingPanelError::Network(TEXT("No Gaming Panel subsystem.")));
		return;
	}
	TMap<FString, FString> Headers;
	if (!ClientVersion.IsEmpty()) Headers.Add(TEXT("X-Client-Version"), ClientVersion);
	if (!Platform.IsEmpty()) Headers.Add(TEXT("X-Client-Platform"), Platform);
	if (Saved.IsValid() && !SavedETag.IsEmpty()) Headers.Add(TEXT("If-None-Match"), SavedETag);
	TSharedRef<FGamingPanelRemoteConfig> Self = AsShared();
	Panel->SendAuthorized(TEXT("GET"), TEXT("config"), nullptr, Headers, true,
		[Self, Saved, OnComplete](const FGamingPanelResponse& Response)
		{
			if (Response.bOk)
			{
				const TSharedPtr<FJsonObject> Body = Response.JsonObject();
				const TSharedPtr<FJsonObject>* Values = nullptr;
				TSharedPtr<FJsonObject> Resolved = Body.IsValid() && Body->TryGetObjectField(TEXT("values"), Values) && Values
					? *Values : MakeShared<FJsonObject>();
				TSharedRef<FJsonObject> ToSave = MakeShared<FJsonObject>();
				ToSave->SetStringField(TEXT("etag"), Response.ETag);
				ToSave->SetObjectField(TEXT("values"), Resolved);
				FFileHelper::SaveStringToFile(FGamingPanelHttp::ToJsonString(ToSave), *Self->CachePath());
				OnComplete(true, Resolved, false, FGamingPanelError());
				return;
			}
			const bool bTransient = Response.Error.Status == 0 || Response.Error.Status == 429 || Response.Error.Status >= 500;
			if (Saved.IsValid() && Response.Error.Status == 304)
			{
				OnComplete(true, Saved, false, FGamingPanelError()); // unchanged: the saved copy is current
			}
			else if (Saved.IsValid() && bTransient)
			{
				OnComplete(true, Saved, true, Response.Error);
			}
			else
			{
				OnComplete(false, nullptr, false, Response.Error);
			}
		});
}
