// Runs the Unreal kit's offline cloud-save logic outside the engine: FGamingPanelSaveQueue
// (Private/GamingPanelSaveQueue.cpp), the code FGamingPanelCloudSave runs for every decision, against a fake panel
// that keeps documents with versions as apps/cloudsave does (If-Match "<version>" or If-None-Match: *, 412
// precondition_failed carrying `current`, 200/201 with the document, 204 for a delete, an Idempotency-Key answered
// once; or, canned, the answers that are not the panel's: a proxy's page, an empty 2xx, a 408) and an in-memory store
// standing in for Saved/GamingPanel/<player>/cloud_saves.json. What stays in the
// engine (the HTTP call, reading the JSON answer, the JSON file) is only compiled by the syntax checks.
// It also runs the kit's engine-independent rules the subsystem decides with (inline in the public headers): which
// answers end a session or a purchase attempt (FGamingPanelError), how long a retry waits (FGamingPanelHttp::
// RetryDelaySeconds: a Retry-After in full), the client version remote config sends, and the token refresh
// (FGamingPanelTokenRefresh, Public/GamingPanelTokenRefresh.h: one refresh in flight, its resends and waits) against a
// fake POST auth/refresh and a fake clock, driven as UGamingPanelSubsystem::Refresh and RefreshAnswered drive it.
// And remote config's offline copy (FGamingPanelRemoteConfigCache, Public/GamingPanelRemoteConfigCache.h: If-None-Match,
// a 304 moving the copy's fetch time, a 2xx that is not the config, 429/503) against a fake GET config and an in-memory
// remote_config.json, driven as FGamingPanelRemoteConfig::Fetch drives it.
// Built and run by scripts/check_examples.sh with g++; exits 1 when a check fails.
#include "GamingPanelSaveQueue.h"
#include "GamingPanelCloudSave.h"
#include "GamingPanelRemoteConfigCache.h"
#include "GamingPanelTokenRefresh.h"

#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace
{
int Checks = 0;
int Failed = 0;

bool Check(bool bCondition, const char* What)
{
	++Checks;
	if (!bCondition)
	{
		++Failed;
		std::printf("        FAIL: expected %s\n", What);
	}
	return bCondition;
}

FString Header(const FGamingPanelSaveRequest& Request, const TCHAR* Name)
{
	const TMap<FString, FString> Headers = Request.Headers();
	const FString* Value = Headers.Find(Name);
	return Value ? *Value : FString(TEXT("<absent>"));
}

FString Quoted(int64 Version)
{
	return FString(L"\"" + std::to_wstring(Version) + L"\""); // as the panel's ETag; not the plugin's formatting
}

/** The panel's cloud-save rules, in memory, for one player. */
struct FFakePanel
{
	struct FDocument
	{
		int64 Version = 0;
		FString ValueJson;
	};

	std::map<std::wstring, FDocument> Documents;
	std::map<std::wstring, FGamingPanelSaveAnswer> Answered; // by Idempotency-Key: a repeat gets the first answer
	std::vector<FGamingPanelSaveRequest> Requests;           // everything the queue sent, answered or not
	bool bOnline = true;
	int32 RefuseWith = 0;        // a 4xx the panel answers every write with (413 document_too_large...)
	const TCHAR* RefuseCode = nullptr; // its code, when not the default (403 player_banned)
	bool bAnswerCanned = false;  // every write gets Canned, nothing applied (a proxy, a captive portal)
	FGamingPanelSaveAnswer Canned;
	bool bLoseNextAnswer = false; // the write is applied, its answer never arrives
	bool bHoldAnswers = false;    // answers wait in Held until released (a write still out)
	std::vector<std::function<void()>> Held;
	int32 Applied = 0;

	FGamingPanelSaveQueue::FSend Sender()
	{
		return [this](const FGamingPanelSaveRequest& Request, FGamingPanelSaveQueue::FOnAnswer OnAnswer)
		{
			Requests.push_back(Request);
			FGamingPanelSaveAnswer Answer = Handle(Request);
			if (bHoldAnswers) Held.push_back([OnAnswer, Answer] { OnAnswer(Answer); });
			else OnAnswer(Answer);
			return true;
		};
	}

	void ReleaseHeld()
	{
		std::vector<std::function<void()>> Now;
		Now.swap(Held);
		for (auto& Answer : Now) Answer();
	}

	/** Another device of the player writes the key. */
	void WriteElsewhere(const FString& Key, const FString& ValueJson)
	{
		FDocument& Document = Documents[*Key];
		Document.Version += 1;
		Document.ValueJson = ValueJson;
	}

	void DeleteElsewhere(const FString& Key) { Documents.erase(*Key); }

	/** What GET player/saves answers: every document with its version. */
	TArray<FGamingPanelSaveDocument> List() const
	{
		TArray<FGamingPanelSaveDocument> Listed;
		for (const auto& Entry : Documents)
		{
			FGamingPanelSaveDocument Document;
			Document.Key = FString(Entry.first.c_str());
			Document.Version = Entry.second.Version;
			Document.ValueJson = Entry.second.ValueJson;
			Listed.Add(Document);
		}
		return Listed;
	}

	bool Has(const FString& Key, int64 Version, const FString& ValueJson) const
	{
		auto It = Documents.find(*Key);
		return It != Documents.end() && It->second.Version == Version && It->second.ValueJson == ValueJson;
	}

	/** The panel's problem document (application/problem+json with a code), or no answer at all for Status 0. */
	static FGamingPanelSaveAnswer Problem(int32 Status, const TCHAR* Code)
	{
		FGamingPanelSaveAnswer Answer;
		Answer.Error.Status = Status;
		Answer.Error.Code = Code;
		Answer.bProblemDocument = Status != 0;
		return Answer;
	}

	FGamingPanelSaveAnswer Handle(const FGamingPanelSaveRequest& Request)
	{
		if (!bOnline) return Problem(0, TEXT("network_error"));
		if (bAnswerCanned) return Canned;
		if (RefuseWith) return Problem(RefuseWith, RefuseCode ? RefuseCode : RefuseWith == 401 ? TEXT("token_revoked") : TEXT("document_too_large"));
		const FString Path = Request.Path();
		const FString Prefix = TEXT("player/saves/");
		if (!Path.StartsWith(Prefix)) return Problem(404, TEXT("not_found"));
		const FString Key = Path.Mid(Prefix.Len(), Path.Len() - Prefix.Len());
		const FString IdempotencyKey = Header(Request, TEXT("Idempotency-Key"));
		auto Seen = Answered.find(*IdempotencyKey);
		if (Seen != Answered.end()) return Seen->second;

		auto It = Documents.find(*Key);
		const bool bExists = It != Documents.end();
		const FString IfMatch = Header(Request, TEXT("If-Match"));
		const FString IfNoneMatch = Header(Request, TEXT("If-None-Match"));
		const bool bHolds = IfNoneMatch == TEXT("*") ? !bExists : bExists && IfMatch == Quoted(It->second.Version);
		if (!bHolds)
		{
			FGamingPanelSaveAnswer Stale = Problem(412, TEXT("precondition_failed"));
			if (bExists) Stale.bHasDocument = true, Stale.Document = {Key, It->second.Version, It->second.ValueJson};
			return Stale; // current: null when the panel has no document
		}

		++Applied;
		FGamingPanelSaveAnswer Done;
		Done.bOk = true;
		Done.Status = Request.Verb() == TEXT("DELETE") ? 204 : bExists ? 200 : 201;
		if (Request.Verb() == TEXT("DELETE"))
		{
			Documents.erase(It);
		}
		else if (Request.Verb() == TEXT("PUT"))
		{
			FDocument& Document = Documents[*Key];
			Document.Version = bExists ? Document.Version + 1 : 1;
			Document.ValueJson = Request.ValueJson;
			Done.bHasDocument = true;
			Done.Document = {Key, Document.Version, Document.ValueJson};
		}
		else
		{
			return Problem(405, TEXT("method_not_allowed"));
		}
		Answered[*IdempotencyKey] = Done;
		if (bLoseNextAnswer)
		{
			bLoseNextAnswer = false;
			return Problem(0, TEXT("network_error"));
		}
		return Done;
	}
};

/** Stands in for cloud_saves.json: what was last written, read back by the next queue (the game restarted). */
struct FMemoryStore : IGamingPanelSaveStore
{
	bool bHasState = false;
	FGamingPanelSaveState Stored;
	int32 Writes = 0;

	bool Read(FGamingPanelSaveState& OutState) override
	{
		if (!bHasState) return false;
		OutState = Stored;
		return true;
	}

	void Write(const FGamingPanelSaveState& State) override
	{
		Stored = State;
		bHasState = true;
		++Writes;
	}
};

TFunction<FString()> CountingKeys()
{
	auto Next = std::make_shared<int>(0);
	return [Next] { return FString(L"idem-" + std::to_wstring(++*Next)); };
}

/** A queue as the game starts: reads what the store holds. */
struct FDevice
{
	TSharedRef<FMemoryStore> Store;
	FGamingPanelSaveQueue Queue;
	int32 ConflictsRaised = 0;
	FGamingPanelSaveConflict LastRaised;

	explicit FDevice(TSharedRef<FMemoryStore> InStore = MakeShared<FMemoryStore>())
		: Store(InStore)
		, Queue(InStore, CountingKeys())
	{
		Queue.Reload();
		Queue.OnConflict = [this](const FGamingPanelSaveConflict& Conflict)
		{
			++ConflictsRaised;
			LastRaised = Conflict;
		};
	}

	FGamingPanelSyncReport Sync(FFakePanel& Panel)
	{
		bool bDone = false;
		FGamingPanelSyncReport Report;
		Queue.Sync(Panel.Sender(), [&bDone, &Report](const FGamingPanelSyncReport& Done) { Report = Done; bDone = true; });
		Check(bDone, "Sync to complete");
		return Report;
	}

	const FGamingPanelSaveDocument* Synced(const TCHAR* Key) const { return Queue.GetState().Synced.Find(Key); }
	const FGamingPanelPendingSave* Pending(const TCHAR* Key) const { return Queue.GetState().Pending.Find(Key); }

	bool Reads(const TCHAR* Key, const TCHAR* Expected) const
	{
		FString Value;
		return Queue.TryGet(Key, Value) && Value == Expected;
	}
};

/** Device synced slot1 at version 1 ({"chapter":1}). */
void SyncedAtVersion1(FDevice& Device, FFakePanel& Panel)
{
	Device.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":1}"));
	Device.Sync(Panel);
}

// ---------------------------------------------------------------- the cases

void QueuedOfflineSentOnReconnect()
{
	FFakePanel Panel;
	FDevice Device;
	Device.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":1}"));
	FGamingPanelSyncReport Created = Device.Sync(Panel);
	Check(Panel.Requests.size() == 1 && Panel.Requests[0].Verb() == TEXT("PUT") && Panel.Requests[0].Path() == TEXT("player/saves/slot1"),
		"PUT player/saves/slot1");
	Check(Header(Panel.Requests[0], TEXT("If-None-Match")) == TEXT("*") && Header(Panel.Requests[0], TEXT("If-Match")) == TEXT("<absent>"),
		"a key never synced is created with If-None-Match: * (no If-Match)");
	Check(Created.Written.Num() == 1 && Created.StillQueued == 0 && Panel.Has(TEXT("slot1"), 1, TEXT("{\"chapter\":1}")), "created at version 1");
	Check(Device.Synced(TEXT("slot1")) && Device.Synced(TEXT("slot1"))->Version == 1, "the cached version is the written one (1)");

	Panel.bOnline = false;
	Device.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":2}"));
	Device.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":3}"));
	Check(Device.Queue.QueuedCount() == 1, "one queued write per key (the newest)");
	Check(Device.Reads(TEXT("slot1"), TEXT("{\"chapter\":3}")), "reading offline gives the queued value");
	FGamingPanelSyncReport Offline = Device.Sync(Panel);
	Check(Offline.bOffline && Offline.StillQueued == 1 && Offline.Written.Num() == 0, "offline: reported offline, the write stays queued");
	Check(Panel.Has(TEXT("slot1"), 1, TEXT("{\"chapter\":1}")), "nothing reached the panel");
	const FString OfflineKey = Header(Panel.Requests.back(), TEXT("Idempotency-Key"));

	Panel.bOnline = true;
	FGamingPanelSyncReport Back = Device.Sync(Panel);
	const FGamingPanelSaveRequest& Sent = Panel.Requests.back();
	Check(Header(Sent, TEXT("If-Match")) == TEXT("\"1\"") && Header(Sent, TEXT("If-None-Match")) == TEXT("<absent>"),
		"back online, the queued write is sent with If-Match: \"1\" (the cached version)");
	Check(Sent.ValueJson == TEXT("{\"chapter\":3}"), "with the newest value");
	Check(Header(Sent, TEXT("Idempotency-Key")) == OfflineKey, "and the Idempotency-Key of the attempt made offline");
	Check(Back.Written.Num() == 1 && Back.StillQueued == 0 && !Back.bOffline, "written, nothing left queued");
	Check(Panel.Has(TEXT("slot1"), 2, TEXT("{\"chapter\":3}")), "the panel holds it at version 2");
	Check(Device.Synced(TEXT("slot1")) && Device.Synced(TEXT("slot1"))->Version == 2 && Device.Synced(TEXT("slot1"))->ValueJson == TEXT("{\"chapter\":3}"),
		"the cache is updated to version 2");

	Device.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":4}"));
	Device.Sync(Panel);
	Check(Header(Panel.Requests.back(), TEXT("If-Match")) == TEXT("\"2\"") && Panel.Has(TEXT("slot1"), 3, TEXT("{\"chapter\":4}")),
		"the next write builds on the updated version (If-Match: \"2\")");
}

