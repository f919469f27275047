// Gaming Panel Unreal example: the offline cloud-save queue's decisions (see GamingPanelSaveQueue.h). Core
// containers only, so scripts/check_examples.sh builds and runs this file with Tests/CloudSaveQueueTest.cpp.
#include "GamingPanelSaveQueue.h"

namespace
{
/** A delete's 404 means the document is gone only with this code; the generic not_found (no such endpoint: a wrong
 *  base URL or prefix) says nothing about the document. */
const TCHAR* const SaveNotFound = TEXT("save_not_found");
/** The one 403 about the write itself (a key only game servers write); every other 403 is about the session or the
 *  credential (player_banned, permission_missing, wrong_credential_kind...) and keeps the queue. */
const TCHAR* const SaveKeyNotWritable = TEXT("save_key_not_writable");
}

bool FGamingPanelSaveQueue::IsValidKey(const FString& Key)
{
	const int32 Length = Key.Len();
	if (Length < 1 || Length > 64 || Key == TEXT(".") || Key == TEXT("..")) return false;
	const TCHAR* Chars = *Key;
	for (int32 Index = 0; Index < Length; ++Index)
	{
		const TCHAR C = Chars[Index];
		const bool bAllowed = (C >= TEXT('a') && C <= TEXT('z')) || (C >= TEXT('A') && C <= TEXT('Z')) ||
			(C >= TEXT('0') && C <= TEXT('9')) || C == TEXT('_') || C == TEXT('.') || C == TEXT('-');
		if (!bAllowed) return false;
	}
	return true;
}

FString FGamingPanelSaveRequest::Verb() const
{
	return bDelete ? FString(TEXT("DELETE")) : FString(TEXT("PUT"));
}

FString FGamingPanelSaveRequest::Path() const
{
	return TEXT("player/saves/") + Key;
}

TMap<FString, FString> FGamingPanelSaveRequest::Headers() const
{
	TMap<FString, FString> Headers;
	Headers.Add(TEXT("Idempotency-Key"), IdempotencyKey);
	if (bHasBaseVersion) Headers.Add(TEXT("If-Match"), FString::Printf(TEXT("\"%lld\""), static_cast<long long>(BaseVersion)));
	else Headers.Add(TEXT("If-None-Match"), TEXT("*"));
	return Headers;
}

FGamingPanelSaveQueue::FGamingPanelSaveQueue(TSharedRef<IGamingPanelSaveStore> InStore, TFunction<FString()> InNewIdempotencyKey)
	: Store(InStore)
	, NewIdempotencyKey(MoveTemp(InNewIdempotencyKey))
{
}

void FGamingPanelSaveQueue::Reload()
{
	++Generation; // answers to requests sent before belong to what was loaded then
	bSyncing = false; // a sync out now is the previous state's: it ends with its answer, without touching this one
	ReadVersions.Empty();
	FGamingPanelSaveState Loaded;
	State = Store->Read(Loaded) ? Loaded : FGamingPanelSaveState();
	// A write an older kit queued under a key the panel does not take could never be sent, and would hold the
	// queue behind it: it goes.
	TArray<FString> Unsendable;
	for (const auto& Entry : State.Pending)
	{
		if (!IsValidKey(Entry.Key)) Unsendable.Add(Entry.Key);
	}
	for (const FString& Key : Unsendable) State.Pending.Remove(Key);
}

void FGamingPanelSaveQueue::Save(const FString& Key, const FString& ValueJson)
{
	Queue(Key, ValueJson, false);
}

void FGamingPanelSaveQueue::Delete(const FString& Key)
{
	Queue(Key, FString(), true);
}

bool FGamingPanelSaveQueue::Refreshed(const TArray<FGamingPanelSaveDocument>& ServerDocuments, int64 SettledWhenAsked, int64 ReadAtUnixSeconds)
{
	if (SettledWhenAsked >= 0 && SettledWhenAsked != SettledWrites) return false;
	State.Synced.Empty();
	for (const FGamingPanelSaveDocument& Document : ServerDocuments) State.Synced.Add(Document.Key, Document);
	State.RefreshedAtUnixSeconds = ReadAtUnixSeconds;
	Store->Write(State);
	return true;
}

