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

	/** One item of GET player/saves as its JSON reads: what FGamingPanelSaveQueue::DocumentsOfList decides on. */
	FGamingPanelSaveListItem ListItemOf(const TSharedPtr<FJsonValue>& Item)
	{
		FGamingPanelSaveListItem Read;
		const TSharedPtr<FJsonObject> Object = Item.IsValid() && Item->Type == EJson::Object ? Item->AsObject() : nullptr;
		Read.bObject = Object.IsValid();
		if (!Read.bObject) return Read;
		const TSharedPtr<FJsonValue> Key = Object->TryGetField(TEXT("key"));
		Read.bKeyIsString = Key.IsValid() && Key->Type == EJson::String;
		if (Read.bKeyIsString) Read.Key = Key->AsString();
		const TSharedPtr<FJsonValue> Version = Object->TryGetField(TEXT("version"));
		Read.bVersionIsNumber = Version.IsValid() && Version->Type == EJson::Number;
		if (Read.bVersionIsNumber) Read.Version = Version->AsNumber();
		const TSharedPtr<FJsonValue> Value = Object->TryGetField(TEXT("value"));
		Read.bHasValue = Value.IsValid() && !Value->IsNull();
		if (Read.bHasValue) Read.ValueJson = ToJsonText(Value);
		return Read;
	}

	/** A value a save can hold: any JSON but null (the panel refuses "value": null). */
	TSharedPtr<FJsonValue> StorableValue(const FString& ValueJson)
	{
		const TSharedPtr<FJsonValue> Value = FGamingPanelHttp::ParseJson(ValueJson);
		return Value.IsValid() && !Value->IsNull() ? Value : nullptr;
	}

	TSharedPtr<FJsonObject> DocumentJson(const FGamingPanelSaveDocument& Document)
	{
		TSharedPtr<FJsonObject> Json = MakeShared<FJsonObject>();
		Json->SetStringField(TEXT("key"), Document.Key);
		Json->SetNumberField(TEXT("version"), static_cast<double>(Document.Version));
		// Never a field without a value: text that does not parse is kept as JSON null, not as nothing.
		const TSharedPtr<FJsonValue> Value = FGamingPanelHttp::ParseJson(Document.ValueJson);
		Json->SetField(TEXT("value"), Value.IsValid() ? Value : MakeShared<FJsonValueNull>());
		return Json;
	}

	/** The HTTP answer as the save queue reads it: the document written, or a 412's `current`. */
	FGamingPanelSaveAnswer AnswerOf(const FGamingPanelResponse& Response)
	{
		FGamingPanelSaveAnswer Answer;
		Answer.bOk = Response.bOk;
		Answer.Status = Response.Status;
		Answer.Error = Response.Error;
		if (Response.bOk)
		{
			// No readable document (an empty body, another object): the queue keeps the write, never reads a delete.
			Answer.bHasDocument = ReadDocument(Response.JsonObject(), Answer.Document);
			return Answer;
		}
		// Only the panel's own problem document (JSON with a `code`) settles or drops a write; a proxy's page does not.
		const TSharedPtr<FJsonValue> Problem = FGamingPanelHttp::ParseJson(Response.Body);
		const TSharedPtr<FJsonObject> ProblemObject = Problem.IsValid() && Problem->Type == EJson::Object ? Problem->AsObject() : nullptr;
		Answer.bProblemDocument = ProblemObject.IsValid() && !GamingPanelJson::GetString(*ProblemObject, TEXT("code")).IsEmpty();
		const TSharedPtr<FJsonObject>* Current = nullptr;
		if (Answer.bProblemDocument && (Response.Error.Status == 412 || Response.Error.Status == 404)
			&& ProblemObject->TryGetObjectField(TEXT("current"), Current) && Current)
		{
			Answer.bHasDocument = ReadDocument(*Current, Answer.Document);
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
			bMemoryOnly = false;
			FString Text;
			TSharedPtr<FJsonObject> Saved;
			// A queue file that cannot be read is never written over (its queued writes would be lost): moved aside, and
			// the queue starts empty, or, when it cannot be moved, this session's saves stay in memory (and are synced).
			switch (GamingPanelFiles::LoadState(Text, Path(), [&Saved](const FString& Loaded)
				{
					const TSharedPtr<FJsonValue> Parsed = FGamingPanelHttp::ParseJson(Loaded);
					Saved = Parsed.IsValid() ? Parsed->AsObject() : nullptr;
					return Saved.IsValid();
				}, TEXT("Cloud save")))
			{
			case GamingPanelFiles::EStateFile::Read:
				break;
			case GamingPanelFiles::EStateFile::MemoryOnly:
				bMemoryOnly = true;
				return false;
			default:
				return false;
			}
			OutState.RefreshedAtUnixSeconds = GamingPanelJson::GetInt(*Saved, TEXT("refreshed_at_unix"));
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
					Queued.bSent = GamingPanelJson::GetBool(*Item, TEXT("sent"));
					if (const TSharedPtr<FJsonObject> Unconfirmed = GamingPanelJson::GetObject(*Item, TEXT("unconfirmed")))
					{
						Queued.bHasUnconfirmed = true;
						Queued.UnconfirmedValueJson = GamingPanelJson::GetString(*Unconfirmed, TEXT("value_json"));
						Queued.bUnconfirmedDeleted = GamingPanelJson::GetBool(*Unconfirmed, TEXT("deleted"));
						Queued.UnconfirmedIdempotencyKey = GamingPanelJson::GetString(*Unconfirmed, TEXT("idempotency_key"));
					}
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
			if (bMemoryOnly) return; // an unreadable file is not written over (GamingPanelFiles::LoadState)
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
				Item->SetBoolField(TEXT("sent"), Queued.bSent);
				if (Queued.bHasUnconfirmed)
				{
					TSharedPtr<FJsonObject> Unconfirmed = MakeShared<FJsonObject>();
					Unconfirmed->SetStringField(TEXT("value_json"), Queued.UnconfirmedValueJson);
					Unconfirmed->SetBoolField(TEXT("deleted"), Queued.bUnconfirmedDeleted);
					Unconfirmed->SetStringField(TEXT("idempotency_key"), Queued.UnconfirmedIdempotencyKey);
					Item->SetObjectField(TEXT("unconfirmed"), Unconfirmed);
				}
				Item->SetBoolField(TEXT("conflict"), Queued.bConflict);
				if (Queued.bServerHasDocument) Item->SetObjectField(TEXT("server"), DocumentJson(Queued.Server));
				PendingJson->SetObjectField(Entry.Key, Item);
			}
			Saved->SetObjectField(TEXT("synced"), SyncedJson);
			Saved->SetObjectField(TEXT("pending"), PendingJson);
			if (State.RefreshedAtUnixSeconds > 0)
			{
				Saved->SetNumberField(TEXT("refreshed_at_unix"), static_cast<double>(State.RefreshedAtUnixSeconds));
			}
			if (!GamingPanelFiles::SaveText(FGamingPanelHttp::ToJsonString(Saved), Path()))
			{
				UE_LOG(LogGamingPanel, Warning, TEXT("Could not save the cloud-save queue."));
			}
		}

	private:
		FString Path() const { return FPaths::Combine(PlayerFolderOf(*Player), TEXT("cloud_saves.json")); }

		const FString* Player;
		bool bMemoryOnly = false;
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
	if (!HasPlayer() || !KeyTaken(Key)) return false;
	if (!StorableValue(ValueJson).IsValid())
	{
		UE_LOG(LogGamingPanel, Warning, TEXT("Cloud save refused: the value of %s is not JSON, or is null."), *Key);
		return false;
	}
	Load();
	Queue.Save(Key, ValueJson);
	return true;
}