/** slot1 at version 1 on both; {"chapter":5} queued here while another device wrote {"chapter":4} (version 2). */
void MakeConflict(FDevice& Device, FFakePanel& Panel)
{
	SyncedAtVersion1(Device, Panel);
	Panel.bOnline = false;
	Device.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":5}"));
	Device.Sync(Panel);
	Panel.WriteElsewhere(TEXT("slot1"), TEXT("{\"chapter\":4}"));
	Panel.bOnline = true;
}

void ConflictKeepsBothCopies()
{
	FFakePanel Panel;
	FDevice Device;
	MakeConflict(Device, Panel);
	FGamingPanelSyncReport Report = Device.Sync(Panel);

	Check(Header(Panel.Requests.back(), TEXT("If-Match")) == TEXT("\"1\""), "the write was sent against version 1");
	Check(Report.Conflicts.Num() == 1 && Device.ConflictsRaised == 1, "the 412 is reported and OnConflict raised once");
	const FGamingPanelSaveConflict& Raised = Device.LastRaised;
	Check(Raised.Key == TEXT("slot1") && Raised.LocalValueJson == TEXT("{\"chapter\":5}"), "the conflict carries the local copy");
	Check(Raised.bServerHasDocument && Raised.Server.Version == 2 && Raised.Server.ValueJson == TEXT("{\"chapter\":4}"),
		"and the server's copy (current, version 2)");
	Check(Report.Written.Num() == 0 && Report.Rejected.Num() == 0 && !Report.bOffline, "nothing written, nothing dropped");
	Check(Panel.Has(TEXT("slot1"), 2, TEXT("{\"chapter\":4}")), "the other device's write is not overwritten");
	Check(Device.Reads(TEXT("slot1"), TEXT("{\"chapter\":5}")), "the local value is not overwritten by the server's");
	Check(Device.Synced(TEXT("slot1")) && Device.Synced(TEXT("slot1"))->Version == 1 && Device.Synced(TEXT("slot1"))->ValueJson == TEXT("{\"chapter\":1}"),
		"the cached synced copy is untouched until the game resolves");
	Check(Device.Queue.QueuedCount() == 1 && Device.Queue.GetConflicts().Num() == 1, "the write waits for the game");
	const FGamingPanelPendingSave* Stored = Device.Store->Stored.Pending.Find(TEXT("slot1"));
	Check(Stored && Stored->bConflict && Stored->bServerHasDocument && Stored->Server.Version == 2, "the conflict is in the local store");

	const size_t Sent = Panel.Requests.size();
	FGamingPanelSyncReport Again = Device.Sync(Panel);
	Check(Panel.Requests.size() == Sent, "an unresolved conflict is not sent again");
	Check(Again.Conflicts.Num() == 1 && Again.StillQueued == 1 && Device.ConflictsRaised == 1, "it is reported again, not raised again");
}

void ConflictResolvedMerged()
{
	FFakePanel Panel;
	FDevice Device;
	MakeConflict(Device, Panel);
	Device.Sync(Panel);
	const FString ConflictKey = Header(Panel.Requests.back(), TEXT("Idempotency-Key"));
	Check(Device.Queue.Resolve(TEXT("slot1"), EGamingPanelConflictResolution::UseMerged, TEXT("{\"chapter\":5,\"merged\":true}")), "Resolve accepts it");
	Check(Device.Synced(TEXT("slot1")) && Device.Synced(TEXT("slot1"))->Version == 2, "resolving caches the server's copy (version 2)");
	FGamingPanelSyncReport Report = Device.Sync(Panel);
	const FGamingPanelSaveRequest& Sent = Panel.Requests.back();
	Check(Header(Sent, TEXT("If-Match")) == TEXT("\"2\"") && Header(Sent, TEXT("Idempotency-Key")) != ConflictKey,
		"the merged value goes against version 2 with a new Idempotency-Key");
	Check(Report.Written.Num() == 1 && Report.Conflicts.Num() == 0 && Panel.Has(TEXT("slot1"), 3, TEXT("{\"chapter\":5,\"merged\":true}")),
		"written at version 3");
	Check(Device.Synced(TEXT("slot1"))->Version == 3 && Device.Queue.QueuedCount() == 0, "cached at version 3, queue empty");
}

void ConflictResolvedKeepLocal()
{
	FFakePanel Panel;
	FDevice Device;
	MakeConflict(Device, Panel);
	Device.Sync(Panel);
	Device.Queue.Resolve(TEXT("slot1"), EGamingPanelConflictResolution::KeepLocal);
	Device.Sync(Panel);
	Check(Header(Panel.Requests.back(), TEXT("If-Match")) == TEXT("\"2\"") && Panel.Has(TEXT("slot1"), 3, TEXT("{\"chapter\":5}")),
		"keep local: the local value is written over version 2");
}

void ConflictResolvedKeepServer()
{
	FFakePanel Panel;
	FDevice Device;
	MakeConflict(Device, Panel);
	Device.Sync(Panel);
	Device.Queue.Resolve(TEXT("slot1"), EGamingPanelConflictResolution::KeepServer);
	const size_t Sent = Panel.Requests.size();
	FGamingPanelSyncReport Report = Device.Sync(Panel);
	Check(Panel.Requests.size() == Sent && Report.StillQueued == 0 && Report.Written.Num() == 0, "keep server: nothing left to send");
	Check(Device.Reads(TEXT("slot1"), TEXT("{\"chapter\":4}")) && Device.Synced(TEXT("slot1"))->Version == 2, "the server's copy is the local one");
	Check(Panel.Has(TEXT("slot1"), 2, TEXT("{\"chapter\":4}")), "the panel is unchanged");
	Check(!Device.Queue.Resolve(TEXT("slot1"), EGamingPanelConflictResolution::KeepLocal), "a resolved conflict cannot be resolved twice");
}

void RefusedWriteDropped()
{
	FFakePanel Panel;
	FDevice Device;
	SyncedAtVersion1(Device, Panel);
	Panel.RefuseWith = 413;
	Device.Queue.Save(TEXT("slot1"), TEXT("{\"huge\":true}"));
	FGamingPanelSyncReport Report = Device.Sync(Panel);
	Check(Report.Rejected.Num() == 1 && Report.Rejected[0].Error.Status == 413 && Report.Rejected[0].Error.Code == TEXT("document_too_large"),
		"a 413 is reported with its code");
	Check(Report.Rejected[0].Key == TEXT("slot1") && Report.Rejected[0].ValueJson == TEXT("{\"huge\":true}") && !Report.Rejected[0].bDeleted,
		"with the key and the value it carried");
	Check(Report.StillQueued == 0 && !Report.bOffline, "and dropped from the queue");
	Check(Device.Reads(TEXT("slot1"), TEXT("{\"chapter\":1}")) && Device.Synced(TEXT("slot1"))->Version == 1, "the synced copy stays");
}

void SessionOverKeepsQueue()
{
	FFakePanel Panel;
	FDevice Device;
	SyncedAtVersion1(Device, Panel);
	Panel.RefuseWith = 401;
	Device.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":2}"));
	Device.Queue.Save(TEXT("slot2"), TEXT("{\"gold\":5}"));
	const size_t SentBefore = Panel.Requests.size();
	FGamingPanelSyncReport Report = Device.Sync(Panel);
	Check(Report.bNeedsLogin && Report.Rejected.Num() == 0 && Report.Written.Num() == 0, "a 401 asks for a login and drops nothing");
	Check(Report.StillQueued == 2 && Panel.Requests.size() == SentBefore + 1, "both writes stay queued; the sync stopped at the first 401");

	Panel.RefuseWith = 0; // logged in again
	FGamingPanelSyncReport After = Device.Sync(Panel);
	Check(After.Written.Num() == 2 && After.StillQueued == 0 && !After.bNeedsLogin, "sent in the next session");
	Check(Panel.Has(TEXT("slot1"), 2, TEXT("{\"chapter\":2}")) && Panel.Has(TEXT("slot2"), 1, TEXT("{\"gold\":5}")), "the panel has both");
}

void BannedKeepsQueue()
{
	FFakePanel Panel;
	FDevice Device;
	SyncedAtVersion1(Device, Panel);
	Panel.RefuseWith = 403;
	Panel.RefuseCode = TEXT("player_banned");
	Device.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":2}"));
	Device.Queue.Save(TEXT("slot2"), TEXT("{\"gold\":5}"));
	const FString QueuedKey = Device.Pending(TEXT("slot1"))->IdempotencyKey;
	const size_t SentBefore = Panel.Requests.size();
	FGamingPanelSyncReport Report = Device.Sync(Panel);
	Check(Report.bNeedsLogin && !Report.bOffline && Report.Rejected.Num() == 0 && Report.Written.Num() == 0,
		"403 player_banned ends the sync like a 401 (the session is over) and drops nothing");
	Check(Report.StillQueued == 2 && Panel.Requests.size() == SentBefore + 1, "both writes stay queued; the sync stopped at the first");
	const FGamingPanelPendingSave* Kept = Device.Pending(TEXT("slot1"));
	Check(Kept && Kept->ValueJson == TEXT("{\"chapter\":2}") && Kept->IdempotencyKey == QueuedKey && Kept->BaseVersion == 1,
		"with its value, Idempotency-Key and base version");
	Check(Device.Store->Stored.Pending.Num() == 2, "and in the local store");

	Panel.RefuseWith = 0; // the ban ended, the player logged in again
	FGamingPanelSyncReport After = Device.Sync(Panel);
	Check(After.Written.Num() == 2 && After.StillQueued == 0 && Panel.Requests.size() > SentBefore + 1
			&& Header(Panel.Requests[SentBefore + 1], TEXT("Idempotency-Key")) == QueuedKey,
		"sent in the next session, with the same Idempotency-Key");
	Check(Panel.Has(TEXT("slot1"), 2, TEXT("{\"chapter\":2}")) && Panel.Has(TEXT("slot2"), 1, TEXT("{\"gold\":5}")), "the panel has both");
}

void SessionRefusalsKeepQueue()
{
	// The panel's 403s about the session or the credential, not about the write (docs/guide/errors.md).
	struct { const char* Name; const TCHAR* Code; } Codes[] = {
		{"permission_missing", TEXT("permission_missing")},
		{"wrong_credential_kind", TEXT("wrong_credential_kind")},
		{"player_banned", TEXT("player_banned")},
		{"permission_denied", TEXT("permission_denied")},
	};
	for (const auto& Refusal : Codes)
	{
		const TCHAR* Code = Refusal.Code;
		for (const bool bDelete : {false, true})
		{
			const std::string What = std::string(bDelete ? "a DELETE" : "a PUT") + " answered 403 " + Refusal.Name;
			FFakePanel Panel;
			FDevice Device;
			SyncedAtVersion1(Device, Panel);
			if (bDelete) Device.Queue.Delete(TEXT("slot1"));
			else Device.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":2}"));
			Device.Queue.Save(TEXT("slot2"), TEXT("{\"gold\":5}"));
			const FString QueuedKey = Device.Pending(TEXT("slot1"))->IdempotencyKey;
			Panel.RefuseWith = 403;
			Panel.RefuseCode = Code;
			const size_t SentBefore = Panel.Requests.size();
			FGamingPanelSyncReport Report = Device.Sync(Panel);
			const std::string Stops = What + ": the sync stops, asks for a login, drops nothing and says why";
			Check(Report.bNeedsLogin && !Report.bOffline && Report.Rejected.Num() == 0 && Report.Written.Num() == 0
					&& Report.StillQueued == 2 && Panel.Requests.size() == SentBefore + 1
					&& Report.Error.Status == 403 && Report.Error.Code == Code,
				Stops.c_str());
			const FGamingPanelPendingSave* Kept = Device.Pending(TEXT("slot1"));
			const std::string Queued = What + ": the write stays queued as it was, in the local store too";
			Check(Kept && Kept->bDeleted == bDelete && Kept->IdempotencyKey == QueuedKey && Kept->BaseVersion == 1
					&& Device.Store->Stored.Pending.Num() == 2,
				Queued.c_str());

			Panel.RefuseWith = 0; // logged in again (or the caller fixed)
			FGamingPanelSyncReport After = Device.Sync(Panel);
			const std::string Sent = What + ": sent in the next session with the same Idempotency-Key, and applied";
			Check(After.StillQueued == 0 && After.Rejected.Num() == 0 && Panel.Requests.size() > SentBefore + 1
					&& Header(Panel.Requests[SentBefore + 1], TEXT("Idempotency-Key")) == QueuedKey
					&& (bDelete ? Panel.Documents.count(L"slot1") == 0 : Panel.Has(TEXT("slot1"), 2, TEXT("{\"chapter\":2}")))
					&& Panel.Has(TEXT("slot2"), 1, TEXT("{\"gold\":5}")),
				Sent.c_str());
		}
	}

	// The one 403 about the write itself: the key is a game server's. That write is dropped, with its value.
	FFakePanel Panel;
	FDevice Device;
	Device.Queue.Save(TEXT("locked"), TEXT("3"));
	Panel.RefuseWith = 403;
	Panel.RefuseCode = TEXT("save_key_not_writable");
	FGamingPanelSyncReport Refused = Device.Sync(Panel);
	Check(Refused.Rejected.Num() == 1 && Refused.Rejected[0].Key == TEXT("locked") && Refused.Rejected[0].ValueJson == TEXT("3")
			&& Refused.Rejected[0].Error.Code == TEXT("save_key_not_writable") && !Refused.bNeedsLogin && !Refused.bOffline
			&& Refused.StillQueued == 0,
		"403 save_key_not_writable drops that write, reported with its value");
}

