// Gaming Panel Unreal example: the offline cloud-save queue's decisions, without HTTP, JSON or files.
//
// FGamingPanelSaveQueue is what FGamingPanelCloudSave decides, as a plain C++ class over Core containers: the
// cached (synced) document and the one pending write per key, the request a pending write becomes (PUT or DELETE
// player/saves/<key> with If-Match: "<base version>" or If-None-Match: *, and its Idempotency-Key), and what each
// answer does to the cache and the queue (see GamingPanelCloudSave.h). It sends through an FSend function and
// reads and writes its state through an IGamingPanelSaveStore after every change: FGamingPanelCloudSave plugs in
// UGamingPanelSubsystem::SendAuthorized and Saved/GamingPanel/<player>/cloud_saves.json, and
// Tests/CloudSaveQueueTest.cpp (built and run by scripts/check_examples.sh) a fake server and an in-memory store.
#pragma once

#include "CoreMinimal.h"
#include "GamingPanelTypes.h"

/** One document as the server stored it. Value is JSON text. */
struct GAMINGPANEL_API FGamingPanelSaveDocument
{
	FString Key;
	int64 Version = 0;
	FString ValueJson;
};

/** A queued write another device's write got in front of: both copies, for the game to decide. */
struct GAMINGPANEL_API FGamingPanelSaveConflict
{
	FString Key;
	FString LocalValueJson; // empty for a queued delete
	bool bServerHasDocument = false;
	FGamingPanelSaveDocument Server;
};

enum class EGamingPanelConflictResolution : uint8 { KeepLocal, KeepServer, UseMerged };

/** A queued write the panel refused for good (its problem document with 400, 403 save_key_not_writable, 413 or
 *  422): dropped from the queue, with the value it carried. */
struct GAMINGPANEL_API FGamingPanelSaveRejection
{
	FString Key;
	FString ValueJson; // empty for a delete
	bool bDeleted = false;
	FGamingPanelError Error;
};

struct GAMINGPANEL_API FGamingPanelSyncReport
{
	TArray<FGamingPanelSaveDocument> Written;
	TArray<FGamingPanelSaveConflict> Conflicts;
	TArray<FGamingPanelSaveRejection> Rejected;
	/** A write got no usable answer (none, 408, 429, 5xx, a page that is not the panel's, a 2xx without the
	 *  document): the sync stopped there and every write stays queued with its Idempotency-Key. */
	bool bOffline = false;
	/** The session is over (401 after a renewal, 403 player_banned, any other 403 of the panel's but
	 *  save_key_not_writable: permission_missing, wrong_credential_kind..., or another player logged in): log the
	 *  player in again; every write stays queued; Error says why. */
	bool bNeedsLogin = false;
	/** Another Sync was still running: this one sent nothing (the running one's report says what it did). Sync again
	 *  once that one has completed to send what it left queued. */
	bool bSyncRunning = false;
	int32 StillQueued = 0;
	/** The failure that stopped the sync (bOffline, bNeedsLogin), as the subsystem gave it after its own retries;
	 *  empty when the stop was a 2xx without the document. After a 429 or 503 with Retry-After, RetryAfterSeconds:
	 *  Sync again no sooner (the subsystem's automatic retries wait it out when it is at most 30 s). */
	FGamingPanelError Error;
};

/** The queued write of one key: the newest value, from the version it was made from. */
struct GAMINGPANEL_API FGamingPanelPendingSave
{
	FString ValueJson;
	bool bDeleted = false;
	/** False when the key had no synced document: the write creates it (If-None-Match: *). */
	bool bHasBaseVersion = false;
	int64 BaseVersion = 0;
	FString IdempotencyKey;
	/** This value (with IdempotencyKey) was sent and no answer has said yet what became of it. */
	bool bSent = false;
	/**
	 * An earlier value of the key that was sent and never confirmed (its answer lost, or the game saved again while
	 * it was out): it may be on the server. The next Sync sends it again first, exactly as it went (same value,
	 * Idempotency-Key and If-Match / If-None-Match) to learn its outcome; the newer value then builds on the version
	 * that answer returns, instead of conflicting (412) with the device's own write.
	 */
	bool bHasUnconfirmed = false;
	FString UnconfirmedValueJson;
	bool bUnconfirmedDeleted = false;
	FString UnconfirmedIdempotencyKey;
	/** Waiting for Resolve: not sent, reported by every Sync. */
	bool bConflict = false;
	bool bServerHasDocument = false;
	FGamingPanelSaveDocument Server;
};