bool FGamingPanelCloudSave::Delete(const FString& Key)
{
	if (!HasPlayer() || !KeyTaken(Key)) return false;
	Load();
	Queue.Delete(Key);
	return true;
}

bool FGamingPanelCloudSave::KeyTaken(const FString& Key)
{
	if (FGamingPanelSaveQueue::IsValidKey(Key)) return true;
	UE_LOG(LogGamingPanel, Warning, TEXT("Cloud save refused: '%s' is not a save key (1 to 64 letters, digits, '_', '.' or '-', not '.' or '..')."), *Key);
	return false;
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
	if (Resolution == EGamingPanelConflictResolution::UseMerged && !StorableValue(MergedValueJson).IsValid())
	{
		UE_LOG(LogGamingPanel, Warning, TEXT("Cloud save conflict not resolved: the merged value of %s is not JSON, or is null."), *Key);
		return false;
	}
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
			if (!Panel) return false;
			if (Self->LoadedFor.IsEmpty() || Panel->GetPlayerId() != Self->LoadedFor)
			{
				// The sync is the loaded player's: with nobody logged in, or after a logout or another login meanwhile,
				// it ends before anything more is sent, every write kept in its own player's queue (bNeedsLogin). The
				// subsystem holds each call to the same rule for its retries and its resend after a 401.
				FGamingPanelSaveAnswer NotLoggedIn;
				NotLoggedIn.Error = FGamingPanelError::Make(401, GamingPanelErrorCodes::NotLoggedIn, TEXT("The player whose saves these are is no longer logged in."));
				OnAnswer(NotLoggedIn);
				return true;
			}
			TSharedPtr<FJsonObject> Body;
			if (!Request.bDelete)
			{
				const TSharedPtr<FJsonValue> Value = StorableValue(Request.ValueJson);
				if (!Value.IsValid())
				{
					// Never "value": null or a field without a value: a queued value that is not JSON (say an old
					// file's) can never be written. Refused here like the panel's 400, dropped and reported with it.
					FGamingPanelSaveAnswer Refused;
					Refused.Error = FGamingPanelError::Make(400, GamingPanelErrorCodes::ValidationError, TEXT("The saved value is not JSON, or is null."));
					Refused.bProblemDocument = true;
					OnAnswer(Refused);
					return true;
				}
				Body = MakeShared<FJsonObject>();
				Body->SetField(TEXT("value"), Value);
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
	// The saves of the player logged in now: the answer is kept only while that player is still the one logged in
	// and loaded, never stored under (or handed out for) whoever logged in meanwhile.
	const FString Player = LoadedFor;
	if (Player.IsEmpty())
	{
		OnComplete(false, TArray<FGamingPanelSaveDocument>(), false, FGamingPanelError::Make(401, GamingPanelErrorCodes::NotLoggedIn,
			TEXT("Saves are kept per player: log in first.")));
		return;
	}
	TSharedRef<FGamingPanelCloudSave> Self = AsShared();
	const int64 SettledWhenAsked = Queue.SettledWriteCount();
	Panel->SendAuthorized(TEXT("GET"), TEXT("player/saves"), nullptr, TMap<FString, FString>(), true,
		[Self, Player, OnComplete, SettledWhenAsked](const FGamingPanelResponse& Response)
		{
			const UGamingPanelSubsystem* Now = Self->Subsystem.Get();
			if (!Now || Now->GetPlayerId() != Player || Self->LoadedFor != Player)
			{
				OnComplete(false, TArray<FGamingPanelSaveDocument>(), false, FGamingPanelError::Make(401,
					GamingPanelErrorCodes::NotLoggedIn, TEXT("The player changed while their saves were read: log in and refresh again.")));
				return;
			}
			if (Response.bOk)
			{
				const TSharedPtr<FJsonValue> Parsed = FGamingPanelHttp::ParseJson(Response.Body);
				const bool bIsArray = Parsed.IsValid() && Parsed->Type == EJson::Array;
				TArray<FGamingPanelSaveListItem> Items;
				if (bIsArray)
				{
					for (const TSharedPtr<FJsonValue>& Item : Parsed->AsArray()) Items.Add(ListItemOf(Item));
				}
				TArray<FGamingPanelSaveDocument> Documents;
				const EGamingPanelSaveListOutcome Outcome = Self->Queue.ListAnswered(bIsArray, Items, SettledWhenAsked,
					FDateTime::UtcNow().ToUnixTimestamp(), Documents);
				if (Outcome == EGamingPanelSaveListOutcome::NotTheList)
				{
					// Not the list (an empty body, someone else's JSON, an item that is not a document): it says nothing
					// about the saves, so the synced copies stay as they are, served as the cache.
					OnComplete(true, Documents, true, FGamingPanelError::Make(Response.Status,
						GamingPanelErrorCodes::InvalidResponse, TEXT("player/saves answered without the list of saves.")));
					return;
				}
				// Applied, or Outdated (a write of this device was answered while the list was on its way: the local
				// copies stand).
				OnComplete(true, Documents, false, FGamingPanelError());
				return;
			}
			const bool bTransient = Response.Error.Status == 0 || Response.Error.Status == 429 || Response.Error.Status >= 500;
			if (bTransient) OnComplete(true, Self->Queue.SyncedDocuments(), true, Response.Error);
			else OnComplete(false, TArray<FGamingPanelSaveDocument>(), false, Response.Error);
		});
}

FDateTime FGamingPanelCloudSave::GetFetchedAtUtc()
{
	Load();
	const int64 ReadAt = Queue.RefreshedAtUnixSeconds();
	return ReadAt > 0 ? FDateTime::FromUnixTimestamp(ReadAt) : FDateTime();
}

// ------------------------------------------------------------------------------------------------ remote config

namespace
{
	/** remote_config.json: {"etag", "version", "fetched_at_unix", "values"}; a copy without an object `values` is none. */
	class FConfigFile : public IGamingPanelConfigStore
	{
	public:
		explicit FConfigFile(const FString& InPath) : Path(InPath) {}

		virtual bool Read(FGamingPanelConfigCopy& OutCopy) override
		{
			FString Text;
			if (!GamingPanelFiles::LoadText(Text, Path)) return false;
			const TSharedPtr<FJsonValue> Parsed = FGamingPanelHttp::ParseJson(Text);
			const TSharedPtr<FJsonObject> Saved = Parsed.IsValid() && Parsed->Type == EJson::Object ? Parsed->AsObject() : nullptr;
			if (!Saved.IsValid()) return false;
			const TSharedPtr<FJsonValue> Values = Saved->TryGetField(TEXT("values"));
			if (!Values.IsValid() || Values->Type != EJson::Object) return false;
			OutCopy.ValuesJson = ToJsonText(Values);
			OutCopy.ETag = GamingPanelJson::GetString(*Saved, TEXT("etag"));
			OutCopy.Version = GamingPanelJson::GetInt(*Saved, TEXT("version"));
			OutCopy.FetchedAtUnixSeconds = GamingPanelJson::GetInt(*Saved, TEXT("fetched_at_unix")); // 0: an older plugin's copy
			return true;
		}

		virtual void Write(const FGamingPanelConfigCopy& Copy) override
		{
			const TSharedPtr<FJsonValue> Values = FGamingPanelHttp::ParseJson(Copy.ValuesJson);
			TSharedRef<FJsonObject> ToSave = MakeShared<FJsonObject>();
			ToSave->SetStringField(TEXT("etag"), Copy.ETag);
			ToSave->SetNumberField(TEXT("version"), static_cast<double>(Copy.Version));
			if (Copy.FetchedAtUnixSeconds > 0) ToSave->SetNumberField(TEXT("fetched_at_unix"), static_cast<double>(Copy.FetchedAtUnixSeconds));
			ToSave->SetField(TEXT("values"), Values.IsValid() ? Values : MakeShared<FJsonValueNull>());
			if (!GamingPanelFiles::SaveText(FGamingPanelHttp::ToJsonString(ToSave), Path))
			{
				UE_LOG(LogGamingPanel, Warning, TEXT("Could not save the remote config."));
			}
		}

	private:
		FString Path;
	};

	TSharedPtr<FJsonObject> ValuesOf(const FGamingPanelConfigCopy& Copy)
	{
		const TSharedPtr<FJsonValue> Values = FGamingPanelHttp::ParseJson(Copy.ValuesJson);
		return Values.IsValid() && Values->Type == EJson::Object ? Values->AsObject() : nullptr;
	}

	/** The HTTP answer as FGamingPanelRemoteConfigCache reads it. */
	FGamingPanelConfigAnswer ConfigAnswerOf(const FGamingPanelResponse& Response)
	{
		FGamingPanelConfigAnswer Answer;
		Answer.bOk = Response.bOk;
		Answer.Status = Response.bOk ? Response.Status : Response.Error.Status;
		Answer.Error = Response.Error;
		Answer.ETag = Response.ETag;
		const TSharedPtr<FJsonObject> Body = Response.bOk && Response.Json.IsValid() && Response.Json->Type == EJson::Object
			? Response.Json->AsObject() : nullptr;
		Answer.bObject = Body.IsValid();
		if (!Answer.bObject) return Answer;
		const TSharedPtr<FJsonValue> Values = Body->TryGetField(TEXT("values"));
		Answer.bValuesIsObject = Values.IsValid() && Values->Type == EJson::Object;
		if (Answer.bValuesIsObject) Answer.ValuesJson = ToJsonText(Values);
		const TSharedPtr<FJsonValue> Version = Body->TryGetField(TEXT("version"));
		Answer.bVersionIsNumber = Version.IsValid() && Version->Type == EJson::Number;
		if (Answer.bVersionIsNumber) Answer.Version = Version->AsNumber();
		return Answer;
	}
}

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
	FConfigFile File(CachePath());
	FGamingPanelConfigCopy Copy;
	if (!File.Read(Copy)) return nullptr;
	if (OutETag) *OutETag = Copy.ETag;
	return ValuesOf(Copy);
}