void DeleteGoneOnlyOnSaveNotFound()
{
	{
		// The panel's save_not_found: the key is gone there (deleted on another device meanwhile).
		FFakePanel Panel;
		FDevice Device;
		SyncedAtVersion1(Device, Panel);
		Device.Queue.Delete(TEXT("slot1"));
		Panel.bAnswerCanned = true;
		Panel.Canned = FFakePanel::Problem(404, TEXT("save_not_found"));
		FGamingPanelSyncReport Agreed = Device.Sync(Panel);
		Check(Agreed.StillQueued == 0 && Agreed.Conflicts.Num() == 0 && Agreed.Rejected.Num() == 0 && !Agreed.bOffline
				&& !Device.Pending(TEXT("slot1")) && !Device.Synced(TEXT("slot1")),
			"a delete answered 404 save_not_found is agreed: gone on both sides");
	}

	// The panel's generic not_found (no such endpoint: a wrong base URL or prefix) says nothing of the document.
	FFakePanel Panel;
	FDevice Device;
	SyncedAtVersion1(Device, Panel);
	Device.Queue.Delete(TEXT("slot1"));
	const FString QueuedKey = Device.Pending(TEXT("slot1"))->IdempotencyKey;
	Panel.bAnswerCanned = true;
	Panel.Canned = FFakePanel::Problem(404, TEXT("not_found"));
	FGamingPanelSyncReport Report = Device.Sync(Panel);
	Check(Report.bOffline && !Report.bNeedsLogin && Report.StillQueued == 1 && Report.Conflicts.Num() == 0 && Report.Rejected.Num() == 0
			&& Device.Pending(TEXT("slot1")) && Device.Pending(TEXT("slot1"))->bDeleted && Device.Synced(TEXT("slot1")),
		"a delete answered 404 not_found stays queued (the synced copy too)");
	Check(Report.Error.Status == 404 && Report.Error.Code == TEXT("not_found"), "and the report carries the 404");
	Check(Panel.Has(TEXT("slot1"), 1, TEXT("{\"chapter\":1}")), "the panel still holds the document");
	Panel.bAnswerCanned = false;
	FGamingPanelSyncReport After = Device.Sync(Panel);
	Check(After.StillQueued == 0 && Panel.Documents.count(L"slot1") == 0
			&& Header(Panel.Requests.back(), TEXT("Idempotency-Key")) == QueuedKey,
		"the next sync deletes it, with the same Idempotency-Key");
}

/** An answer that is not the panel's: Status, Code as FGamingPanelError::FromResponse makes them of a page. */
FGamingPanelSaveAnswer NotThePanels(int32 Status, const TCHAR* Code)
{
	FGamingPanelSaveAnswer Answer;
	Answer.Error.Status = Status;
	Answer.Error.Code = Code;
	return Answer;
}

void UnreadableAnswersKeepTheWrite()
{
	FGamingPanelSaveAnswer EmptyOk; // 200/201 with an empty body: bOk, no document
	EmptyOk.bOk = true;
	struct { const char* What; FGamingPanelSaveAnswer Answer; } Cases[] = {
		{"an empty 2xx", EmptyOk},
		{"an HTML 200 (a captive portal's page)", NotThePanels(200, TEXT("invalid_response"))},
		{"a 408", NotThePanels(408, TEXT("http_408"))},
		{"a 408 problem document", FFakePanel::Problem(408, TEXT("request_timeout"))},
		{"a proxy's HTML 400", NotThePanels(400, TEXT("validation_error"))},
		{"a proxy's HTML 403", NotThePanels(403, TEXT("permission_denied"))},
		{"a proxy's HTML 404", NotThePanels(404, TEXT("not_found"))},
		{"a proxy's HTML 412", NotThePanels(412, TEXT("http_412"))},
		{"a proxy's HTML 413", NotThePanels(413, TEXT("http_413"))},
	};
	for (const auto& Case : Cases)
	{
		FFakePanel Panel;
		FDevice Device;
		SyncedAtVersion1(Device, Panel);
		Device.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":2}"));
		const FGamingPanelPendingSave Queued = *Device.Pending(TEXT("slot1"));
		Panel.bAnswerCanned = true;
		Panel.Canned = Case.Answer;
		FGamingPanelSyncReport Report = Device.Sync(Panel);
		const FGamingPanelPendingSave* Now = Device.Pending(TEXT("slot1"));
		const FGamingPanelSaveDocument* Synced = Device.Synced(TEXT("slot1"));
		const std::string Kept = std::string(Case.What) + ": the write stays queued as it was (value, Idempotency-Key, "
			"base version), the synced copy stays; nothing dropped, conflicted or deleted";
		Check(Report.bOffline && !Report.bNeedsLogin && Report.Rejected.Num() == 0 && Report.Conflicts.Num() == 0
				&& Report.Written.Num() == 0 && Report.StillQueued == 1
				&& Now && !Now->bConflict && !Now->bDeleted && Now->ValueJson == Queued.ValueJson
				&& Now->IdempotencyKey == Queued.IdempotencyKey && Now->bHasBaseVersion && Now->BaseVersion == 1
				&& Synced && Synced->Version == 1 && Synced->ValueJson == TEXT("{\"chapter\":1}")
				&& Device.Reads(TEXT("slot1"), TEXT("{\"chapter\":2}")),
			Kept.c_str());
		Panel.bAnswerCanned = false;
		FGamingPanelSyncReport Back = Device.Sync(Panel);
		const std::string Sent = std::string(Case.What) + ": the next sync writes it with the same Idempotency-Key";
		Check(Back.Written.Num() == 1 && Header(Panel.Requests.back(), TEXT("Idempotency-Key")) == Queued.IdempotencyKey
				&& Panel.Has(TEXT("slot1"), 2, TEXT("{\"chapter\":2}")),
			Sent.c_str());
	}

	FFakePanel Panel;
	FDevice Device;
	SyncedAtVersion1(Device, Panel);
	Device.Queue.Delete(TEXT("slot1"));
	Panel.bAnswerCanned = true;
	Panel.Canned = NotThePanels(404, TEXT("not_found"));
	FGamingPanelSyncReport Deleting = Device.Sync(Panel);
	Check(Deleting.bOffline && Device.Pending(TEXT("slot1")) && Device.Pending(TEXT("slot1"))->bDeleted && Device.Synced(TEXT("slot1")),
		"a proxy's HTML 404 to a delete is not \"gone there\": the delete stays queued");
}

void LostWriteSentAgainBeforeANewerValue()
{
	FFakePanel Panel;
	FDevice Device;
	SyncedAtVersion1(Device, Panel);
	Panel.bLoseNextAnswer = true;
	Device.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":2}"));
	const FString LostKey = Device.Pending(TEXT("slot1"))->IdempotencyKey;
	Device.Sync(Panel); // applied as version 2, the answer lost
	Device.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":3}"));
	Check(Device.Reads(TEXT("slot1"), TEXT("{\"chapter\":3}")), "the game reads its newest value");
	const size_t Before = Panel.Requests.size();
	FGamingPanelSyncReport Report = Device.Sync(Panel);
	Check(Panel.Requests.size() == Before + 2, "the next sync sends two requests");
	if (Panel.Requests.size() == Before + 2)
	{
		const FGamingPanelSaveRequest& Again = Panel.Requests[Before];
		const FGamingPanelSaveRequest& Newer = Panel.Requests[Before + 1];
		Check(Again.ValueJson == TEXT("{\"chapter\":2}") && Header(Again, TEXT("Idempotency-Key")) == LostKey
				&& Header(Again, TEXT("If-Match")) == TEXT("\"1\""),
			"first the unconfirmed write again, exactly: same value, Idempotency-Key and If-Match");
		Check(Newer.ValueJson == TEXT("{\"chapter\":3}") && Header(Newer, TEXT("If-Match")) == TEXT("\"2\"")
				&& Header(Newer, TEXT("Idempotency-Key")) != LostKey,
			"then the newer value, on the version the replayed answer returned (2)");
	}
	Check(Report.Conflicts.Num() == 0 && Device.ConflictsRaised == 0 && Report.StillQueued == 0 && Panel.Applied == 3,
		"no conflict with the device's own write; each value applied once");
	Check(Panel.Has(TEXT("slot1"), 3, TEXT("{\"chapter\":3}")) && Device.Synced(TEXT("slot1")) && Device.Synced(TEXT("slot1"))->Version == 3,
		"written at version 3, cached at version 3");

	// Saved over while the write was out, its answer lost, then a restart: the same, from the store.
	FFakePanel Other;
	TSharedRef<FMemoryStore> Disk = MakeShared<FMemoryStore>();
	FString OutKey;
	{
		FDevice First(Disk);
		SyncedAtVersion1(First, Other);
		Other.bHoldAnswers = true;
		Other.bLoseNextAnswer = true;
		First.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":2}"));
		OutKey = First.Pending(TEXT("slot1"))->IdempotencyKey;
		bool bDone = false;
		First.Queue.Sync(Other.Sender(), [&bDone](const FGamingPanelSyncReport&) { bDone = true; });
		First.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":3}")); // while the PUT is out
		Other.bHoldAnswers = false;
		Other.ReleaseHeld(); // applied, the answer lost
		Check(bDone, "the sync ends on the lost answer");
	} // the game quits
	{
		FDevice Second(Disk);
		const size_t Sent = Other.Requests.size();
		FGamingPanelSyncReport Again = Second.Sync(Other);
		Check(Other.Requests.size() == Sent + 2 && Header(Other.Requests[Sent], TEXT("Idempotency-Key")) == OutKey
				&& Header(Other.Requests[Sent], TEXT("If-Match")) == TEXT("\"1\""),
			"after a restart the write that was out goes again first, with its Idempotency-Key and If-Match");
		Check(Again.Conflicts.Num() == 0 && Other.Has(TEXT("slot1"), 3, TEXT("{\"chapter\":3}")) && Second.Queue.QueuedCount() == 0,
			"then the value saved over it, at version 3");
	}

	// The lost write never arrived and another device wrote: a conflict with the newest value, nothing overwritten.
	FFakePanel Third;
	FDevice Device3;
	SyncedAtVersion1(Device3, Third);
	Third.bOnline = false;
	Device3.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":2}"));
	Device3.Sync(Third);
	Device3.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":3}"));
	Third.bOnline = true;
	Third.WriteElsewhere(TEXT("slot1"), TEXT("{\"chapter\":9}"));
	FGamingPanelSyncReport Stale = Device3.Sync(Third);
	const FGamingPanelPendingSave* Left = Device3.Pending(TEXT("slot1"));
	Check(Stale.Conflicts.Num() == 1 && Stale.Conflicts[0].LocalValueJson == TEXT("{\"chapter\":3}") && Third.Has(TEXT("slot1"), 2, TEXT("{\"chapter\":9}"))
			&& Left && Left->bConflict && !Left->bHasUnconfirmed,
		"an earlier write answered 412 is settled: the conflict carries the newest local value");
}

void RefreshBringsOtherDevicesSaves()
{
	FFakePanel Panel;
	FDevice Device;
	SyncedAtVersion1(Device, Panel);
	Device.Queue.Save(TEXT("slot3"), TEXT("{\"gold\":1}")); // queued, not sent yet
	Panel.WriteElsewhere(TEXT("slot1"), TEXT("{\"chapter\":7}"));
	Panel.WriteElsewhere(TEXT("slot2"), TEXT("{\"chapter\":2}"));

	Device.Queue.Refreshed(Panel.List());
	Check(Device.Reads(TEXT("slot1"), TEXT("{\"chapter\":7}")) && Device.Synced(TEXT("slot1"))->Version == 2, "a save made elsewhere replaces the synced copy");
	Check(Device.Reads(TEXT("slot2"), TEXT("{\"chapter\":2}")), "a key written elsewhere appears");
	Check(Device.Reads(TEXT("slot3"), TEXT("{\"gold\":1}")) && Device.Queue.QueuedCount() == 1, "the queued write stays queued");
	Check(Device.Store->Stored.Synced.Num() == 2, "written to the store");

	Panel.DeleteElsewhere(TEXT("slot2"));
	Device.Queue.Refreshed(Panel.List());
	Check(!Device.Reads(TEXT("slot2"), TEXT("{\"chapter\":2}")) && !Device.Synced(TEXT("slot2")), "a key deleted elsewhere goes");
}