/** What a device keeps for one player; the store persists it so it survives a restart. */
struct GAMINGPANEL_API FGamingPanelSaveState
{
	TMap<FString, FGamingPanelSaveDocument> Synced;
	TMap<FString, FGamingPanelPendingSave> Pending;
	/** When the synced copies were last read from the panel (a GET player/saves list applied), in Unix seconds; 0 when
	 *  never on this device. Offline, it says how old the copies the game is served are (the Unity kit's
	 *  FetchedAtUtc). */
	int64 RefreshedAtUnixSeconds = 0;
};

/** One item of a GET player/saves answer as its JSON reads (FGamingPanelCloudSave fills it from the body; the queue
 *  decides what it is: FGamingPanelSaveQueue::DocumentsOfList). */
struct GAMINGPANEL_API FGamingPanelSaveListItem
{
	/** A JSON object: nothing below is read otherwise. */
	bool bObject = false;
	/** `key` is a JSON string: Key. */
	bool bKeyIsString = false;
	FString Key;
	/** `version` is a JSON number: Version. */
	bool bVersionIsNumber = false;
	double Version = 0;
	/** `value` is there and is not JSON null: ValueJson, its JSON text. */
	bool bHasValue = false;
	FString ValueJson;
};

/** What a 2xx to GET player/saves did (FGamingPanelSaveQueue::ListAnswered). */
enum class EGamingPanelSaveListOutcome : uint8
{
	/** The list replaced the synced copies; RefreshedAtUnixSeconds() is when it was read. */
	Applied,
	/** A write of this device was answered while the list was on its way: not applied, the local copies stand. */
	Outdated,
	/** Not the panel's list of saves (not a JSON array, or an item that is not a document): nothing changed; the
	 *  synced copies are served as the cache, with invalid_response. */
	NotTheList,
};

/** Where the queue keeps its state: written after every change, read when the queue (re)loads. */
class GAMINGPANEL_API IGamingPanelSaveStore
{
public:
	virtual ~IGamingPanelSaveStore() = default;
	/** False when there is nothing (readable) stored: the queue starts empty. */
	virtual bool Read(FGamingPanelSaveState& OutState) = 0;
	virtual void Write(const FGamingPanelSaveState& State) = 0;
};

/** The request one queued write becomes. */
struct GAMINGPANEL_API FGamingPanelSaveRequest
{
	FString Key;
	bool bDelete = false;
	/** The body's "value" (JSON text) of a PUT. */
	FString ValueJson;
	FString IdempotencyKey;
	bool bHasBaseVersion = false;
	int64 BaseVersion = 0;

	/** PUT, or DELETE for a queued delete. */
	FString Verb() const;
	/** player/saves/<Key>, relative to the API root. */
	FString Path() const;
	/** Idempotency-Key, and If-Match: "<BaseVersion>" or, for a key the device never synced, If-None-Match: *. */
	TMap<FString, FString> Headers() const;
};

/** The server's answer to an FGamingPanelSaveRequest, read out of the HTTP response by the caller. */
struct GAMINGPANEL_API FGamingPanelSaveAnswer
{
	/** A 2xx. */
	bool bOk = false;
	/** The HTTP status of a 2xx: a delete is done only on the panel's 204 (another 2xx, an empty 200 say, is a
	 *  captive portal's or a proxy's, and keeps it queued). */
	int32 Status = 0;
	/** Why not, when !bOk: Status 0 when no answer arrived. */
	FGamingPanelError Error;
	/** A 2xx PUT: the document as stored. A 412 (or a delete's 404): the problem's `current`, absent when the server has none. */
	bool bHasDocument = false;
	FGamingPanelSaveDocument Document;
	/** !bOk: the body is the panel's own problem document (JSON with a `code`), not a proxy's or a load balancer's
	 *  page. Only such an answer settles a write (412, a delete's 404 save_not_found) or drops it (400, 403
	 *  save_key_not_writable, 413, 422). */
	bool bProblemDocument = false;
};