FDateTime FGamingPanelRemoteConfig::GetFetchedAtUtc() const
{
	FConfigFile File(CachePath());
	FGamingPanelConfigCopy Copy;
	if (!File.Read(Copy) || Copy.FetchedAtUnixSeconds <= 0) return FDateTime();
	return FDateTime::FromUnixTimestamp(Copy.FetchedAtUnixSeconds);
}

void FGamingPanelRemoteConfig::Fetch(FOnConfig OnComplete)
{
	UGamingPanelSubsystem* Panel = Subsystem.Get();
	// The config of the player logged in now, saved in that player's folder: an answer arriving after another player
	// logged in (or out) is neither saved nor handed out.
	const TSharedRef<FConfigFile> File = MakeShared<FConfigFile>(CachePath());
	FGamingPanelConfigCopy Saved;
	const bool bHasSaved = File->Read(Saved);
	if (!Panel)
	{
		OnComplete(bHasSaved, bHasSaved ? ValuesOf(Saved) : nullptr, true, FGamingPanelError::Network(TEXT("No Gaming Panel subsystem.")));
		return;
	}
	const TMap<FString, FString> Headers = FGamingPanelRemoteConfigCache::Headers(ClientVersion, Platform, bHasSaved ? &Saved : nullptr);
	TSharedRef<FGamingPanelRemoteConfig> Self = AsShared();
	const FString Player = Panel->GetPlayerId();
	Panel->SendAuthorized(TEXT("GET"), TEXT("config"), nullptr, Headers, true,
		[Self, Player, File, bHasSaved, Saved, OnComplete](const FGamingPanelResponse& Response)
		{
			const UGamingPanelSubsystem* Now = Self->Subsystem.Get();
			if (!Now || Now->GetPlayerId() != Player)
			{
				OnComplete(false, nullptr, false, FGamingPanelError::Make(401, GamingPanelErrorCodes::NotLoggedIn,
					TEXT("The player changed while the config was fetched: fetch it again.")));
				return;
			}
			// A 200 that is the config replaces the copy; a 304 keeps it, read now; anything else (a 2xx that is not the
			// config: invalid_response, no answer, 429/503 after the retries, a refusal) serves the copy with the error.
			const FGamingPanelConfigOutcome Outcome = FGamingPanelRemoteConfigCache::Answered(*File, bHasSaved ? &Saved : nullptr,
				ConfigAnswerOf(Response), FDateTime::UtcNow().ToUnixTimestamp());
			OnComplete(Outcome.bOk, Outcome.bOk ? ValuesOf(Outcome.Copy) : nullptr, Outcome.bFromCache, Outcome.Error);
		});
}