/** A list item as FGamingPanelCloudSave reads a document the panel sends: an object with key, version and value. */
FGamingPanelSaveListItem Item(const TCHAR* Key, double Version, const TCHAR* ValueJson)
{
	FGamingPanelSaveListItem Read;
	Read.bObject = true;
	Read.bKeyIsString = true;
	Read.Key = Key;
	Read.bVersionIsNumber = true;
	Read.Version = Version;
	Read.bHasValue = true;
	Read.ValueJson = ValueJson;
	return Read;
}

TArray<FGamingPanelSaveListItem> ItemsOf(const TArray<FGamingPanelSaveDocument>& Documents)
{
	TArray<FGamingPanelSaveListItem> Items;
	for (const FGamingPanelSaveDocument& Document : Documents)
		Items.Add(Item(*Document.Key, static_cast<double>(Document.Version), *Document.ValueJson));
	return Items;
}

/** The items of examples/unity/Tests/KitParityTests.cs's NotDocuments, as the JSON reads them: both kits read a list
 *  alike. Each makes the whole answer not the list of saves. */
std::vector<std::pair<const char*, TArray<FGamingPanelSaveListItem>>> NotDocuments()
{
	std::vector<std::pair<const char*, TArray<FGamingPanelSaveListItem>>> Lists;
	auto One = [&Lists](const char* Name, const FGamingPanelSaveListItem& Bad)
	{
		TArray<FGamingPanelSaveListItem> Items;
		Items.Add(Bad);
		Lists.emplace_back(Name, Items);
	};
	One("[1], [null], [\"slot1\"], [[]], [true]: not an object", FGamingPanelSaveListItem());
	FGamingPanelSaveListItem Bad = Item(TEXT("slot1"), 2, TEXT("{}"));
	Bad.bKeyIsString = false, Bad.Key = FString();
	One("no key, or a key that is not a string", Bad);
	One("an empty key", Item(TEXT(""), 2, TEXT("{}")));
	One("a key that is not a save key", Item(TEXT("a/b"), 2, TEXT("{}")));
	Bad = Item(TEXT("slot1"), 2, TEXT("{}"));
	Bad.bVersionIsNumber = false, Bad.Version = 0;
	One("no version, a null one or a string", Bad);
	One("version 0", Item(TEXT("slot1"), 0, TEXT("{}")));
	One("version -2", Item(TEXT("slot1"), -2, TEXT("{}")));
	One("version 1.5", Item(TEXT("slot1"), 1.5, TEXT("{}")));
	One("version 2^64", Item(TEXT("slot1"), 18446744073709551616.0, TEXT("{}")));
	Bad = Item(TEXT("slot1"), 2, TEXT("{}"));
	Bad.bHasValue = false, Bad.ValueJson = FString();
	One("no value, or a null one", Bad);
	TArray<FGamingPanelSaveListItem> GoodThenBad;
	GoodThenBad.Add(Item(TEXT("slot1"), 2, TEXT("{\"chapter\":9}")));
	GoodThenBad.Add(FGamingPanelSaveListItem());
	Lists.emplace_back("a document beside an item that is not one", GoodThenBad);
	TArray<FGamingPanelSaveListItem> Twice;
	Twice.Add(Item(TEXT("slot1"), 2, TEXT("{\"chapter\":9}")));
	Twice.Add(Item(TEXT("slot1"), 3, TEXT("1")));
	Lists.emplace_back("a key listed twice", Twice);
	return Lists;
}

void ListWithAnItemThatIsNotADocument()
{
	FFakePanel Panel;
	FDevice Device;
	SyncedAtVersion1(Device, Panel);
	TArray<FGamingPanelSaveDocument> Handed;
	Check(Device.Queue.ListAnswered(true, ItemsOf(Panel.List()), Device.Queue.SettledWriteCount(), 1000, Handed)
			== EGamingPanelSaveListOutcome::Applied, "the panel's list is applied");

	for (const auto& Listed : NotDocuments())
	{
		const int32 WritesBefore = Device.Store->Writes;
		TArray<FGamingPanelSaveDocument> Documents;
		Check(!FGamingPanelSaveQueue::DocumentsOfList(Listed.second, Documents), Listed.first);
		const EGamingPanelSaveListOutcome Outcome = Device.Queue.ListAnswered(true, Listed.second, Device.Queue.SettledWriteCount(), 2000, Handed);
		if (!Check(Outcome == EGamingPanelSaveListOutcome::NotTheList, "not the list of saves")) std::printf("        for %s\n", Listed.first);
		if (!Check(Handed.Num() == 1 && Handed[0].Key == TEXT("slot1") && Handed[0].Version == 1 && Handed[0].ValueJson == TEXT("{\"chapter\":1}"),
				"the synced copies handed to the game as they were"))
			std::printf("        for %s\n", Listed.first);
		Check(Device.Synced(TEXT("slot1")) && Device.Synced(TEXT("slot1"))->Version == 1 && Device.Store->Writes == WritesBefore,
			"the synced copy kept, nothing written");
		Check(Device.Queue.RefreshedAtUnixSeconds() == 1000, "the time the copies were read stays that of the list applied");
	}
	Check(Device.Queue.ListAnswered(false, TArray<FGamingPanelSaveListItem>(), Device.Queue.SettledWriteCount(), 2000, Handed)
			== EGamingPanelSaveListOutcome::NotTheList && Handed.Num() == 1 && Device.Queue.RefreshedAtUnixSeconds() == 1000,
		"a body that is not an array is not the list either");

	// What the panel sends is read as before: 2.0 is 2 (its other fields, updated_at among them, are not needed).
	TArray<FGamingPanelSaveListItem> Good;
	Good.Add(Item(TEXT("slot1"), 2.0, TEXT("{\"chapter\":5}")));
	Good.Add(Item(TEXT("b"), 1, TEXT("false")));
	Check(Device.Queue.ListAnswered(true, Good, Device.Queue.SettledWriteCount(), 3000, Handed) == EGamingPanelSaveListOutcome::Applied
			&& Handed.Num() == 2 && Device.Reads(TEXT("slot1"), TEXT("{\"chapter\":5}")) && Device.Synced(TEXT("slot1"))->Version == 2
			&& Device.Reads(TEXT("b"), TEXT("false")),
		"a list of documents is applied");
	TArray<FGamingPanelSaveListItem> Empty;
	Check(Device.Queue.ListAnswered(true, Empty, Device.Queue.SettledWriteCount(), 4000, Handed) == EGamingPanelSaveListOutcome::Applied
			&& Handed.Num() == 0 && Device.Queue.SyncedDocuments().Num() == 0,
		"an empty list is a list: the player has no saves");
}

void RefreshKeepsWhenTheCopiesWereRead()
{
	FFakePanel Panel;
	TSharedRef<FMemoryStore> Disk = MakeShared<FMemoryStore>();
	{
		FDevice Device(Disk);
		Check(Device.Queue.RefreshedAtUnixSeconds() == 0, "never read on this device: 0");
		SyncedAtVersion1(Device, Panel);
		Check(Device.Queue.RefreshedAtUnixSeconds() == 0, "a write's answer is not a read of the list");
		TArray<FGamingPanelSaveDocument> Handed;
		Device.Queue.ListAnswered(true, ItemsOf(Panel.List()), Device.Queue.SettledWriteCount(), 1700000000, Handed);
		Check(Device.Queue.RefreshedAtUnixSeconds() == 1700000000 && Disk->Stored.RefreshedAtUnixSeconds == 1700000000,
			"a list applied: the time it was read, in the store");

		// Offline (or a portal's page), the copies the game is served are the ones read then.
		Device.Queue.ListAnswered(false, TArray<FGamingPanelSaveListItem>(), Device.Queue.SettledWriteCount(), 1700000600, Handed);
		Check(Device.Queue.RefreshedAtUnixSeconds() == 1700000000, "not the list: still the time of the last list");

		// A list asked for before the device's own write was answered is not applied: its time is not kept either.
		const int64 Asked = Device.Queue.SettledWriteCount();
		const TArray<FGamingPanelSaveListItem> Before = ItemsOf(Panel.List());
		Device.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":2}"));
		Device.Sync(Panel);
		Check(Device.Queue.ListAnswered(true, Before, Asked, 1700000900, Handed) == EGamingPanelSaveListOutcome::Outdated
				&& Device.Queue.RefreshedAtUnixSeconds() == 1700000000 && Handed.Num() == 1 && Handed[0].Version == 2,
			"an outdated list: the local copies, the time of the last list applied");
	} // the game quits
	{
		FDevice After(Disk);
		Check(After.Queue.RefreshedAtUnixSeconds() == 1700000000, "after a restart, the time the copies were read");
		TArray<FGamingPanelSaveDocument> Handed;
		After.Queue.ListAnswered(true, ItemsOf(Panel.List()), After.Queue.SettledWriteCount(), 1700003600, Handed);
		Check(After.Queue.RefreshedAtUnixSeconds() == 1700003600, "the next list read moves it");
	}
}

void LateRefreshKeepsTheNewerWrite()
{
	FFakePanel Panel;
	FDevice Device;
	SyncedAtVersion1(Device, Panel);
	const int64 Asked = Device.Queue.SettledWriteCount();
	const TArray<FGamingPanelSaveDocument> ListedAtVersion1 = Panel.List(); // the list leaves the panel...
	Device.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":2}"));
	Device.Sync(Panel); // ...and the device's own write is answered before it arrives: version 2

	Check(!Device.Queue.Refreshed(ListedAtVersion1, Asked), "a list asked for before the write was answered is not applied");
	Check(Device.Synced(TEXT("slot1")) && Device.Synced(TEXT("slot1"))->Version == 2, "the synced copy stays at the device's version 2");
	Check(Device.Queue.Refreshed(Panel.List(), Device.Queue.SettledWriteCount()), "a list asked for now is applied");
}

void RefreshThenStaleWriteIsConflict()
{
	FFakePanel Panel;
	FDevice Device;
	SyncedAtVersion1(Device, Panel);
	Panel.bOnline = false;
	Device.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":5}")); // made from version 1
	Panel.bOnline = true;
	Panel.WriteElsewhere(TEXT("slot1"), TEXT("{\"chapter\":4}"));

	Device.Queue.Refreshed(Panel.List());
	Check(Device.Pending(TEXT("slot1")) && Device.Pending(TEXT("slot1"))->BaseVersion == 1, "the queued write keeps the version it was made from");
	FGamingPanelSyncReport Report = Device.Sync(Panel);
	Check(Report.Conflicts.Num() == 1 && Panel.Has(TEXT("slot1"), 2, TEXT("{\"chapter\":4}")), "a conflict, never an overwrite");
}

void ReadThenRefreshThenSaveIsConflict()
{
	FFakePanel Panel;
	FDevice Device;
	SyncedAtVersion1(Device, Panel);
	FString Loaded;
	Check(Device.Queue.TryGet(TEXT("slot1"), Loaded), "the game loads version 1");
	Panel.WriteElsewhere(TEXT("slot1"), TEXT("{\"chapter\":9}")); // the other device: version 2
	Device.Queue.Refreshed(Panel.List()); // brought in; the game does not look
	Device.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":2}")); // built on what it read
	FGamingPanelSyncReport Report = Device.Sync(Panel);
	Check(Report.Conflicts.Num() == 1 && Panel.Has(TEXT("slot1"), 2, TEXT("{\"chapter\":9}")),
		"a conflict, not a silent overwrite of the other device's progress");
	Device.Queue.Resolve(TEXT("slot1"), EGamingPanelConflictResolution::KeepServer);
	Check(Device.Queue.TryGet(TEXT("slot1"), Loaded) && Loaded == TEXT("{\"chapter\":9}"), "the server's copy read");
	Device.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":10}"));
	FGamingPanelSyncReport After = Device.Sync(Panel);
	Check(After.Written.Num() == 1 && Panel.Has(TEXT("slot1"), 3, TEXT("{\"chapter\":10}")), "then written over version 2");
}