bool FGamingPanelSaveQueue::DocumentsOfList(const TArray<FGamingPanelSaveListItem>& Items, TArray<FGamingPanelSaveDocument>& OutDocuments)
{
	// 2^53: the largest whole number every JSON reader keeps exactly (the panel's versions stay far below it).
	constexpr double MaxVersion = 9007199254740992.0;
	TArray<FGamingPanelSaveDocument> Documents;
	TMap<FString, bool> Listed;
	for (const FGamingPanelSaveListItem& Item : Items)
	{
		if (!Item.bObject || !Item.bKeyIsString || !IsValidKey(Item.Key) || Listed.Contains(Item.Key)) return false;
		const bool bWhole = Item.bVersionIsNumber && Item.Version >= 1.0 && Item.Version <= MaxVersion
			&& static_cast<double>(static_cast<int64>(Item.Version)) == Item.Version;
		if (!bWhole || !Item.bHasValue) return false;
		Listed.Add(Item.Key, true);
		FGamingPanelSaveDocument Document;
		Document.Key = Item.Key;
		Document.Version = static_cast<int64>(Item.Version);
		Document.ValueJson = Item.ValueJson;
		Documents.Add(Document);
	}
	OutDocuments = Documents;
	return true;
}

EGamingPanelSaveListOutcome FGamingPanelSaveQueue::ListAnswered(bool bIsArray, const TArray<FGamingPanelSaveListItem>& Items,
	int64 SettledWhenAsked, int64 NowUnixSeconds, TArray<FGamingPanelSaveDocument>& OutDocuments)
{
	TArray<FGamingPanelSaveDocument> Documents;
	if (!bIsArray || !DocumentsOfList(Items, Documents))
	{
		// Not the list (an empty body, a portal's page, someone else's JSON): it says nothing about the saves.
		OutDocuments = SyncedDocuments();
		return EGamingPanelSaveListOutcome::NotTheList;
	}
	if (!Refreshed(Documents, SettledWhenAsked, NowUnixSeconds))
	{
		OutDocuments = SyncedDocuments();
		return EGamingPanelSaveListOutcome::Outdated;
	}
	OutDocuments = Documents;
	return EGamingPanelSaveListOutcome::Applied;
}

TArray<FGamingPanelSaveDocument> FGamingPanelSaveQueue::SyncedDocuments() const
{
	TArray<FGamingPanelSaveDocument> Documents;
	for (const auto& Entry : State.Synced) Documents.Add(Entry.Value);
	return Documents;
}

bool FGamingPanelSaveQueue::TryGet(const FString& Key, FString& OutValueJson) const
{
	if (const FGamingPanelPendingSave* Queued = State.Pending.Find(Key))
	{
		if (Queued->bDeleted) return false;
		OutValueJson = Queued->ValueJson;
		return true;
	}
	if (const FGamingPanelSaveDocument* Document = State.Synced.Find(Key))
	{
		OutValueJson = Document->ValueJson;
		ReadVersions.Add(Key, Document->Version); // what the game's next save builds on
		return true;
	}
	// The game saw no document: a save creates one (If-None-Match: *), whatever a refresh brings meanwhile.
	ReadVersions.Add(Key, NoDocument);
	return false;
}

TArray<FGamingPanelSaveConflict> FGamingPanelSaveQueue::GetConflicts() const
{
	TArray<FGamingPanelSaveConflict> Found;
	for (const auto& Entry : State.Pending)
	{
		if (Entry.Value.bConflict) Found.Add(ConflictOf(Entry.Key, Entry.Value));
	}
	return Found;
}

int32 FGamingPanelSaveQueue::QueuedCount() const
{
	return State.Pending.Num();
}

