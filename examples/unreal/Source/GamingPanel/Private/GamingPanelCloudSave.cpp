// Gaming Panel Unreal example: cloud save and remote config, offline-first (see GamingPanelCloudSave.h).
#include "GamingPanelCloudSave.h"

#include "GamingPanelModule.h"
#include "GamingPanelSubsystem.h"
#include "Misc/Guid.h"
#include "Misc/Paths.h"

namespace
{
	FString ToJsonText(const TSharedPtr<FJsonValue>& Value)
	{
		// A one-field wrapper object serialised, then the field's text cut out: the engine serialises objects.
		TSharedRef<FJsonObject> Wrapper = MakeShared<FJsonObject>();
		Wrapper->SetField(TEXT("v"), Value.IsValid() ? Value : MakeShared<FJsonValueNull>());
		FString Text = FGamingPanelHttp::ToJsonString(Wrapper);
		const int32 Prefix = 5; // {"v":
		return Text.Mid(Prefix, Text.Len() - Prefix - 1);
	}

	FString PlayerFolderOf(const FString& Player)
	{
		return FPaths::Combine(FPaths::ProjectSavedDir(), TEXT("GamingPanel"), Player.IsEmpty() ? FString(TEXT("nobody")) : Player);
	}

	FString PlayerFolder(const UGamingPanelSubsystem* Subsystem)
	{
		return PlayerFolderOf(Subsystem ? Subsystem->GetPlayerId() : FString());
	}

	bool ReadDocument(const TSharedPtr<FJsonObject>& Json, FGamingPanelSaveDocument& Out)
	{
		if (!Json.IsValid()) return false;
		Out.Key = GamingPanelJson::GetString(*Json, TEXT("key"));
		Out.Version = GamingPanelJson::GetInt(*Json, TEXT("version"));
		Out.ValueJson = ToJsonText(Json->TryGetField(TEXT("value")));
		return !Out.Key.IsEmpty();
	}

	TSharedPtr<FJsonObject> DocumentJson(const FGamingPanelSaveDocument& Document)
	{
		TSharedPtr<FJsonObject> Json = MakeShared<FJsonObject>();
		Json->SetStringField(TEXT("key"), Document.Key);
		Json->SetNumberField(TEXT("version"), static_cast<double>(Document.Version));
		Json->SetField(TEXT("value"), FGamingPanelHttp::ParseJson(Document.ValueJson));
		return Json;
	}

	/** The HTTP answer as the save queue reads it: the document written, or a 412's `current`. */
	FGamingPanelSaveAnswer AnswerOf(const FGamingPanelResponse& Response)
	{
		FGamingPanelSaveAnswer Answer;
		Answer.bOk = Response.bOk;
		Answer.Error = Response.Error;
		if (Response.bOk)
		{
			Answer.bHasDocument = ReadDocument(Response.JsonObject(), Answer.Document);
		}
		else if (Response.Error.Status == 412 || Response.Error.Status == 404)
		{
			const TSharedPtr<FJsonValue> Problem = FGamingPanelHttp::ParseJson(Response.Body);
			const TSharedPtr<FJsonObject> ProblemObject = Problem.IsValid() ? Problem->AsObject() : nullptr;
			const TSharedPtr<FJsonObject>* Current = nullptr;
			if (ProblemObject.IsValid() && ProblemObject->TryGetObjectField(TEXT("current"), Current) && Current)
			{
				Answer.bHasDocument = ReadDocument(*Current, Answer.Document);
			}
		}
		return Answer;
	}

	/** The queue's state in Saved/GamingPanel/<player>/cloud_saves.json (one entry per key), replaced whole in one step (GamingPanelFiles). */
	class FGamingPanelSaveFile : public IGamingPanelSaveStore
	{
	public:
		/** InPlayer: the player whose queue is loaded (FGamingPanelCloudSave::LoadedFor), not whoever is logged in
		 *  when a write happens: an answer arriving after another login is kept in its own player's file. */
		explicit FGamingPanelSaveFile(const FString* InPlayer) : Player(InPlayer) {}