void NoDocumentThenRefreshIsConflict()
{
	// A first start on this device: the game finds no save and starts a new game, while a refresh in the background
	// brings the progress the player made on another device.
	FFakePanel Panel;
	FDevice Device;
	FString Loaded;
	Check(!Device.Queue.TryGet(TEXT("slot1"), Loaded), "the game finds no slot1 on this device");
	Panel.WriteElsewhere(TEXT("slot1"), TEXT("{\"chapter\":9}")); // the other device: version 1
	Device.Queue.Refreshed(Panel.List()); // brought in; the game does not look
	Device.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":1}")); // built on no document
	FGamingPanelSyncReport Report = Device.Sync(Panel);
	Check(!Panel.Requests.empty() && Header(Panel.Requests.back(), TEXT("If-None-Match")) == TEXT("*")
			&& Header(Panel.Requests.back(), TEXT("If-Match")) == TEXT("<absent>"),
		"the save goes as a create (If-None-Match: *), not against the version the refresh brought");
	Check(Report.Conflicts.Num() == 1 && Report.Written.Num() == 0 && Report.Conflicts[0].bServerHasDocument
			&& Report.Conflicts[0].Server.ValueJson == TEXT("{\"chapter\":9}") && Report.Conflicts[0].LocalValueJson == TEXT("{\"chapter\":1}")
			&& Panel.Has(TEXT("slot1"), 1, TEXT("{\"chapter\":9}")),
		"a conflict with both copies, not a silent overwrite of the other device's progress");

	// The same for a delete of a key the game saw no document of.
	Check(!Device.Queue.TryGet(TEXT("slot2"), Loaded), "the game finds no slot2 on this device");
	Panel.WriteElsewhere(TEXT("slot2"), TEXT("{\"gold\":5}"));
	Device.Queue.Refreshed(Panel.List());
	Device.Queue.Delete(TEXT("slot2"));
	FGamingPanelSyncReport Deleted = Device.Sync(Panel);
	bool bSlot2Conflict = false;
	for (const FGamingPanelSaveConflict& Conflict : Deleted.Conflicts) bSlot2Conflict |= Conflict.Key == TEXT("slot2");
	Check(bSlot2Conflict && Panel.Has(TEXT("slot2"), 1, TEXT("{\"gold\":5}")),
		"a delete built on no document is a conflict, the other device's slot2 is kept");

	// And after the device's own delete: another device writes the key again, a refresh brings it in.
	Device.Queue.Save(TEXT("slot3"), TEXT("\"mine\""));
	Device.Sync(Panel);
	Device.Queue.Delete(TEXT("slot3"));
	Device.Sync(Panel);
	Check(Panel.Documents.find(L"slot3") == Panel.Documents.end(), "slot3 deleted by this device");
	Panel.WriteElsewhere(TEXT("slot3"), TEXT("\"theirs\""));
	Device.Queue.Refreshed(Panel.List());
	Device.Queue.Save(TEXT("slot3"), TEXT("\"mine again\"")); // built on the device's own delete
	FGamingPanelSyncReport Again = Device.Sync(Panel);
	bool bSlot3Conflict = false;
	for (const FGamingPanelSaveConflict& Conflict : Again.Conflicts) bSlot3Conflict |= Conflict.Key == TEXT("slot3");
	Check(bSlot3Conflict && Panel.Has(TEXT("slot3"), 1, TEXT("\"theirs\"")),
		"a save after the device's own delete is a conflict with the copy written since, not an overwrite");
}

void AnswerAfterAnotherLoginIsNotApplied()
{
	FFakePanel Panel;
	FDevice Device;
	Panel.bHoldAnswers = true;
	Device.Queue.Save(TEXT("a1"), TEXT("{\"mine\":\"A\"}"));
	bool bDone = false;
	FGamingPanelSyncReport Report;
	Device.Queue.Sync(Panel.Sender(), [&](const FGamingPanelSyncReport& Done) { Report = Done; bDone = true; });
	const FGamingPanelSaveState PlayerA = Device.Store->Stored;
	Device.Store->Stored = FGamingPanelSaveState(); // another player logs in: their (empty) file is loaded
	Device.Queue.Reload();
	Panel.bHoldAnswers = false;
	Panel.ReleaseHeld(); // player A's answer arrives now
	FString Value;
	Check(bDone && Report.bNeedsLogin, "the sync ends, its player gone");
	Check(!Device.Queue.TryGet(TEXT("a1"), Value) && Device.Store->Stored.Synced.Num() == 0, "nothing of A in B's state or file");
	Check(PlayerA.Pending.Num() == 1, "A's write stays in A's file, with its key, for A's next sync");
}

void OneSyncAtATime()
{
	FFakePanel Panel;
	FDevice Device;
	SyncedAtVersion1(Device, Panel);
	FString Loaded;
	Check(Device.Queue.TryGet(TEXT("slot1"), Loaded), "version 1 read");
	Device.Queue.Save(TEXT("slot1"), TEXT("{\"v\":\"A\"}"));
	Panel.bHoldAnswers = true;
	bool bFirstDone = false;
	Device.Queue.Sync(Panel.Sender(), [&bFirstDone](const FGamingPanelSyncReport&) { bFirstDone = true; }); // A written (version 2), its answer slow
	Panel.bHoldAnswers = false;
	Device.Queue.Save(TEXT("slot1"), TEXT("{\"v\":\"B\"}"));
	const size_t SentBefore = Panel.Requests.size();
	FGamingPanelSyncReport Second = Device.Sync(Panel); // the game syncs again while A's answer is out
	Check(Second.bSyncRunning && Panel.Requests.size() == SentBefore && Second.StillQueued == 1,
		"a sync called while another runs sends nothing and says so");
	Panel.ReleaseHeld(); // A's answer (version 2) arrives
	Check(bFirstDone && !Device.Queue.IsSyncing(), "the first sync ends with its answer");
	Device.Sync(Panel); // the game syncs again: B goes on the version A made
	Check(Device.Reads(TEXT("slot1"), TEXT("{\"v\":\"B\"}")) && Panel.Has(TEXT("slot1"), 3, TEXT("{\"v\":\"B\"}"))
			&& Device.Synced(TEXT("slot1")) && Device.Synced(TEXT("slot1"))->Version == 3,
		"B read here, on the panel at version 3, cached at version 3 (never A's older version 2)");
	Device.Queue.Save(TEXT("slot1"), TEXT("{\"v\":\"C\"}"));
	FGamingPanelSyncReport Next = Device.Sync(Panel);
	Check(Next.Conflicts.Num() == 0 && Next.Written.Num() == 1 && Header(Panel.Requests.back(), TEXT("If-Match")) == TEXT("\"3\"")
			&& Panel.Has(TEXT("slot1"), 4, TEXT("{\"v\":\"C\"}")),
		"the next save builds on version 3: no conflict (412) with the device's own write");

	// A sync out when another player's state is loaded does not hold that player's syncs back.
	FFakePanel Other;
	FDevice Switching;
	Other.bHoldAnswers = true;
	Switching.Queue.Save(TEXT("a1"), TEXT("1"));
	bool bOldDone = false;
	Switching.Queue.Sync(Other.Sender(), [&bOldDone](const FGamingPanelSyncReport&) { bOldDone = true; });
	Switching.Store->Stored = FGamingPanelSaveState(); // another player logs in
	Switching.Queue.Reload();
	Other.bHoldAnswers = false;
	Switching.Queue.Save(TEXT("b1"), TEXT("2"));
	FGamingPanelSyncReport Theirs = Switching.Sync(Other);
	Check(!Theirs.bSyncRunning && Theirs.Written.Num() == 1 && Other.Has(TEXT("b1"), 1, TEXT("2")), "the new player's sync runs");
	Other.ReleaseHeld();
	Check(bOldDone && !Switching.Queue.IsSyncing(), "the old sync ends on its own answer");
}

void TransientKeepsQueueAndKey()
{
	FFakePanel Panel;
	FDevice Device;
	Panel.bLoseNextAnswer = true; // the write reaches the panel, the answer is lost
	Device.Queue.Save(TEXT("slot1"), TEXT("1"));
	Device.Queue.Save(TEXT("slot2"), TEXT("2"));
	FGamingPanelSyncReport Lost = Device.Sync(Panel);
	Check(Lost.bOffline && Lost.StillQueued == 2 && Panel.Requests.size() == 1, "no answer: both stay queued, the sync stops at the first");
	FGamingPanelSyncReport Retried = Device.Sync(Panel);
	Check(Panel.Requests.size() == 3 && Header(Panel.Requests[0], TEXT("Idempotency-Key")) == Header(Panel.Requests[1], TEXT("Idempotency-Key")),
		"the retry carries the same Idempotency-Key");
	Check(Retried.Written.Num() == 2 && Retried.StillQueued == 0 && Panel.Applied == 2, "each write counted once");
	Check(Device.Synced(TEXT("slot1")) && Device.Synced(TEXT("slot1"))->Version == 1, "cached at version 1 from the replayed answer");
}

void SavedWhileWriteOut()
{
	FFakePanel Panel;
	FDevice Device;
	Panel.bHoldAnswers = true;
	Device.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":1}"));
	bool bDone = false;
	Device.Queue.Sync(Panel.Sender(), [&bDone](const FGamingPanelSyncReport&) { bDone = true; });
	Device.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":2}")); // while the PUT is out
	Panel.bHoldAnswers = false;
	Panel.ReleaseHeld();
	Check(bDone, "the sync completes when the answer arrives");
	const FGamingPanelPendingSave* Pending = Device.Pending(TEXT("slot1"));
	Check(Device.Synced(TEXT("slot1")) && Device.Synced(TEXT("slot1"))->Version == 1, "the first value is cached at version 1");
	Check(Pending && Pending->ValueJson == TEXT("{\"chapter\":2}") && Pending->bHasBaseVersion && Pending->BaseVersion == 1,
		"the newer value stays queued, now from version 1");
	Device.Sync(Panel);
	Check(Header(Panel.Requests.back(), TEXT("If-Match")) == TEXT("\"1\"") && Panel.Has(TEXT("slot1"), 2, TEXT("{\"chapter\":2}")),
		"and is written over it (no false conflict)");
}

void SurvivesRestart()
{
	FFakePanel Panel;
	TSharedRef<FMemoryStore> Disk = MakeShared<FMemoryStore>();
	FString QueuedKey;
	{
		FDevice Before(Disk);
		SyncedAtVersion1(Before, Panel);
		Panel.bOnline = false;
		const int32 WritesBefore = Disk->Writes;
		Before.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":2}"));
		const FGamingPanelPendingSave* Stored = Disk->Stored.Pending.Find(TEXT("slot1"));
		Check(Disk->Writes > WritesBefore && Stored && Stored->ValueJson == TEXT("{\"chapter\":2}"), "a save is in the store at once, before any sync");
		Before.Sync(Panel);
		QueuedKey = Before.Pending(TEXT("slot1")) ? Before.Pending(TEXT("slot1"))->IdempotencyKey : FString();
	} // the game quits

	Panel.bOnline = true;
	{
		FDevice After(Disk); // and starts again
		Check(After.Reads(TEXT("slot1"), TEXT("{\"chapter\":2}")) && After.Queue.QueuedCount() == 1, "after a restart the queued value is read back");
		Check(After.Synced(TEXT("slot1")) && After.Synced(TEXT("slot1"))->Version == 1, "with the cached version");
		FGamingPanelSyncReport Report = After.Sync(Panel);
		const FGamingPanelSaveRequest& Sent = Panel.Requests.back();
		Check(Header(Sent, TEXT("If-Match")) == TEXT("\"1\"") && Header(Sent, TEXT("Idempotency-Key")) == QueuedKey,
			"and sent with If-Match: \"1\" and the Idempotency-Key it was queued with");
		Check(Report.Written.Num() == 1 && Panel.Has(TEXT("slot1"), 2, TEXT("{\"chapter\":2}")), "written at version 2");
	}
	{
		FDevice Again(Disk);
		Check(Again.Synced(TEXT("slot1")) && Again.Synced(TEXT("slot1"))->Version == 2 && Again.Queue.QueuedCount() == 0,
			"the written version was stored: the next start has version 2 and an empty queue");
	}

	FFakePanel Other;
	TSharedRef<FMemoryStore> ConflictDisk = MakeShared<FMemoryStore>();
	{
		FDevice Before(ConflictDisk);
		MakeConflict(Before, Other);
		Before.Sync(Other);
	}
	{
		FDevice After(ConflictDisk);
		TArray<FGamingPanelSaveConflict> Conflicts = After.Queue.GetConflicts();
		Check(Conflicts.Num() == 1 && Conflicts[0].LocalValueJson == TEXT("{\"chapter\":5}") && Conflicts[0].Server.Version == 2
				&& Conflicts[0].Server.ValueJson == TEXT("{\"chapter\":4}"),
			"a conflict survives a restart with both copies");
		const size_t Sent = Other.Requests.size();
		After.Sync(Other);
		Check(Other.Requests.size() == Sent, "and is still not sent until resolved");
	}
}

FGamingPanelError Answer(int32 Status, const TCHAR* Code)
{
	FGamingPanelError Error;
	Error.Status = Status;
	Error.Code = Code;
	return Error;
}

void RetryAfterReachesTheGame()
{
	FFakePanel Panel;
	FDevice Device;
	Device.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":1}"));
	const FString Key = Device.Pending(TEXT("slot1"))->IdempotencyKey;
	Panel.bAnswerCanned = true;
	Panel.Canned = FFakePanel::Problem(429, TEXT("rate_limited"));
	Panel.Canned.Error.RetryAfterSeconds = 120.f; // what the subsystem hands back: more than its retries wait (30 s)
	FGamingPanelSyncReport Limited = Device.Sync(Panel);
	Check(Limited.bOffline && Limited.StillQueued == 1 && Device.Pending(TEXT("slot1"))->IdempotencyKey == Key,
		"a 429 keeps the write and its Idempotency-Key");
	Check(Limited.Error.Status == 429 && Limited.Error.Code == TEXT("rate_limited") && Limited.Error.RetryAfterSeconds == 120.f,
		"the report carries the 429 with its Retry-After (120 s), so the game knows when to sync again");
	Panel.Canned = FFakePanel::Problem(401, TEXT("token_revoked"));
	Check(Device.Sync(Panel).Error.Code == TEXT("token_revoked"), "and the refusal behind bNeedsLogin");
	Panel.bAnswerCanned = false;
	FGamingPanelSyncReport Later = Device.Sync(Panel);
	Check(Later.Written.Num() == 1 && !Later.Error.IsSet(), "a sync that went through has no error");
}