class GAMINGPANEL_API FGamingPanelSaveQueue
{
public:
	using FOnAnswer = TFunction<void(const FGamingPanelSaveAnswer& Answer)>;
	/**
	 * Sends Request and calls OnAnswer once with the answer; false when it cannot send at all (the sync then ends).
	 * Whoever owns the queue must stay alive until OnAnswer has run.
	 */
	using FSend = TFunction<bool(const FGamingPanelSaveRequest& Request, FOnAnswer OnAnswer)>;
	using FOnSynced = TFunction<void(const FGamingPanelSyncReport& Report)>;
	using FOnConflict = TFunction<void(const FGamingPanelSaveConflict& Conflict)>;

	/** NewIdempotencyKey makes a fresh key for each new value (FGuid in the plugin). Call Reload() to read the store. */
	FGamingPanelSaveQueue(TSharedRef<IGamingPanelSaveStore> InStore, TFunction<FString()> InNewIdempotencyKey);

	/** Replaces the state with what the store holds (empty when it holds nothing). */
	void Reload();
	/**
	 * The panel's save keys: 1 to 64 letters, digits, '_', '.' or '-', not "." or "..". FGamingPanelCloudSave refuses
	 * any other key when the game saves: it would go into the URL as something else ("slot?1" as "slot") or, like
	 * "a/b", never reach the save route and keep the whole queue waiting behind it.
	 */
	static bool IsValidKey(const FString& Key);
	/** Saves locally at once and queues the write (ValueJson: any JSON but null). */
	void Save(const FString& Key, const FString& ValueJson);
	/** Deletes locally and queues the delete of a key the server has. */
	void Delete(const FString& Key);
	/** The local value: the pending write when there is one, else the synced copy (whose version the next
	 *  Save of the key then builds on, whatever a Refresh brings meanwhile; when there is none, the next Save
	 *  creates the key with If-None-Match: *, a conflict if a Refresh brought another device's copy). */
	bool TryGet(const FString& Key, FString& OutValueJson) const;
	/**
	 * Sends every queued write not waiting on a conflict, one at a time (a key's unconfirmed earlier write first);
	 * stops at the first answer that is not definitive. Only the panel's problem documents settle a write: 412 (and a
	 * delete's 404 save_not_found) make a conflict; 400, 403 save_key_not_writable, 413 and 422 drop it. 401, the
	 * answers that end a session (FGamingPanelError::EndsSession) and any other 403 of the panel's (about the session or
	 * the credential: permission_missing, wrong_credential_kind...) keep everything queued for the next login
	 * (bNeedsLogin); anything else (no answer, 408, 429, 5xx, another 404 such as not_found for a wrong base URL, a
	 * proxy's page, a 2xx without the document, a delete's 2xx other than 204) keeps it queued with its Idempotency-Key.
	 * One sync at a time: called while another runs, it sends nothing and completes at once with bSyncRunning (two
	 * syncs would send the same write twice, and one's late answer could land after the other's newer one). An answer
	 * never replaces the synced copy with a lower version than the one the device holds.
	 */
	void Sync(FSend Send, FOnSynced OnComplete);
	/** A Sync is running (its OnComplete has not run yet). */
	bool IsSyncing() const { return bSyncing; }
	/** The game's answer to a conflict; the write (if any) goes with the next Sync. */
	bool Resolve(const FString& Key, EGamingPanelConflictResolution Resolution, const FString& MergedValueJson = FString());
	/** Keys waiting for the game's decision. */
	TArray<FGamingPanelSaveConflict> GetConflicts() const;
	int32 QueuedCount() const;
	/**
	 * The answer of GET player/saves: it replaces every synced copy (a key written on another device appears, one
	 * deleted there goes). Queued writes stay queued with the version they were made from, so one that another
	 * device got in front of is a conflict at the next Sync, never an overwrite. SettledWhenAsked is
	 * SettledWriteCount() when the list was asked for: if a write of this device was answered since, the list
	 * predates it (it would put an older version back), so it is not applied and false is answered.
	 */
	bool Refreshed(const TArray<FGamingPanelSaveDocument>& ServerDocuments, int64 SettledWhenAsked = -1, int64 ReadAtUnixSeconds = 0);
	/**
	 * The documents of a GET player/saves answer; false when an item is not a document as the panel sends one: an
	 * object with a `key` that is a save key (IsValidKey), listed once, a `version` that is a whole number of at least
	 * 1, and a `value` that is not null (`updated_at` and other fields are not needed). The panel never lists anything
	 * else, so one such item makes the whole answer not its list: read without that item, the list would take the key's
	 * synced copy away. The Unity kit reads a list the same way (CloudSaveService.DocumentsOfList).
	 */
	static bool DocumentsOfList(const TArray<FGamingPanelSaveListItem>& Items, TArray<FGamingPanelSaveDocument>& OutDocuments);
	/**
	 * A 2xx to GET player/saves: bIsArray false when the body is not a JSON array, Items its items otherwise. The list of
	 * documents is applied as Refreshed (read at NowUnixSeconds); anything else changes nothing (NotTheList), nor does
	 * a list asked for before one of the device's writes was answered (Outdated). OutDocuments: what the game is
	 * handed, the list when applied, else the synced copies.
	 */
	EGamingPanelSaveListOutcome ListAnswered(bool bIsArray, const TArray<FGamingPanelSaveListItem>& Items, int64 SettledWhenAsked,
		int64 NowUnixSeconds, TArray<FGamingPanelSaveDocument>& OutDocuments);
	/** When the synced copies were last read from the panel (a list applied), Unix seconds; 0 when never on this
	 *  device. Kept by the store, so it survives a restart. */
	int64 RefreshedAtUnixSeconds() const { return State.RefreshedAtUnixSeconds; }
	/** How many writes have been answered as written since the queue was made (see Refreshed). */
	int64 SettledWriteCount() const { return SettledWrites; }
	/** The synced copies, as the last sync or refresh left them. */
	TArray<FGamingPanelSaveDocument> SyncedDocuments() const;
	/** The cache and the queue as they are (what the store was last given). */
	const FGamingPanelSaveState& GetState() const { return State; }

