// Gaming Panel Unreal example: cloud save and remote config, offline-first.
//
// FGamingPanelCloudSave keeps, per player and key, the last synced document (value and version) and at most one
// pending write per key (the newest value, the version it was made from, an Idempotency-Key), in
// Saved/GamingPanel/<player>/cloud_saves.json, so the queue survives a restart. Refresh() reads the player's saves
// from the server (GET player/saves) into the synced copies, queued writes untouched, and keeps the time it read them
// (GetFetchedAtUtc(), in the same file); a list with an item that is not a document replaces nothing (the Unity kit
// reads it the same way: FGamingPanelSaveQueue::DocumentsOfList). Sync() sends the pending writes
// with If-Match (If-None-Match: * for a new key), one key at a time:
//   - 200/201 with the document (a delete: 204): the answer becomes the synced copy;
//   - 412 precondition_failed: another device wrote first. Nothing is overwritten: OnConflict gets both copies
//     (the local value and the server's current document) and the write stays queued until Resolve();
//   - the panel's problem document with 400, 403 (other than player_banned), 413 or 422: the write can never succeed
//     as it is: dropped and reported in the FSyncReport with its value;
//   - 401, or an answer that ends the session (FGamingPanelError::EndsSession, 403 player_banned included: bans end),
//     or another player logged in meanwhile: nothing is dropped; the report says bNeedsLogin and the queue waits for
//     its own player's next login;
//   - anything else (no answer, 408, 429, 5xx, a proxy's or a portal's page, a 2xx without the document, a delete's
//     2xx other than 204): it stays queued with its Idempotency-Key, so a write that did arrive counts once; a 2xx
//     is never read as a delete.
// A write sent without a confirmed outcome stays recorded with its key: a value saved over it does not replace that
// attempt; the next Sync first sends it again, exactly (same value, key and If-Match), and then the newer value on
// the version that answer returns, so the device never conflicts with its own earlier write.
// One sync at a time: Sync() called while another runs sends nothing and completes at once with bSyncRunning; and an
// answer never replaces the synced copy with a lower version than the one the device holds.
// The decisions (what is cached and queued, which request a write becomes, what each answer does) are
// FGamingPanelSaveQueue's (GamingPanelSaveQueue.h, engine-independent and run by scripts/check_examples.sh); this
// class gives it the subsystem's HTTP and the JSON file. Each request goes with the loaded player's token only
// (UGamingPanelSubsystem::SendAuthorized pins a call to its player), and a Refresh answer is kept only while the player
// who asked is still logged in.
// FGamingPanelRemoteConfig fetches GET config with the saved ETag (If-None-Match): 304 keeps the saved copy (and
// moves the time it was read to now), and offline, on any refusal, or on a 2xx that is not the config (invalid_response)
// the saved copy is used, with the error beside it. The copy is kept with the time it was read from the panel
// (GetFetchedAtUtc(), in remote_config.json across restarts). The decisions are FGamingPanelRemoteConfigCache's
// (GamingPanelRemoteConfigCache.h, engine-independent and run by scripts/check_examples.sh), as the Unity kit's
// RemoteConfigService makes them. An answer that arrives after another
// player logged in (or the player logged out) is discarded (not_logged_in), never saved in the new player's folder.
// It sends the build's version cut to the form the server takes (NumericVersion). Both files are replaced in one step
// (GamingPanelFiles in GamingPanelHttp.h).
// See docs/guide/offline.md.
#pragma once

#include "CoreMinimal.h"
#include "GamingPanelHttp.h"
#include "GamingPanelRemoteConfigCache.h"
#include "GamingPanelSaveQueue.h"

class UGamingPanelSubsystem;

class GAMINGPANEL_API FGamingPanelCloudSave : public TSharedFromThis<FGamingPanelCloudSave>
{
public:
	using FOnSynced = TFunction<void(const FGamingPanelSyncReport& Report)>;
	using FOnConflict = TFunction<void(const FGamingPanelSaveConflict& Conflict)>;
	/** Documents: the player's saves; bFromCache when the server could not be reached (the last synced copies). */
	using FOnRefreshed = TFunction<void(bool bOk, const TArray<FGamingPanelSaveDocument>& Documents, bool bFromCache, const FGamingPanelError& Error)>;

	explicit FGamingPanelCloudSave(UGamingPanelSubsystem* InSubsystem);