void RetriesWaitForRetryAfter()
{
	FGamingPanelError Limited = Answer(429, TEXT("rate_limited"));
	Limited.RetryAfterSeconds = 120.f;
	const float Wait = FGamingPanelHttp::RetryDelaySeconds(Limited, 0);
	Check(Wait >= 120.f, "a retry waits the whole Retry-After (120 s), not 60");
	Check(Wait > FGamingPanelHttp::MaxRetryWaitSeconds && Wait > 30.f,
		"past the longest retry wait (60 s for SendWithRetries, 30 s for SendAuthorized): the error goes back, no early retry");
	FGamingPanelError Down = Answer(503, TEXT("service_unavailable"));
	Down.RetryAfterSeconds = 5.f;
	Check(FGamingPanelHttp::RetryDelaySeconds(Down, 0) == 5.f && FGamingPanelHttp::RetryDelaySeconds(Down, 3) == 5.f,
		"503 with Retry-After: 5 waits 5 s whatever the attempt");
	const FGamingPanelError Offline = Answer(0, TEXT("network_error"));
	Check(FGamingPanelHttp::RetryDelaySeconds(Offline, 0) == 1.f && FGamingPanelHttp::RetryDelaySeconds(Offline, 2) == 4.f
			&& FGamingPanelHttp::RetryDelaySeconds(Offline, 9) == 8.f,
		"without Retry-After: 1, 2, 4, then 8 s");
}

void SessionEndsOnlyOnRefusals()
{
	Check(Answer(401, TEXT("invalid_token")).EndsSession() && Answer(401, TEXT("token_expired")).EndsSession()
			&& Answer(401, TEXT("token_revoked")).EndsSession() && Answer(401, TEXT("refresh_token_reused")).EndsSession()
			&& Answer(403, TEXT("player_banned")).EndsSession(),
		"the panel's 401 invalid_token / token_expired / token_revoked / refresh_token_reused and 403 player_banned end a session");
	// What FGamingPanelError::FromResponse makes of bodies that are no problem document (a proxy's page).
	Check(!Answer(403, TEXT("permission_denied")).EndsSession() && !Answer(404, TEXT("not_found")).EndsSession()
			&& !Answer(401, TEXT("not_authenticated")).EndsSession(),
		"an HTML 403/404/401 from a proxy does not");
	Check(!Answer(408, TEXT("http_408")).EndsSession() && !Answer(0, TEXT("network_error")).EndsSession()
			&& !Answer(503, TEXT("server_error")).EndsSession() && !Answer(200, TEXT("invalid_response")).EndsSession()
			&& !Answer(429, TEXT("rate_limited")).EndsSession(),
		"nor a 408, no answer, a 5xx, a 2xx without tokens or a 429");
}

void PurchaseKeyRules()
{
	const FGamingPanelError InProgress = Answer(409, TEXT("request_in_progress"));
	Check(InProgress.IsTransient() && !InProgress.EndsPurchaseAttempt(), "409 request_in_progress keeps the key: nothing ended");
	const FGamingPanelError ProviderDown = Answer(503, TEXT("payment_provider_unavailable"));
	Check(ProviderDown.IsTransient() && ProviderDown.EndsPurchaseAttempt(),
		"503 payment_provider_unavailable ends the attempt: the server answers that key with it for ever");
	Check(Answer(409, TEXT("insufficient_funds")).EndsPurchaseAttempt() && Answer(422, TEXT("idempotency_key_reused")).EndsPurchaseAttempt()
			&& Answer(404, TEXT("offer_not_found")).EndsPurchaseAttempt(),
		"a refusal about the purchase ends it");
	Check(!Answer(0, TEXT("network_error")).EndsPurchaseAttempt() && !Answer(503, TEXT("service_unavailable")).EndsPurchaseAttempt()
			&& !Answer(500, TEXT("internal_error")).EndsPurchaseAttempt() && !Answer(429, TEXT("rate_limited")).EndsPurchaseAttempt()
			&& !Answer(401, TEXT("token_expired")).EndsPurchaseAttempt() && !Answer(403, TEXT("player_banned")).EndsPurchaseAttempt()
			&& !Answer(200, TEXT("invalid_response")).EndsPurchaseAttempt(),
		"no answer, 5xx, 429, 401/403 and an unreadable 2xx keep the key");
}

/** POST auth/refresh, scripted: each send takes the next answer, the token pair once the script is done. */
struct FFakeRefreshPanel
{
	std::vector<FGamingPanelRefreshAnswer> Script;
	std::vector<FString> Sent; // the refresh token of every send

	static FGamingPanelRefreshAnswer Problem(int32 Status, const TCHAR* Code, float RetryAfter = -1.f)
	{
		FGamingPanelRefreshAnswer Answer;
		Answer.Error = ::Answer(Status, Code);
		Answer.Error.RetryAfterSeconds = RetryAfter;
		return Answer;
	}

	FGamingPanelTokenRefresh::FSend Sender()
	{
		return [this](const FString& Token, FGamingPanelTokenRefresh::FOnAnswer OnAnswer)
		{
			Sent.push_back(Token);
			FGamingPanelRefreshAnswer Next;
			Next.bPair = true;
			if (Sent.size() <= Script.size()) Next = Script[Sent.size() - 1];
			OnAnswer(Next);
		};
	}

	bool AllWith(const TCHAR* Token) const
	{
		for (const FString& One : Sent)
			if (One != Token) return false;
		return true;
	}
};

/** The refresh's clock and waits: each wait is recorded and moves the clock, at once or (bHold) when released. */
struct FFakeRefreshClock
{
	double Now = 1000.0;
	std::vector<float> Waits;
	bool bHold = false;
	std::vector<std::function<void()>> Held;

	FGamingPanelTokenRefresh::FDelay Delayer()
	{
		return [this](float Seconds, TFunction<void()> Then)
		{
			Waits.push_back(Seconds);
			auto Run = [this, Seconds, Then]() { Now += Seconds; Then(); };
			if (bHold) Held.push_back(Run);
			else Run();
		};
	}

	void Release()
	{
		std::vector<std::function<void()>> Due;
		Due.swap(Held);
		for (auto& Run : Due) Run();
	}

	std::string Seen() const
	{
		std::string Out;
		for (float Wait : Waits)
		{
			char Text[32];
			std::snprintf(Text, sizeof(Text), "%g", static_cast<double>(Wait));
			Out += (Out.empty() ? "" : ",") + std::string(Text);
		}
		return Out;
	}
};

struct FRefreshOutcome
{
	bool bDone = false;
	bool bOk = false;
	FGamingPanelError Error;
};

/** FGamingPanelTokenRefresh as the subsystem drives it (Refresh, RefreshAnswered, Logout), on a fake panel and clock. */
struct FRefreshRig
{
	FFakeRefreshPanel Panel;
	FFakeRefreshClock Clock;
	FGamingPanelTokenRefresh Refresh{Panel.Sender(), Clock.Delayer(), [this]() { return Clock.Now; }};
	FString Token = TEXT("old-refresh");
	int32 Generation = 0;
	int32 Stored = 0;
	FGamingPanelError Lost; // set when a refusal ended the session

	std::shared_ptr<FRefreshOutcome> Start(bool bForce = false)
	{
		std::shared_ptr<FRefreshOutcome> Outcome = std::make_shared<FRefreshOutcome>();
		auto OnDone = [Outcome](bool bOk, const FGamingPanelError& Error)
		{
			Outcome->bDone = true;
			Outcome->bOk = bOk;
			Outcome->Error = Error;
		};
		if (!Refresh.Join(OnDone, bForce)) return Outcome;
		const int32 Started = Generation;
		Refresh.Exchange(Token, [this, Started]() { return Generation == Started; },
			[this, Started](const FGamingPanelRefreshAnswer& Answer)
			{
				if (Started != Generation) return; // the logout answered the waiters
				if (Answer.bPair)
				{
					++Stored;
					Token = TEXT("new-refresh");
					Refresh.ClearPause();
					Refresh.Finish(true, FGamingPanelError());
				}
				else if (!Answer.Error.EndsSession())
				{
					Refresh.Pause(Answer.Error);
					Refresh.Finish(false, Answer.Error);
				}
				else
				{
					Lost = Answer.Error;
					++Generation;
					Refresh.ClearPause();
					Refresh.Finish(false, Answer.Error);
				}
			});
		return Outcome;
	}

	void Logout()
	{
		++Generation;
		Refresh.ClearPause();
		if (Refresh.IsInFlight()) Refresh.Finish(false, Answer(401, TEXT("not_logged_in")));
	}
};

void RefreshWaitsOutRetryAfter()
{
	{
		// 429 before the token is looked up, 503 after the rotation rolled back: nothing rotated, the same token goes again.
		FRefreshRig Rig;
		Rig.Panel.Script = {FFakeRefreshPanel::Problem(429, TEXT("rate_limited"), 30.f), FFakeRefreshPanel::Problem(503, TEXT("service_unavailable"), 5.f)};
		std::shared_ptr<FRefreshOutcome> Outcome = Rig.Start();
		Check(Rig.Clock.Seen() == "30,5", "the 429's 30 s and the 503's 5 s waited in full, not 1 s and 2 s");
		Check(Rig.Panel.Sent.size() == 3 && Rig.Panel.AllWith(TEXT("old-refresh")), "sent again after each wait with the same refresh token");
		Check(Outcome->bDone && Outcome->bOk && Rig.Stored == 1, "the pair that came is saved");
	}
	{
		// No answer (the panel may have rotated the token): 1 s, inside its 30 s grace; then the 429's Retry-After.
		FRefreshRig Rig;
		Rig.Panel.Script = {FFakeRefreshPanel::Problem(0, TEXT("network_error")), FFakeRefreshPanel::Problem(429, TEXT("rate_limited"), 20.f)};
		std::shared_ptr<FRefreshOutcome> Outcome = Rig.Start();
		Check(Rig.Clock.Seen() == "1,20" && Rig.Panel.Sent.size() == 3 && Outcome->bOk, "a lost answer is sent again after 1 s, a 429 after its 20 s");
	}
}

void RefreshGivesBackALongRetryAfter()
{
	FRefreshRig Rig;
	Rig.Panel.Script = {FFakeRefreshPanel::Problem(429, TEXT("rate_limited"), 45.f)};
	std::shared_ptr<FRefreshOutcome> Limited = Rig.Start();
	Check(Limited->bDone && !Limited->bOk && Limited->Error.Status == 429 && Limited->Error.Code == TEXT("rate_limited")
			&& Limited->Error.RetryAfterSeconds == 45.f,
		"the 429 given back with its Retry-After (45 s, more than the 30 s a refresh waits)");
	Check(Rig.Clock.Seen().empty() && Rig.Panel.Sent.size() == 1 && Rig.Lost.Code.IsEmpty(), "at once: sent once, nothing waited, the session kept");

	Rig.Clock.Now += 10.0; // the panel would answer the next send with the pair, but asked for 45 s of quiet
	std::shared_ptr<FRefreshOutcome> Early = Rig.Start();
	std::shared_ptr<FRefreshOutcome> Forced = Rig.Start(true);
	Check(Rig.Panel.Sent.size() == 1, "10 s later no refresh is sent, neither by a caller nor forced by a call's 401");
	Check(Early->bDone && Early->Error.Status == 429 && Early->Error.RetryAfterSeconds == 35.f && Forced->bDone
			&& Forced->Error.Status == 429 && Forced->Error.RetryAfterSeconds == 35.f,
		"each gets the 429 with the 35 s left");

	Rig.Clock.Now += 35.0;
	std::shared_ptr<FRefreshOutcome> Later = Rig.Start();
	Check(Later->bOk && Rig.Panel.Sent.size() == 2 && Rig.Panel.AllWith(TEXT("old-refresh")),
		"once it has passed, the refresh goes, with the same token");
}

void CallersShareARefreshWaitingOutRetryAfter()
{
	FRefreshRig Rig;
	Rig.Clock.bHold = true;
	Rig.Panel.Script = {FFakeRefreshPanel::Problem(429, TEXT("rate_limited"), 10.f)};
	std::shared_ptr<FRefreshOutcome> First = Rig.Start();
	Check(Rig.Clock.Held.size() == 1 && Rig.Refresh.IsInFlight(), "the refresh waits out the 429's Retry-After, still in flight");
	std::shared_ptr<FRefreshOutcome> Second = Rig.Start();
	std::shared_ptr<FRefreshOutcome> Forced = Rig.Start(true);
	Check(Rig.Panel.Sent.size() == 1 && !First->bDone && !Second->bDone && !Forced->bDone,
		"callers arriving during the wait (a forced one too) join it: no second refresh");
	Rig.Clock.Release();
	Check(Rig.Panel.Sent.size() == 2 && Rig.Clock.Seen() == "10" && Rig.Stored == 1, "one resend, after the 10 s, one pair saved");
	Check(First->bOk && Second->bOk && Forced->bOk, "every caller gets it");
}