		virtual bool Read(FGamingPanelSaveState& OutState) override
		{
			FString Text;
			if (!GamingPanelFiles::LoadText(Text, Path())) return false;
			const TSharedPtr<FJsonValue> Parsed = FGamingPanelHttp::ParseJson(Text);
			const TSharedPtr<FJsonObject> Saved = Parsed.IsValid() ? Parsed->AsObject() : nullptr;
			if (!Saved.IsValid()) return false;
			const TSharedPtr<FJsonObject>* SyncedJson = nullptr;
			if (Saved->TryGetObjectField(TEXT("synced"), SyncedJson) && SyncedJson && SyncedJson->IsValid())
			{
				for (const auto& Entry : (*SyncedJson)->Values)
				{
					FGamingPanelSaveDocument Document;
					if (Entry.Value.IsValid() && ReadDocument(Entry.Value->AsObject(), Document)) OutState.Synced.Add(Entry.Key, Document);
				}
			}
			const TSharedPtr<FJsonObject>* PendingJson = nullptr;
			if (Saved->TryGetObjectField(TEXT("pending"), PendingJson) && PendingJson && PendingJson->IsValid())
			{
				for (const auto& Entry : (*PendingJson)->Values)
				{
					const TSharedPtr<FJsonObject> Item = Entry.Value.IsValid() ? Entry.Value->AsObject() : nullptr;
					if (!Item.IsValid()) continue;
					FGamingPanelPendingSave Queued;
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
					OutState.Pending.Add(Entry.Key, Queued);
				}
			}
			return true;
		}

		virtual void Write(const FGamingPanelSaveState& State) override
		{
			TSharedRef<FJsonObject> Saved = MakeShared<FJsonObject>();
			TSharedPtr<FJsonObject> SyncedJson = MakeShared<FJsonObject>();
			for (const auto& Entry : State.Synced) SyncedJson->SetObjectField(Entry.Key, DocumentJson(Entry.Value));
			TSharedPtr<FJsonObject> PendingJson = MakeShared<FJsonObject>();
			for (const auto& Entry : State.Pending)
			{
				const FGamingPanelPendingSave& Queued = Entry.Value;
				TSharedPtr<FJsonObject> Item = MakeShared<FJsonObject>();
				Item->SetStringField(TEXT("value_json"), Queued.ValueJson);
				Item->SetBoolField(TEXT("deleted"), Queued.bDeleted);
				if (Queued.bHasBaseVersion) Item->SetNumberField(TEXT("base_version"), static_cast<double>(Queued.BaseVersion));
				Item->SetStringField(TEXT("idempotency_key"), Queued.IdempotencyKey);
				Item->SetBoolField(TEXT("conflict"), Queued.bConflict);
				if (Queued.bServerHasDocument) Item->SetObjectField(TEXT("server"), DocumentJson(Queued.Server));
				PendingJson->SetObjectField(Entry.Key, Item);
			}
			Saved->SetObjectField(TEXT("synced"), SyncedJson);
			Saved->SetObjectField(TEXT("pending"), PendingJson);
			if (!GamingPanelFiles::SaveText(FGamingPanelHttp::ToJsonString(Saved), Path()))
			{
				UE_LOG(LogGamingPanel, Warning, TEXT("Could not save the cloud-save queue."));
			}
		}

	private:
		FString Path() const { return FPaths::Combine(PlayerFolderOf(*Player), TEXT("cloud_saves.json")); }

		const FString* Player;
	};
}

FGamingPanelCloudSave::FGamingPanelCloudSave(UGamingPanelSubsystem* InSubsystem)
	: Subsystem(InSubsystem)
	, Queue(MakeShared<FGamingPanelSaveFile>(&LoadedFor), [] { return FGuid::NewGuid().ToString(); })
{
}

void FGamingPanelCloudSave::Load()
{
	const FString Player = Subsystem.IsValid() ? Subsystem->GetPlayerId() : FString();
	if (LoadedFor == Player && !Player.IsEmpty()) return;
	LoadedFor = Player;
	Queue.Reload();
}

bool FGamingPanelCloudSave::Save(const FString& Key, const FString& ValueJson)
{
	if (!HasPlayer()) return false;
	Load();
	Queue.Save(Key, ValueJson);
	return true;
}

bool FGamingPanelCloudSave::Delete(const FString& Key)
{
	if (!HasPlayer()) return false;
	Load();
	Queue.Delete(Key);
	return true;
}

bool FGamingPanelCloudSave::HasPlayer() const
{
	// With nobody logged in there is no player to keep the save for: refused, never written where no login reads it.
	const bool bHasPlayer = Subsystem.IsValid() && !Subsystem->GetPlayerId().IsEmpty();
	if (!bHasPlayer) UE_LOG(LogGamingPanel, Warning, TEXT("Cloud save refused: no player is logged in."));
	return bHasPlayer;
}

bool FGamingPanelCloudSave::TryGet(const FString& Key, FString& OutValueJson)
{
	Load();
	return Queue.TryGet(Key, OutValueJson);
}