void FGamingPanelSaveQueue::Queue(const FString& Key, const FString& ValueJson, bool bDeleted)
{
	FGamingPanelPendingSave* Queued = State.Pending.Find(Key);
	if (!Queued)
	{
		const FGamingPanelSaveDocument* Document = State.Synced.Find(Key);
		const int64* Read = ReadVersions.Find(Key);
		const bool bReadNone = Read && *Read == NoDocument;
		if (bDeleted && !Document && (!Read || bReadNone)) return; // never synced: nothing to delete on the server
		// Built on the version the game last read (TryGet), not on whatever a refresh has brought since:
		// a document another device wrote after that read makes this write a conflict. The game read no
		// document: a create (If-None-Match: *), which meets such a document as a conflict too.
		FGamingPanelPendingSave Fresh;
		Fresh.bHasBaseVersion = Read ? !bReadNone : Document != nullptr;
		Fresh.BaseVersion = Read ? *Read : (Document ? Document->Version : 0);
		Queued = &State.Pending.Add(Key, Fresh);
	}
	if (Queued->bSent)
	{
		// The value being replaced went out without an answer yet: it may be on the server. Keep it (and its key)
		// to send again first, so the device learns its outcome instead of conflicting with its own write.
		Queued->bHasUnconfirmed = true;
		Queued->UnconfirmedValueJson = Queued->ValueJson;
		Queued->bUnconfirmedDeleted = Queued->bDeleted;
		Queued->UnconfirmedIdempotencyKey = Queued->IdempotencyKey;
		Queued->bSent = false;
	}
	// The newest value per key, from the same base version; a new value gets a new Idempotency-Key.
	Queued->ValueJson = ValueJson;
	Queued->bDeleted = bDeleted;
	Queued->IdempotencyKey = NewIdempotencyKey();
	Store->Write(State);
}

bool FGamingPanelSaveQueue::Resolve(const FString& Key, EGamingPanelConflictResolution Resolution, const FString& MergedValueJson)
{
	FGamingPanelPendingSave* Queued = State.Pending.Find(Key);
	if (!Queued || !Queued->bConflict) return false;
	const bool bServerHas = Queued->bServerHasDocument;
	const FGamingPanelSaveDocument Server = Queued->Server;
	if (bServerHas) State.Synced.Add(Key, Server); else State.Synced.Remove(Key);
	// The game decided with the server's copy in hand: what it saves next builds on that.
	ReadVersions.Add(Key, bServerHas ? Server.Version : NoDocument);
	if (Resolution == EGamingPanelConflictResolution::KeepServer)
	{
		State.Pending.Remove(Key);
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
		Queued->IdempotencyKey = NewIdempotencyKey();
		Queued->bConflict = false;
		Queued->bServerHasDocument = false;
		Queued->Server = FGamingPanelSaveDocument();
		if (Queued->bDeleted && !bServerHas) State.Pending.Remove(Key); // deleted on both sides
	}
	Store->Write(State);
	return true;
}

void FGamingPanelSaveQueue::Sync(FSend Send, FOnSynced OnComplete)
{
	TSharedRef<FGamingPanelSyncReport> Report = MakeShared<FGamingPanelSyncReport>();
	if (bSyncing)
	{
		// One sync at a time: the running one is sending this very queue. Sending it again would put the same write
		// out twice, and the answer that arrives last (possibly the older write's) would decide the synced copy.
		Report->bSyncRunning = true;
		Report->StillQueued = State.Pending.Num();
		if (OnComplete) OnComplete(*Report);
		return;
	}
	bSyncing = true;
	TArray<FString> Keys;
	for (const auto& Entry : State.Pending)
	{
		if (Entry.Value.bConflict) Report->Conflicts.Add(ConflictOf(Entry.Key, Entry.Value)); // still the game's to decide
		else Keys.Add(Entry.Key);
	}
	SendNext(MoveTemp(Keys), Report, MoveTemp(Send), MoveTemp(OnComplete));
}