void RefusalAnsweringAResendEndsTheSession()
{
	FRefreshRig Rig;
	Rig.Panel.Script = {FFakeRefreshPanel::Problem(503, TEXT("service_unavailable"), 5.f), FFakeRefreshPanel::Problem(401, TEXT("refresh_token_reused"))};
	std::shared_ptr<FRefreshOutcome> Outcome = Rig.Start();
	Check(Rig.Clock.Seen() == "5" && Rig.Panel.Sent.size() == 2, "the 503's 5 s waited, then the same token sent again, and no more");
	Check(Outcome->bDone && Outcome->Error.Code == TEXT("refresh_token_reused") && Rig.Lost.Code == TEXT("refresh_token_reused"),
		"the 401 ends the session (the player logs in again) and reaches the callers");
}

void NoResendAfterTheSessionChanged()
{
	FRefreshRig Rig;
	Rig.Clock.bHold = true;
	Rig.Panel.Script = {FFakeRefreshPanel::Problem(503, TEXT("service_unavailable"), 5.f)};
	std::shared_ptr<FRefreshOutcome> Outcome = Rig.Start();
	Check(Rig.Clock.Held.size() == 1, "the refresh waits out the 503's Retry-After");
	Rig.Logout();
	Rig.Clock.Release();
	Check(Rig.Panel.Sent.size() == 1, "the old refresh token is not sent again after a logout during the wait");
	Check(Outcome->bDone && Outcome->Error.Code == TEXT("not_logged_in") && Rig.Stored == 0, "its callers heard the session ended; nothing saved");
}

void RefreshResendRules()
{
	using R = FGamingPanelTokenRefresh;
	FGamingPanelError Limited = Answer(429, TEXT("rate_limited"));
	Limited.RetryAfterSeconds = 30.f;
	FGamingPanelError LimitedLong = Limited;
	LimitedLong.RetryAfterSeconds = 31.f;
	FGamingPanelError Down = Answer(503, TEXT("service_unavailable"));
	Down.RetryAfterSeconds = 5.f;
	Check(R::ResendAfter(Limited, 0) == 30.f && R::ResendAfter(Down, 1) == 5.f, "a Retry-After of up to 30 s is the wait");
	Check(R::ResendAfter(LimitedLong, 0) < 0.f, "a longer one is not waited");
	Check(R::ResendAfter(Limited, 2) < 0.f && R::ResendAfter(Answer(0, TEXT("network_error")), 2) < 0.f, "sent again twice at most");
	Check(R::ResendAfter(Answer(0, TEXT("network_error")), 0) == 1.f && R::ResendAfter(Answer(502, TEXT("server_error")), 1) == 2.f
			&& R::ResendAfter(Answer(408, TEXT("http_408")), 0) == 1.f && R::ResendAfter(Answer(200, TEXT("invalid_response")), 0) == 1.f,
		"an answer that may have been lost: 1 s, then 2 s");
	Check(R::ResendAfter(Answer(401, TEXT("token_revoked")), 0) < 0.f && R::ResendAfter(Answer(403, TEXT("player_banned")), 0) < 0.f,
		"a refusal is never sent again");
	Check(R::ResendAfter(Answer(403, TEXT("permission_denied")), 0) < 0.f && R::ResendAfter(Answer(429, TEXT("rate_limited")), 0) < 0.f,
		"nor a proxy's HTML 403, nor a 429 without Retry-After (kept for a later refresh)");
}

void ClientVersionInTheServersForm()
{
	// apps/remoteconfig/resolver.py: ^[0-9]{1,6}(\.[0-9]{1,6}){0,3}$
	struct { const TCHAR* Build; const TCHAR* Sent; } Cases[] = {
		{TEXT("1.4.2"), TEXT("1.4.2")}, {TEXT("1.0.0-beta"), TEXT("1.0.0")}, {TEXT("2024.1f1"), TEXT("2024.1")},
		{TEXT("v1.4"), TEXT("1.4")}, {TEXT("1."), TEXT("1")}, {TEXT("1.2.3.4.5"), TEXT("1.2.3.4")},
		{TEXT("1.2.20240131"), TEXT("1.2")}, {TEXT("123456.7"), TEXT("123456.7")}, {TEXT("1234567"), TEXT("")},
		{TEXT("beta"), TEXT("")}, {TEXT(""), TEXT("")}, {TEXT("\u0661.\u0662"), TEXT("")},
	};
	bool bAll = true;
	for (const auto& Case : Cases)
	{
		const FString Sent = FGamingPanelRemoteConfig::NumericVersion(Case.Build);
		if (Sent != Case.Sent)
		{
			std::printf("        \"%ls\" sent as \"%ls\", expected \"%ls\"\n", Case.Build, *Sent, Case.Sent);
			bAll = false;
		}
	}
	Check(bAll, "the build's version cut to at most 4 numbers of at most 6 digits; nothing left: no header");
}

void Deletes()
{
	FFakePanel Panel;
	FDevice Device;
	SyncedAtVersion1(Device, Panel);
	Device.Queue.Delete(TEXT("slot1"));
	Check(!Device.Reads(TEXT("slot1"), TEXT("{\"chapter\":1}")), "a deleted key reads as absent");
	Device.Sync(Panel);
	const FGamingPanelSaveRequest& Sent = Panel.Requests.back();
	Check(Sent.Verb() == TEXT("DELETE") && Header(Sent, TEXT("If-Match")) == TEXT("\"1\""), "DELETE with If-Match: \"1\"");
	Check(Panel.Documents.empty() && !Device.Synced(TEXT("slot1")) && Device.Queue.QueuedCount() == 0, "gone on both sides");

	Device.Queue.Delete(TEXT("never-synced"));
	Check(Device.Queue.QueuedCount() == 0, "deleting a key the panel never had queues nothing");

	SyncedAtVersion1(Device, Panel);
	Device.Queue.Delete(TEXT("slot1"));
	Panel.DeleteElsewhere(TEXT("slot1"));
	FGamingPanelSyncReport Report = Device.Sync(Panel);
	Check(Report.Conflicts.Num() == 0 && Device.Queue.QueuedCount() == 0 && !Device.Synced(TEXT("slot1")),
		"deleted here and gone there (412, current null): agreed, no conflict");
}
}

void DeleteNeedsThePanels204()
{
	// The panel answers a delete 204 with no body. Another 2xx (an empty 200, a 200 with some JSON: a captive portal's
	// or a proxy's) never reached it: the delete stays queued with its Idempotency-Key, the synced copy stays.
	FGamingPanelSaveAnswer EmptyOk;
	EmptyOk.bOk = true;
	EmptyOk.Status = 200;
	FGamingPanelSaveAnswer JsonOk = EmptyOk;
	JsonOk.bHasDocument = true;
	JsonOk.Document = {TEXT("slot1"), 7, TEXT("{}")};
	FGamingPanelSaveAnswer Accepted = EmptyOk;
	Accepted.Status = 202;
	struct { const char* What; FGamingPanelSaveAnswer Answer; } Cases[] = {
		{"an empty 200", EmptyOk}, {"a 200 with JSON", JsonOk}, {"an empty 202", Accepted},
	};
	for (const auto& Case : Cases)
	{
		FFakePanel Panel;
		FDevice Device;
		SyncedAtVersion1(Device, Panel);
		Device.Queue.Delete(TEXT("slot1"));
		const FString QueuedKey = Device.Pending(TEXT("slot1"))->IdempotencyKey;
		Panel.bAnswerCanned = true;
		Panel.Canned = Case.Answer;
		FGamingPanelSyncReport Report = Device.Sync(Panel);
		const FGamingPanelPendingSave* Now = Device.Pending(TEXT("slot1"));
		const std::string Kept = std::string(Case.What) + " to a DELETE: not the panel's answer; the delete stays queued "
			"with its Idempotency-Key and the synced copy stays";
		Check(Report.bOffline && Report.StillQueued == 1 && Now && Now->bDeleted && Now->IdempotencyKey == QueuedKey
				&& Device.Synced(TEXT("slot1")) && Device.Synced(TEXT("slot1"))->Version == 1,
			Kept.c_str());
		Panel.bAnswerCanned = false;
		FGamingPanelSyncReport Back = Device.Sync(Panel);
		const std::string Sent = std::string(Case.What) + ": the next sync deletes it with the same Idempotency-Key";
		Check(Back.StillQueued == 0 && Panel.Documents.empty() && !Device.Synced(TEXT("slot1"))
				&& Header(Panel.Requests.back(), TEXT("Idempotency-Key")) == QueuedKey,
			Sent.c_str());
	}
}

void KeysAreThePanels()
{
	for (const TCHAR* Key : {TEXT("a/b"), TEXT(""), TEXT("."), TEXT(".."), TEXT("slot?1"), TEXT("slot#1"), TEXT("na\u00efve")})
		Check(!FGamingPanelSaveQueue::IsValidKey(Key), "a key the panel refuses (or that would reach another route) is not a save key");
	Check(!FGamingPanelSaveQueue::IsValidKey(FString(std::wstring(65, L'k'))), "65 characters is too long");
	for (const TCHAR* Key : {TEXT("slot1"), TEXT("a.b-c_d"), TEXT("...")})
		Check(FGamingPanelSaveQueue::IsValidKey(Key), "the panel's keys are save keys");
	Check(FGamingPanelSaveQueue::IsValidKey(FString(std::wstring(64, L'k'))), "64 characters is a key");

	// A write an older kit queued under such a key could never be sent: it is dropped when the queue loads.
	TSharedRef<FMemoryStore> Disk = MakeShared<FMemoryStore>();
	{
		FDevice Before(Disk);
		Before.Queue.Save(TEXT("slot1"), TEXT("{\"chapter\":2}"));
		Disk->Stored.Pending.Add(TEXT("a/b"), *Disk->Stored.Pending.Find(TEXT("slot1")));
	}
	FDevice After(Disk);
	Check(After.Queue.QueuedCount() == 1 && After.Pending(TEXT("slot1")) && !After.Pending(TEXT("a/b")),
		"a queued write under a key the panel does not take is dropped on load; the others stay");
}

/** remote_config.json, in memory: what survives a restart. */
struct FConfigDisk : IGamingPanelConfigStore
{
	bool bHas = false;
	FGamingPanelConfigCopy Stored;
	int32 Writes = 0;

	bool Read(FGamingPanelConfigCopy& OutCopy) override
	{
		if (!bHas) return false;
		OutCopy = Stored;
		return true;
	}

	void Write(const FGamingPanelConfigCopy& Copy) override
	{
		Stored = Copy;
		bHas = true;
		++Writes;
	}
};

/** GET config as the panel answers it: 200 with {"version","values"} and an ETag, 304 while If-None-Match names it. */
struct FConfigPanel
{
	bool bOnline = true;
	int64 Release = 1;
	FString ValuesJson = TEXT("{\"daily_bonus\":150}");
	bool bCanned = false; // every request gets Canned (a portal's page, a 429...)
	FGamingPanelConfigAnswer Canned;
	std::vector<TMap<FString, FString>> Requests;

	FString ETag() const { return FString(L"\"" + std::to_wstring(Release) + L"-abc\""); }

	FGamingPanelConfigAnswer Answer(const TMap<FString, FString>& Headers)
	{
		Requests.push_back(Headers);
		FGamingPanelConfigAnswer Answer;
		if (!bOnline)
		{
			Answer.Error.Code = TEXT("network_error");
			return Answer;
		}
		if (bCanned) return Canned;
		const FString* IfNoneMatch = Headers.Find(TEXT("If-None-Match"));
		if (IfNoneMatch && *IfNoneMatch == ETag())
		{
			Answer.Status = 304;
			Answer.Error.Status = 304;
			Answer.Error.Code = TEXT("http_304");
			return Answer;
		}
		Answer.bOk = true;
		Answer.Status = 200;
		Answer.ETag = ETag();
		Answer.bObject = Answer.bValuesIsObject = Answer.bVersionIsNumber = true;
		Answer.ValuesJson = ValuesJson;
		Answer.Version = static_cast<double>(Release);
		return Answer;
	}
};

/** One FGamingPanelRemoteConfig::Fetch: the saved copy read, the request made from it, the answer decided at Now. */
FGamingPanelConfigOutcome FetchConfig(FConfigDisk& Disk, FConfigPanel& Panel, int64 Now)
{
	FGamingPanelConfigCopy Saved;
	const bool bHasSaved = Disk.Read(Saved);
	const TMap<FString, FString> Headers = FGamingPanelRemoteConfigCache::Headers(TEXT("1.4.2"), TEXT("windows"), bHasSaved ? &Saved : nullptr);
	return FGamingPanelRemoteConfigCache::Answered(Disk, bHasSaved ? &Saved : nullptr, Panel.Answer(Headers), Now);
}

FString RequestHeader(const TMap<FString, FString>& Headers, const TCHAR* Name)
{
	const FString* Value = Headers.Find(Name);
	return Value ? *Value : FString(TEXT("<absent>"));
}