	/**
	 * Saves locally at once and queues the write (ValueJson: any JSON but null: an object, an array, a string, a
	 * number or a boolean). False, and nothing kept, when no player is logged in (saves are kept per player, so log
	 * in, once, online, first) or when ValueJson is not JSON or is null.
	 */
	bool Save(const FString& Key, const FString& ValueJson);
	/** Deletes locally and queues the delete of a key the server has; false when no player is logged in. */
	bool Delete(const FString& Key);
	/** The local value: the pending write when there is one, else the synced copy. */
	bool TryGet(const FString& Key, FString& OutValueJson);
	/** Sends every queued write not waiting on a conflict; OnConflict fires for each new conflict. While another Sync
	 *  runs it sends nothing and completes at once with bSyncRunning: sync again after that one has completed. */
	void Sync(FOnSynced OnComplete);
	/**
	 * GET player/saves: replaces the synced copies with the server's (saves made on another device appear; queued
	 * writes stay queued). Call it after login and after Sync. Offline (no answer, 429, 5xx), or a 2xx that is not the
	 * list (not a JSON array, or an item that is not a document: FGamingPanelSaveQueue::DocumentsOfList; Error
	 * invalid_response): the last synced copies, bFromCache, with GetFetchedAtUtc() saying how old they are. Fails
	 * with not_logged_in when no player is logged in, or when the player changed before the answer arrived (the answer
	 * is then discarded).
	 */
	void Refresh(FOnRefreshed OnComplete);
	/**
	 * When the synced copies were last read from the panel (the last Refresh whose list was applied), kept in
	 * cloud_saves.json so it survives a restart; FDateTime() (0001-01-01, as the Unity kit's DateTime.MinValue) when
	 * they never were on this device. The Unity kit's FetchedAtUtc: offline, how stale the cached saves are.
	 */
	FDateTime GetFetchedAtUtc();
	/** The game's answer to a conflict; the write (if any) goes with the next Sync. False for a merged value that is not JSON or is null. */
	bool Resolve(const FString& Key, EGamingPanelConflictResolution Resolution, const FString& MergedValueJson = FString());
	/** Keys waiting for the game's decision. */
	TArray<FGamingPanelSaveConflict> GetConflicts();
	int32 QueuedCount();

	FOnConflict OnConflict;

private:
	/** Reads the player's file again when the player changed. */
	void Load();
	bool HasPlayer() const;
	static bool KeyTaken(const FString& Key);

	TWeakObjectPtr<UGamingPanelSubsystem> Subsystem;
	FGamingPanelSaveQueue Queue;
	FString LoadedFor;
};

class GAMINGPANEL_API FGamingPanelRemoteConfig : public TSharedFromThis<FGamingPanelRemoteConfig>
{
public:
	/** Values: the resolved keys; bFromCache when the server could not be reached, refused, or answered a 2xx that is not
	 *  the config (not a JSON object with `values` an object and `version` a whole number: invalid_response), Error
	 *  saying why: the saved copy, unchanged (GetFetchedAtUtc() says how old it is). A 304 is the saved copy, current
	 *  (not bFromCache). bOk false with not_logged_in when the player changed while the request was out (nothing saved). */
	using FOnConfig = TFunction<void(bool bOk, const TSharedPtr<FJsonObject>& Values, bool bFromCache, const FGamingPanelError& Error)>;

	/**
	 * ClientVersion and Platform are sent as X-Client-Version and X-Client-Platform (e.g. "1.4.2", "windows"); the
	 * version cut with NumericVersion first, and no header when nothing is left.
	 */
	FGamingPanelRemoteConfig(UGamingPanelSubsystem* InSubsystem, const FString& InClientVersion, const FString& InPlatform);

	/**
	 * The build's version as the server takes it (apps/remoteconfig: ^\d{1,6}(\.\d{1,6}){0,3}$): its leading numbers
	 * and dots, at most 4 numbers of at most 6 ASCII digits ("1.4.2-rc1" -> "1.4.2", "v1.4" -> "1.4", "1.2.3.4.5" ->
	 * "1.2.3.4", "1.2.20240131" -> "1.2"), or empty when none is left. A number longer than 6 digits ends the version
	 * there. Inline so Tests/CloudSaveQueueTest.cpp runs it.
	 */
	static FString NumericVersion(const FString& Version)
	{
		const TCHAR* Text = *Version;
		const int32 Length = Version.Len();
		int32 Start = Length > 0 && (Text[0] == TEXT('v') || Text[0] == TEXT('V')) ? 1 : 0;
		FString Numeric;
		for (int32 Numbers = 0; Numbers < 4; ++Numbers)
		{
			int32 End = Start;
			while (End < Length && Text[End] >= TEXT('0') && Text[End] <= TEXT('9'))
			{
				++End;
			}
			if (End == Start || End - Start > 6)
			{
				break;
			}
			if (Numbers > 0)
			{
				Numeric += TEXT(".");
			}
			Numeric += Version.Mid(Start, End - Start);
			if (End >= Length || Text[End] != TEXT('.'))
			{
				break;
			}
			Start = End + 1;
		}
		return Numeric;
	}

	void Fetch(FOnConfig OnComplete);
	/** The saved copy without the network, or nullptr. */
	TSharedPtr<FJsonObject> LoadCached(FString* OutETag = nullptr) const;
	/**
	 * When the logged-in player's saved copy was last read from the panel (its 200, or a 304 confirming it), kept in
	 * remote_config.json so it survives a restart; FDateTime() (0001-01-01, as the Unity kit's DateTime.MinValue) when
	 * there is no copy or it was saved without one. The Unity kit's FetchedAtUtc: offline, how stale the config is.
	 */
	FDateTime GetFetchedAtUtc() const;

private:
	FString CachePath() const;

	TWeakObjectPtr<UGamingPanelSubsystem> Subsystem;
	FString ClientVersion;
	FString Platform;
};