TArray<FGamingPanelSaveConflict> FGamingPanelCloudSave::GetConflicts()
{
	Load();
	return Queue.GetConflicts();
}

int32 FGamingPanelCloudSave::QueuedCount()
{
	Load();
	return Queue.QueuedCount();
}

bool FGamingPanelCloudSave::Resolve(const FString& Key, EGamingPanelConflictResolution Resolution, const FString& MergedValueJson)
{
	Load();
	return Queue.Resolve(Key, Resolution, MergedValueJson);
}

void FGamingPanelCloudSave::Sync(FOnSynced OnComplete)
{
	Load();
	Queue.OnConflict = OnConflict;
	// Self rides along with every request, so this object (and its queue) outlives the answers.
	TSharedRef<FGamingPanelCloudSave> Self = AsShared();
	Queue.Sync(
		[Self](const FGamingPanelSaveRequest& Request, FGamingPanelSaveQueue::FOnAnswer OnAnswer)
		{
			UGamingPanelSubsystem* Panel = Self->Subsystem.Get();
			// The sync is the loaded player's: another login meanwhile ends it before anything more is sent.
			if (!Panel || Panel->GetPlayerId() != Self->LoadedFor) return false;
			TSharedPtr<FJsonObject> Body;
			if (!Request.bDelete)
			{
				Body = MakeShared<FJsonObject>();
				Body->SetField(TEXT("value"), FGamingPanelHttp::ParseJson(Request.ValueJson));
			}
			Panel->SendAuthorized(Request.Verb(), Request.Path(), Body, Request.Headers(), true,
				[Self, OnAnswer](const FGamingPanelResponse& Response) { OnAnswer(AnswerOf(Response)); });
			return true;
		},
		OnComplete);
}

void FGamingPanelCloudSave::Refresh(FOnRefreshed OnComplete)
{
	Load();
	UGamingPanelSubsystem* Panel = Subsystem.Get();
	if (!Panel)
	{
		OnComplete(true, Queue.SyncedDocuments(), true, FGamingPanelError::Network(TEXT("No Gaming Panel subsystem.")));
		return;
	}
	TSharedRef<FGamingPanelCloudSave> Self = AsShared();
	Panel->SendAuthorized(TEXT("GET"), TEXT("player/saves"), nullptr, TMap<FString, FString>(), true,
		[Self, OnComplete](const FGamingPanelResponse& Response)
		{
			if (Response.bOk)
			{
				TArray<FGamingPanelSaveDocument> Documents;
				const TSharedPtr<FJsonValue> Parsed = FGamingPanelHttp::ParseJson(Response.Body);
				if (Parsed.IsValid() && Parsed->Type == EJson::Array)
				{
					for (const TSharedPtr<FJsonValue>& Item : Parsed->AsArray())
					{
						FGamingPanelSaveDocument Document;
						if (Item.IsValid() && ReadDocument(Item->AsObject(), Document)) Documents.Add(Document);
					}
				}
				Self->Queue.Refreshed(Documents);
				OnComplete(true, Documents, false, FGamingPanelError());
				return;
			}
			const bool bTransient = Response.Error.Status == 0 || Response.Error.Status == 429 || Response.Error.Status >= 500;
			if (bTransient) OnComplete(true, Self->Queue.SyncedDocuments(), true, Response.Error);
			else OnComplete(false, TArray<FGamingPanelSaveDocument>(), false, Response.Error);
		});
}

// ------------------------------------------------------------------------------------------------ remote config

FGamingPanelRemoteConfig::FGamingPanelRemoteConfig(UGamingPanelSubsystem* InSubsystem, const FString& InClientVersion,
	const FString& InPlatform)
	: Subsystem(InSubsystem)
	, ClientVersion(NumericVersion(InClientVersion))
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
	if (!GamingPanelFiles::LoadText(Text, CachePath())) return nullptr;
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
				GamingPanelFiles::SaveText(FGamingPanelHttp::ToJsonString(ToSave), Self->CachePath());
				OnComplete(true, Resolved, false, FGamingPanelError());
				return;
			}
			if (Saved.IsValid() && Response.Error.Status == 304)
			{
				OnComplete(true, Saved, false, FGamingPanelError()); // unchanged: the saved copy is current
			}
			else if (Saved.IsValid())
			{
				// Offline, or any refusal: the saved copy keeps the game running, and Error says why it is not fresh.
				OnComplete(true, Saved, true, Response.Error);
			}
			else
			{
				OnComplete(false, nullptr, false, Response.Error);
			}
		});
}