void ConfigNotModifiedMovesTheFetchTime()
{
	FConfigPanel Panel;
	FConfigDisk Disk;
	FGamingPanelConfigOutcome First = FetchConfig(Disk, Panel, 1700000000);
	Check(First.bOk && !First.bFromCache && First.Copy.ValuesJson == TEXT("{\"daily_bonus\":150}") && First.Copy.Version == 1
			&& RequestHeader(Panel.Requests[0], TEXT("If-None-Match")) == TEXT("<absent>")
			&& RequestHeader(Panel.Requests[0], TEXT("X-Client-Version")) == TEXT("1.4.2"),
		"a first fetch: no If-None-Match, the config from the panel");
	Check(Disk.bHas && Disk.Stored.ETag == Panel.ETag() && Disk.Stored.FetchedAtUnixSeconds == 1700000000,
		"the copy kept with its ETag and the time it was read");

	FGamingPanelConfigOutcome Confirmed = FetchConfig(Disk, Panel, 1700003600);
	Check(RequestHeader(Panel.Requests[1], TEXT("If-None-Match")) == Panel.ETag(), "the saved ETag is sent back");
	Check(Confirmed.bOk && !Confirmed.bFromCache && !Confirmed.Error.IsSet() && Confirmed.Copy.ValuesJson == TEXT("{\"daily_bonus\":150}")
			&& Confirmed.Copy.FetchedAtUnixSeconds == 1700003600,
		"a 304: the copy, current, read now");
	Check(Disk.Stored.FetchedAtUnixSeconds == 1700003600 && Disk.Stored.ETag == Panel.ETag() && Disk.Stored.Version == 1,
		"the 304's time is kept with the copy (a restart reads it)");

	// The game quits; it starts again offline: the copy, with the time the 304 confirmed it.
	Panel.bOnline = false;
	FGamingPanelConfigOutcome Offline = FetchConfig(Disk, Panel, 1700090000);
	Check(Offline.bOk && Offline.bFromCache && Offline.Error.Code == TEXT("network_error")
			&& Offline.Copy.FetchedAtUnixSeconds == 1700003600 && Disk.Stored.FetchedAtUnixSeconds == 1700003600,
		"offline after a restart: the copy and the time it was last read");

	// A new release: If-None-Match no longer names it, a 200 replaces the copy.
	Panel.bOnline = true;
	Panel.Release = 2;
	Panel.ValuesJson = TEXT("{\"daily_bonus\":200}");
	FGamingPanelConfigOutcome Newer = FetchConfig(Disk, Panel, 1700100000);
	Check(Newer.bOk && !Newer.bFromCache && Disk.Stored.ValuesJson == TEXT("{\"daily_bonus\":200}") && Disk.Stored.Version == 2
			&& Disk.Stored.ETag == Panel.ETag() && Disk.Stored.FetchedAtUnixSeconds == 1700100000,
		"a new release replaces the copy, its ETag and time");
}

void ConfigNotTheConfigKeepsTheCopy()
{
	struct { const char* What; bool bObject; bool bValues; bool bVersion; double Version; } Cases[] = {
		{"not a JSON object (empty, a portal's page, an array)", false, false, false, 0},
		{"no values", true, false, true, 2},
		{"values not an object (an array, null, text)", true, false, true, 2},
		{"no version (or null, text, a boolean)", true, true, false, 0},
		{"a version that is not whole", true, true, true, 1.5},
		{"a version below 0", true, true, true, -1},
	};
	for (const auto& Case : Cases)
	{
		FConfigPanel Panel;
		FConfigDisk Disk;
		FetchConfig(Disk, Panel, 1700000000);
		const int32 Writes = Disk.Writes;
		Panel.bCanned = true;
		Panel.Canned = FGamingPanelConfigAnswer();
		Panel.Canned.bOk = true;
		Panel.Canned.Status = 200;
		Panel.Canned.ETag = TEXT("\"9-zzz\"");
		Panel.Canned.bObject = Case.bObject;
		Panel.Canned.bValuesIsObject = Case.bValues;
		Panel.Canned.ValuesJson = Case.bValues ? TEXT("{\"daily_bonus\":1}") : TEXT("");
		Panel.Canned.bVersionIsNumber = Case.bVersion;
		Panel.Canned.Version = Case.Version;
		FGamingPanelConfigOutcome Kept = FetchConfig(Disk, Panel, 1700003600);
		const std::string Served = std::string(Case.What) + ": the saved copy, bFromCache, invalid_response (status 200)";
		Check(Kept.bOk && Kept.bFromCache && Kept.Error.Code == TEXT("invalid_response") && Kept.Error.Status == 200
				&& Kept.Copy.ValuesJson == TEXT("{\"daily_bonus\":150}") && Kept.Copy.FetchedAtUnixSeconds == 1700000000,
			Served.c_str());
		const std::string Unchanged = std::string(Case.What) + ": nothing written (copy, ETag and time as they were)";
		Check(Disk.Writes == Writes && Disk.Stored.ValuesJson == TEXT("{\"daily_bonus\":150}") && Disk.Stored.ETag == TEXT("\"1-abc\"")
				&& Disk.Stored.FetchedAtUnixSeconds == 1700000000,
			Unchanged.c_str());

		FConfigDisk Empty;
		FGamingPanelConfigOutcome None = FetchConfig(Empty, Panel, 1700003600);
		const std::string Failed = std::string(Case.What) + ", no copy: failed with invalid_response, nothing written";
		Check(!None.bOk && None.Error.Code == TEXT("invalid_response") && !Empty.bHas, Failed.c_str());
	}
	// What the panel sends is read as before: 2.0 is 2 (a JSON number), 0 before the first publish.
	FConfigPanel Panel;
	FConfigDisk Disk;
	Panel.Release = 0;
	Check(FetchConfig(Disk, Panel, 1700000000).bOk && Disk.Stored.Version == 0, "version 0 (nothing published yet) is the config");
	FGamingPanelConfigAnswer Whole;
	Whole.bObject = Whole.bValuesIsObject = Whole.bVersionIsNumber = true;
	Whole.Version = 2.0;
	Check(FGamingPanelRemoteConfigCache::IsConfig(Whole), "2.0 is a whole number");
}

void ConfigRetryAfterServesTheCopy()
{
	for (int32 Status : {429, 503})
	{
		FConfigPanel Panel;
		FConfigDisk Disk;
		FetchConfig(Disk, Panel, 1700000000);
		Panel.bCanned = true;
		Panel.Canned = FGamingPanelConfigAnswer();
		Panel.Canned.Status = Status;
		Panel.Canned.Error = Answer(Status, Status == 429 ? TEXT("rate_limited") : TEXT("service_unavailable"));
		Panel.Canned.Error.RetryAfterSeconds = 120.f; // over the subsystem's 30 s: handed back, not waited
		FGamingPanelConfigOutcome Kept = FetchConfig(Disk, Panel, 1700003600);
		const std::string What = std::to_string(Status) + ": the copy, bFromCache, with the error and its RetryAfterSeconds; copy and time unchanged";
		Check(Kept.bOk && Kept.bFromCache && Kept.Error.Status == Status && Kept.Error.RetryAfterSeconds == 120.f
				&& Kept.Copy.FetchedAtUnixSeconds == 1700000000 && Disk.Stored.FetchedAtUnixSeconds == 1700000000 && Disk.Writes == 1,
			What.c_str());
		FConfigDisk Empty;
		FGamingPanelConfigOutcome None = FetchConfig(Empty, Panel, 1700003600);
		Check(!None.bOk && None.Error.Status == Status && None.Error.RetryAfterSeconds == 120.f, "no copy: the error, with RetryAfterSeconds");
	}
	Check(FGamingPanelHttp::RetryDelaySeconds(Answer(429, TEXT("rate_limited")), 0) == 1.f, "a 429 without Retry-After: the subsystem's 1 s backoff");
}

int main()
{
	struct { const char* Name; void (*Run)(); } Cases[] = {
		{"a write queued offline is sent on reconnect with If-Match of the cached version", QueuedOfflineSentOnReconnect},
		{"a 412 is a conflict with both copies; neither the panel nor the local cache is overwritten", ConflictKeepsBothCopies},
		{"a conflict resolved as merged is written against the server's version", ConflictResolvedMerged},
		{"a conflict resolved as keep local is written against the server's version", ConflictResolvedKeepLocal},
		{"a conflict resolved as keep server drops the local write", ConflictResolvedKeepServer},
		{"a refused write (413) is dropped and reported with its value", RefusedWriteDropped},
		{"a 401 keeps every queued write for the next session", SessionOverKeepsQueue},
		{"a 403 player_banned keeps every queued write, like a 401 (bans end)", BannedKeepsQueue},
		{"a 403 about the session or credential (permission_missing, wrong_credential_kind...) keeps every queued write; only save_key_not_writable drops one", SessionRefusalsKeepQueue},
		{"a delete's 404 is \"gone\" only as save_not_found; not_found (a wrong base URL) keeps the delete queued", DeleteGoneOnlyOnSaveNotFound},
		{"an empty 2xx, an HTML 200, a 408 or a proxy's page keep the write and its Idempotency-Key", UnreadableAnswersKeepTheWrite},
		{"a write whose answer was lost is sent again, exactly, before the value saved over it", LostWriteSentAgainBeforeANewerValue},
		{"a refresh (GET player/saves) brings other devices' saves and keeps the queue", RefreshBringsOtherDevicesSaves},
		{"a refresh answered after the device's own write was does not put the older version back", LateRefreshKeepsTheNewerWrite},
		{"a list with an item that is not a document (or not an array) is not the list: the synced copies stay, handed as the cache", ListWithAnItemThatIsNotADocument},
		{"the synced copies keep the time they were read from the panel, across a restart (GetFetchedAtUtc)", RefreshKeepsWhenTheCopiesWereRead},
		{"a write queued before a refresh still goes against its own version: a conflict", RefreshThenStaleWriteIsConflict},
		{"a save built on what the game read is a conflict when a refresh brought another device's write", ReadThenRefreshThenSaveIsConflict},
		{"a save or delete built on no document (read as none, or deleted here) is a conflict when a refresh brought another device's copy", NoDocumentThenRefreshIsConflict},
		{"an answer arriving after another player logged in is not applied to that player's saves", AnswerAfterAnotherLoginIsNotApplied},
		{"a lost answer keeps the write queued and its Idempotency-Key", TransientKeepsQueueAndKey},
		{"one sync at a time: a sync called while another runs sends nothing; a late answer never puts an older version back", OneSyncAtATime},
		{"a value saved while its write is out builds on the written version", SavedWhileWriteOut},
		{"the cache and the queue survive a restart (local store)", SurvivesRestart},
		{"deletes go with If-Match; deleted on both sides is agreed", Deletes},
		{"a delete is done only when the panel answers 204: another 2xx keeps it queued with its key", DeleteNeedsThePanels204},
		{"only the panel's refusals end a session (not a proxy's HTML 403/404, a 408, a 2xx without tokens)", SessionEndsOnlyOnRefusals},
		{"request_in_progress keeps a purchase key; payment_provider_unavailable ends the attempt", PurchaseKeyRules},
		{"a 429's Retry-After reaches the game on the sync report's error", RetryAfterReachesTheGame},
		{"automatic retries wait a 429's or 503's whole Retry-After, or give the error back", RetriesWaitForRetryAfter},
		{"refresh: a 429's or 503's Retry-After (up to 30 s) is waited in full, then the same refresh token is sent again", RefreshWaitsOutRetryAfter},
		{"refresh: a Retry-After over 30 s ends it at once with the 429; no refresh, forced or not, goes before it has passed", RefreshGivesBackALongRetryAfter},
		{"refresh: callers arriving while a refresh waits out a Retry-After share it: one resend, one pair", CallersShareARefreshWaitingOutRetryAfter},
		{"refresh: a 401 answering a resend ends the session, nothing sent after it", RefusalAnsweringAResendEndsTheSession},
		{"refresh: a resend waiting out a Retry-After is not sent once a logout ended the session", NoResendAfterTheSessionChanged},
		{"refresh: when the same refresh token is sent again, and after how long", RefreshResendRules},
		{"remote config sends the build's version in the server's form, or none", ClientVersionInTheServersForm},
		{"remote config: a 304 moves the copy's fetch time, kept across a restart (GetFetchedAtUtc)", ConfigNotModifiedMovesTheFetchTime},
		{"remote config: a 2xx that is not the config (not an object, values or version missing or of another type) keeps the copy and its time, invalid_response", ConfigNotTheConfigKeepsTheCopy},
		{"remote config: a 429 or 503 (Retry-After handed back) serves the copy with the error, copy and time unchanged", ConfigRetryAfterServesTheCopy},
		{"save keys are the panel's: 1 to 64 of [A-Za-z0-9_.-], not '.' or '..'", KeysAreThePanels},
	};
	int CasesFailed = 0;
	for (const auto& Case : Cases)
	{
		const int FailedBefore = Failed;
		Case.Run();
		const bool bOk = Failed == FailedBefore;
		std::printf("  %s  %s\n", bOk ? "ok  " : "FAIL", Case.Name);
		CasesFailed += bOk ? 0 : 1;
	}
	const int CaseCount = static_cast<int>(sizeof(Cases) / sizeof(Cases[0]));
	std::printf("unreal cloud save queue: %d passed, %d failed (%d checks)\n", CaseCount - CasesFailed, CasesFailed, Checks);
	return CasesFailed == 0 ? 0 : 1;
}