void FGamingPanelSaveQueue::SendNext(TArray<FString> Keys, TSharedRef<FGamingPanelSyncReport> Report, FSend Send, FOnSynced OnComplete)
{
	while (Keys.Num() > 0 && !Report->bOffline && !Report->bNeedsLogin)
	{
		const FString Key = Keys[0];
		Keys.RemoveAt(0);
		FGamingPanelPendingSave* Queued = State.Pending.Find(Key);
		if (!Queued) continue;
		// An earlier write whose outcome is unknown goes first, exactly as it went.
		const bool bResend = Queued->bHasUnconfirmed;
		const FGamingPanelSaveRequest Request = RequestFor(Key, *Queued);
		const bool bFirstSend = !bResend && !Queued->bSent;
		if (bFirstSend)
		{
			// From now on the value may reach the server: stored, so a value saved over it (even after a restart)
			// keeps this one to send again first.
			Queued->bSent = true;
			Store->Write(State);
		}
		const int32 SentInGeneration = Generation;
		const bool bSent = Send(Request, [this, Request, bResend, Keys, Report, Send, OnComplete, SentInGeneration](const FGamingPanelSaveAnswer& Answer)
		{
			if (Generation != SentInGeneration)
			{
				// Reloaded meanwhile (another player logged in): this answer is the other player's. Their file
				// keeps the write queued with its Idempotency-Key, so their next sync gets this answer again.
				// (Reload ended this sync's hold on the queue: bSyncing is the loaded state's now.)
				Report->bNeedsLogin = true;
				if (OnComplete) OnComplete(*Report);
				return;
			}
			Apply(Request, Answer, *Report);
			Store->Write(State);
			TArray<FString> Next = Keys;
			const FGamingPanelPendingSave* After = State.Pending.Find(Request.Key);
			if (bResend && After && !After->bHasUnconfirmed && !After->bConflict)
			{
				Next.Insert(Request.Key, 0); // its outcome known, the newer value goes now, on the version it returned
			}
			SendNext(Next, Report, Send, OnComplete);
		});
		if (bSent) return; // continues in OnAnswer
		if (FGamingPanelPendingSave* NotSent = bFirstSend ? State.Pending.Find(Key) : nullptr)
		{
			NotSent->bSent = false; // it never left
			Store->Write(State);
		}
		break;
	}
	Report->StillQueued = State.Pending.Num();
	bSyncing = false;
	if (OnComplete) OnComplete(*Report);
}