	/** Called for each new conflict during Sync. */
	FOnConflict OnConflict;

private:
	void Queue(const FString& Key, const FString& ValueJson, bool bDeleted);
	void SendNext(TArray<FString> Keys, TSharedRef<FGamingPanelSyncReport> Report, FSend Send, FOnSynced OnComplete);
	void Apply(const FGamingPanelSaveRequest& Sent, const FGamingPanelSaveAnswer& Answer, FGamingPanelSyncReport& Report);
	/** The unconfirmed earlier write when there is one, else the queued value. */
	static FGamingPanelSaveRequest RequestFor(const FString& Key, const FGamingPanelPendingSave& Pending);
	static FGamingPanelSaveConflict ConflictOf(const FString& Key, const FGamingPanelPendingSave& Pending);

	TSharedRef<IGamingPanelSaveStore> Store;
	TFunction<FString()> NewIdempotencyKey;
	FGamingPanelSaveState State;
	/** Per key, the version of the synced copy the game last read (TryGet) or wrote: a new save builds on it.
	 *  NoDocument when what the game read (or the device last wrote) was no document: a save then creates the key
	 *  (If-None-Match: *), so a copy another device wrote, brought in by a refresh since, is a 412 conflict and not
	 *  overwritten. In memory: after a restart (a Reload) the game reads again before it saves. */
	mutable TMap<FString, int64> ReadVersions;
	static constexpr int64 NoDocument = 0; // versions start at 1
	/** Moves on every Reload: an answer to a request sent before it is not applied to what was loaded after. */
	int32 Generation = 0;
	int64 SettledWrites = 0;
	/** A Sync of what is loaded now is running (reset by Reload: a sync of what was loaded before ends on its own). */
	bool bSyncing = false;
};