void FGamingPanelSaveQueue::Apply(const FGamingPanelSaveRequest& Sent, const FGamingPanelSaveAnswer& Answer, FGamingPanelSyncReport& Report)
{
	const FString& Key = Sent.Key;
	FGamingPanelPendingSave* Now = State.Pending.Find(Key);
	// Saved again while the request was out: that newer value (a new Idempotency-Key) stays queued.
	const bool bSame = Now && Now->IdempotencyKey == Sent.IdempotencyKey;
	// The unconfirmed earlier write (sent again, or saved over while it was out).
	const bool bWasUnconfirmed = Now && Now->bHasUnconfirmed && Now->UnconfirmedIdempotencyKey == Sent.IdempotencyKey;
	const int32 Status = Answer.Error.Status;
	// A PUT is written only when the answer holds the document, a DELETE only when it is the panel's 204; any other
	// 2xx says nothing (an empty 200 is never read as a delete).
	const bool bWritten = Answer.bOk && (Sent.bDelete ? Answer.Status == 204 : Answer.bHasDocument);
	// Only the panel's own problem documents settle a write; a proxy's page with the same status does not.
	const bool bPanelProblem = !Answer.bOk && Answer.bProblemDocument;
	const bool bStale = bPanelProblem && (Status == 412 || (Sent.bDelete && Status == 404 && Answer.Error.Code == SaveNotFound));
	const bool bRefused = bPanelProblem
		&& (Status == 400 || (Status == 403 && Answer.Error.Code == SaveKeyNotWritable) || Status == 413 || Status == 422);
	if (bWritten || bStale || bRefused)
	{
		// A definitive answer: the write it was for is settled.
		if (bSame) Now->bSent = false;
		if (bWasUnconfirmed)
		{
			Now->bHasUnconfirmed = false;
			Now->UnconfirmedValueJson.Reset();
			Now->bUnconfirmedDeleted = false;
			Now->UnconfirmedIdempotencyKey.Reset();
		}
	}
	if (bWritten)
	{
		++SettledWrites;
		FGamingPanelSaveDocument Written;
		// An answer older than the copy the device holds (a late answer of a write, after a newer write of the key
		// settled) never puts the lower version back: the next save would conflict (412) with the device's own write.
		const FGamingPanelSaveDocument* Held = State.Synced.Find(Key);
		const bool bOlder = !Sent.bDelete && Held && Held->Version > Answer.Document.Version;
		if (!Sent.bDelete)
		{
			Written = Answer.Document;
			Report.Written.Add(Written);
			if (!bOlder)
			{
				State.Synced.Add(Key, Written);
				ReadVersions.Add(Key, Written.Version); // the device's value is this one
			}
		}
		else
		{
			State.Synced.Remove(Key);
			ReadVersions.Add(Key, NoDocument); // the device's value is none now: a save creates the key again
		}
		if (bSame) State.Pending.Remove(Key);
		else if (Now && !bOlder) // that value now builds on what was just written
		{
			Now->bHasBaseVersion = !Sent.bDelete;
			Now->BaseVersion = Sent.bDelete ? 0 : Written.Version;
		}
	}
	else if (bStale)
	{
		// Another device wrote first: keep both copies, never overwrite (neither the synced copy nor the local value).
		const bool bServerHas = Answer.bHasDocument;
		if (Now && Now->bDeleted && !bServerHas)
		{
			State.Pending.Remove(Key); // deleted here and gone there: agreed
			State.Synced.Remove(Key);
		}
		else if (Now)
		{
			Now->bConflict = true;
			Now->bServerHasDocument = bServerHas;
			Now->Server = bServerHas ? Answer.Document : FGamingPanelSaveDocument();
			const FGamingPanelSaveConflict Conflict = ConflictOf(Key, *Now);
			Report.Conflicts.Add(Conflict);
			if (OnConflict) OnConflict(Conflict);
		}
	}
	else if (bRefused)
	{
		// 400, 403 save_key_not_writable, 413, 422 from the panel: this write can never succeed as it is. Drop it (the
		// synced copy stays) and hand its value to the game with the reason. A newer value saved over it stays queued.
		if (bSame) State.Pending.Remove(Key);
		FGamingPanelSaveRejection Rejection;
		Rejection.Key = Key;
		Rejection.ValueJson = Sent.bDelete ? FString() : Sent.ValueJson;
		Rejection.bDeleted = Sent.bDelete;
		Rejection.Error = Answer.Error;
		Report.Rejected.Add(Rejection);
	}
	else if (!Answer.bOk && (Status == 401 || Answer.Error.EndsSession() || (bPanelProblem && Status == 403)))
	{
		// The session is over (a ban ends too), another player logged in, or the panel's 403 is about the session or
		// the credential (permission_missing, wrong_credential_kind...), not this write: the player's progress stays
		// queued, with its Idempotency-Keys, for the player's next session.
		Report.bNeedsLogin = true;
		Report.Error = Answer.Error;
	}
	else
	{
		// No answer, 408, 429, 5xx, a 404 other than a delete's save_not_found (not_found: a wrong base URL), a page
		// that is not the panel's, a 2xx without the document: the write may or may not have arrived. It stays queued with its Idempotency-Key, so a write that did arrive counts once. The
		// error (a 429's or 503's Retry-After with it) tells the game when to sync again.
		Report.bOffline = true;
		if (!Answer.bOk) Report.Error = Answer.Error;
	}
}

FGamingPanelSaveRequest FGamingPanelSaveQueue::RequestFor(const FString& Key, const FGamingPanelPendingSave& Pending)
{
	FGamingPanelSaveRequest Request;
	Request.Key = Key;
	Request.bDelete = Pending.bHasUnconfirmed ? Pending.bUnconfirmedDeleted : Pending.bDeleted;
	Request.ValueJson = Pending.bHasUnconfirmed ? Pending.UnconfirmedValueJson : Pending.ValueJson;
	Request.IdempotencyKey = Pending.bHasUnconfirmed ? Pending.UnconfirmedIdempotencyKey : Pending.IdempotencyKey;
	Request.bHasBaseVersion = Pending.bHasBaseVersion;
	Request.BaseVersion = Pending.BaseVersion;
	return Request;
}

FGamingPanelSaveConflict FGamingPanelSaveQueue::ConflictOf(const FString& Key, const FGamingPanelPendingSave& Pending)
{
	FGamingPanelSaveConflict Conflict;
	Conflict.Key = Key;
	Conflict.LocalValueJson = Pending.bDeleted ? FString() : Pending.ValueJson;
	Conflict.bServerHasDocument = Pending.bServerHasDocument;
	Conflict.Server = Pending.Server;
	return Conflict;
}
