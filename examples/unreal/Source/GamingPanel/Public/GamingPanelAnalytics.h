// Gaming Panel Unreal example: the game's own analytics events (level_complete, tutorial_step, ...), shown on the
// panel's dashboard under "Game events".
//
// Track() adds the event to the player's queue with its time and an event id. The queue is kept in memory and written
// to Saved/GamingPanel/<player>/analytics_queue.json (replaced whole in one step, on a worker thread), not on every
// Track: at most PersistDelaySeconds (2 s) after the first event not yet on disk, at once when PersistEveryEvents (50)
// wait, after every flush answer that takes events off the queue, at the end of every Flush, and on SaveNow() (the
// game's pause or quit; the plugin also calls it when the application deactivates, goes to the background or
// terminates, when the subsystem deinitializes, and when the object is destroyed). A crash may lose the events of that
// window: at most the last 2 seconds' or 50 events. Flush() sends the queue to POST analytics/events in batches of at
// most 100:
//   - 202/207 whose JSON body carries `accepted` (the panel's receipt): the batch leaves the queue (with 207 the
//     panel refused some events for good: sending them again would get the same answer, so they go too, counted in
//     the report);
//   - no answer, 429, 5xx, a session that could not be renewed, and any answer that is not the panel's (an empty
//     2xx, a captive portal's page, a proxy's HTML 400): the batch stays for the next Flush; the event ids make an
//     event that did reach the panel count once. An answer with Retry-After (429, 503): no Flush sends anything
//     before that many seconds have passed (it completes at once with the error, RetryAfterSeconds the time left);
//   - 400 for the whole batch as the panel's problem document: it can never be taken as it is, and is dropped;
//   - 413 (the batch's body too big): the same events again in halves; a single one still too big is dropped.
// Events older than the panel takes (7 days) are dropped before sending, and the queue keeps at most MaxQueued events
// and MaxQueuedBytes (4 MB of the file's JSON): past either, the oldest go first.
// Times are the panel's clock: the device's, corrected by the offset learned from the Date header of the panel's
// answers (FGamingPanelHttp::GetPanelClockOffset), as the panel refuses an event more than 5 minutes ahead of its own
// clock and a phone set minutes forward would otherwise lose every event. An event tracked this run before any answer
// told the offset has the device's time and is corrected once the offset is known (same run, so the same device
// clock); one left uncorrected from an earlier run keeps its time, and no event goes out more than 4 minutes ahead of
// the panel's now (it is sent as now). FGamingPanelAnalyticsQueue holds these decisions without HTTP, JSON, files or
// timers (run by scripts/check_examples.sh against a fake panel); FGamingPanelAnalytics gives it the subsystem's HTTP,
// the file and the core ticker.
// See docs/analytics.md.
#pragma once

#include "CoreMinimal.h"
#include "GamingPanelTypes.h"

class FJsonObject;
class UGamingPanelSubsystem;

struct GAMINGPANEL_API FGamingPanelAnalyticsEvent
{
	FString EventId;
	FString Name;
	/** When it happened, in Unix seconds (UTC). */
	int64 OccurredAt = 0;
	/** A JSON object, as text ("{}" when it has none). */
	FString PropertiesJson;
};

/** Where the queue keeps its events: read when the queue (re)loads, written when the queue persists (see
 *  FGamingPanelAnalyticsQueue::Persist), not on every Track. */
class GAMINGPANEL_API IGamingPanelAnalyticsStore
{
public:
	virtual ~IGamingPanelAnalyticsStore() = default;
	virtual bool Read(TArray<FGamingPanelAnalyticsEvent>& OutEvents) = 0;
	/** Replaces what the store holds with Events (copied). May complete later (the plugin's file is written on a
	 *  worker thread, one write at a time, in order). */
	virtual void Write(const TArray<FGamingPanelAnalyticsEvent>& Events) = 0;
	/** Returns once everything written so far is stored (SaveNow: the game pauses or quits). */
	virtual void WaitForWrites() {}
};

/** The answer to one batch, read out of the HTTP response by the caller. */
struct GAMINGPANEL_API FGamingPanelAnalyticsAnswer
{
	/** A 2xx (Status says which). */
	bool bOk = false;
	/** The HTTP status of a 2xx; for anything else Error.Status. */
	int32 Status = 0;
	/** bOk: the body is a JSON object carrying `accepted` (the panel's receipt). Only a 202 or 207 with it is taken as
	 *  delivered; an empty 2xx or another body (a proxy, a captive portal) keeps the batch. */
	bool bAccepted = false;
	FGamingPanelError Error;
	/** !bOk: the body is the panel's problem document (Content-Type application/problem+json, or JSON with a `code`).
	 *  Only such a 400 drops the batch; a proxy's 400 page keeps it. */
	bool bProblemDocument = false;
	/** With 207: how many of the batch the panel refused for good. */
	int32 Rejected = 0;
	/** The panel's clock from the answer's Date header, in Unix seconds; 0 without one (no answer at all). */
	int64 PanelDate = 0;
};

struct GAMINGPANEL_API FGamingPanelAnalyticsReport
{
	/** Events the panel took (stored, or recognised as already stored by their ids). */
	int32 Taken = 0;
	/** Refused for good by the panel (207) or in a batch refused whole (400): gone from the queue. */
	int32 Rejected = 0;
	/** Still queued: the panel could not be reached, or the session could not be renewed (Error says). */
	int32 StillQueued = 0;
	/** Why events stayed queued. After a 429 or 503 with Retry-After, RetryAfterSeconds: flushes before then send
	 *  nothing and answer this error again, with the seconds left. */
	FGamingPanelError Error;
};

class GAMINGPANEL_API FGamingPanelAnalyticsQueue
{
public:
	/** The panel takes at most this many events per call (ANALYTICS_MAX_BATCH). */
	static constexpr int32 MaxBatch = 100;
	/** The most events kept while offline; past it the oldest are dropped. */
	static constexpr int32 MaxQueued = 2000;
	/** The most bytes of events kept while offline (their UTF-8 JSON in the queue file, SizeOf); past it the oldest
	 *  are dropped. */
	static constexpr int64 MaxQueuedBytes = 4 * 1024 * 1024;
	/** An event not yet on disk is written at most this long after it was tracked (a crash may lose these). */
	static constexpr float PersistDelaySeconds = 2.f;
	/** This many events not yet on disk are written at once, without waiting for PersistDelaySeconds. */
	static constexpr int32 PersistEveryEvents = 50;
	/** The most bytes of properties the panel takes per event (ANALYTICS_MAX_PROPERTIES_BYTES). */
	static constexpr int32 MaxPropertiesBytes = 4096;
	/** The panel refuses events more than 7 days old; an hour's margin for the device's clock. */
	static constexpr int64 MaxAgeSeconds = 7 * 86400 - 3600;
	/** The panel refuses events more than 5 minutes ahead of its clock: none goes out more than this ahead of its now. */
	static constexpr int64 MaxAheadSeconds = 240;

	using FOnAnswer = TFunction<void(const FGamingPanelAnalyticsAnswer& Answer)>;
	/** Sends Batch and calls OnAnswer once; false when it cannot send at all (the flush then ends). */
	using FSend = TFunction<bool(const TArray<FGamingPanelAnalyticsEvent>& Batch, FOnAnswer OnAnswer)>;
	using FOnFlushed = TFunction<void(const FGamingPanelAnalyticsReport& Report)>;
	/** Asks for WriteDue() to be called in DelaySeconds (the plugin: the core ticker). */
	using FScheduleWrite = TFunction<void(float DelaySeconds)>;

	/** NewEventId makes a fresh id per event (FGuid in the plugin); NowUnixSeconds is the clock; ScheduleWrite the
	 *  timer of the write PersistDelaySeconds after a change (without one, changes are written once
	 *  PersistEveryEvents wait, by Flush and by SaveNow only). Call Reload() to read the store. */
	FGamingPanelAnalyticsQueue(TSharedRef<IGamingPanelAnalyticsStore> InStore, TFunction<FString()> InNewEventId,
		TFunction<int64()> InNowUnixSeconds, FScheduleWrite InScheduleWrite = nullptr);

	/** Replaces the queue with what the store holds (empty when it holds nothing). Changes not written yet are
	 *  dropped: Persist() first to keep them (FGamingPanelAnalytics does, before loading another player's queue). */
	void Reload();
	/** Queues one event in memory (written later, see Persist); false (nothing queued) for a name the panel refuses or
	 *  properties over MaxPropertiesBytes. PropertiesJson: a JSON object or empty. */
	bool Track(const FString& Name, const FString& PropertiesJson = FString());
	/** Writes the queue to the store now if it changed since the last write. */
	void Persist();
	/** The write ScheduleWrite was asked for is due: Persist(). */
	void WriteDue();
	/** Persist(), then waits until the store holds it: call it when the game pauses or quits. */
	void SaveNow();
	/** The queue holds changes not written to the store yet. */
	bool HasUnsavedChanges() const { return bDirty; }
	/** Sends the queue in batches of MaxBatch, one at a time; stops at the first batch that stays queued. */
	void Flush(FSend Send, FOnFlushed OnComplete);
	/** The panel's clock, seen in an answer (its Date header, Unix seconds): learns the offset to the device's. */
	void LearnPanelClock(int64 PanelUnixSeconds);
	/** The panel's clock minus the device's, in seconds, learned elsewhere (any panel answer). Events tracked this run
	 *  before it was known are corrected by it. */
	void SetClockOffset(int64 OffsetSeconds);
	/** Now by the panel's clock: the device's, corrected by the offset once known. */
	int64 CorrectedNow() const { return NowUnixSeconds() + ClockOffset; }
	int32 QueuedCount() const { return Queued.Num(); }
	/** The bytes the queued events take in the queue file (the sum of SizeOf). */
	int64 QueuedBytes() const { return Bytes; }
	const TArray<FGamingPanelAnalyticsEvent>& GetQueued() const { return Queued; }

	/** A lower-case letter, then up to 63 lower-case letters, digits or '_' (the panel's pattern). */
	static bool IsValidName(const FString& Name);
	/** The UTF-8 bytes of Event's entry in the queue file, {"event_id":..,"name":..,"occurred_at_unix":..,
	 *  "properties_json":".."} with its strings escaped, and its comma. */
	static int64 SizeOf(const FGamingPanelAnalyticsEvent& Event);

private:
	void SendNext(TSharedRef<FGamingPanelAnalyticsReport> Report, FSend Send, FOnFlushed OnComplete);
	/** Ends the flush: writes what changed, then answers. */
	void FinishFlush(const FGamingPanelAnalyticsReport& Report, const FOnFlushed& OnComplete);
	/** Drops events past MaxAgeSeconds, then the oldest past MaxQueued or MaxQueuedBytes; true when it dropped any. */
	bool Trim();
	void RemoveSent(const TArray<FString>& SentIds);
	/** The queue changed (Events of them new or gone): written at once once PersistEveryEvents wait, else
	 *  PersistDelaySeconds later (ScheduleWrite). */
	void Changed(int32 Events);

	TSharedRef<IGamingPanelAnalyticsStore> Store;
	TFunction<FString()> NewEventId;
	TFunction<int64()> NowUnixSeconds;
	FScheduleWrite ScheduleWrite;
	TArray<FGamingPanelAnalyticsEvent> Queued;
	/** The sum of SizeOf over Queued. */
	int64 Bytes = 0;
	/** Changed since the last write to the store, and how many events (tracked or settled) that was. */
	bool bDirty = false;
	int32 Unsaved = 0;
	/** ScheduleWrite was asked and WriteDue has not run yet. */
	bool bWriteScheduled = false;
	/** After an answer with Retry-After: no batch goes before RetryAfterUntil (NowUnixSeconds), RetryAfterWait seconds
	 *  after that answer; the error answered meanwhile. In memory only. */
	int64 RetryAfterUntil = 0;
	int64 RetryAfterWait = 0;
	FGamingPanelError RetryAfterError;
	/** The panel's clock minus the device's (seconds), once bClockKnown. Kept in memory only. */
	int64 ClockOffset = 0;
	bool bClockKnown = false;
	/** Events tracked this run before the offset was known (the device's time): corrected by SetClockOffset. */
	TArray<FString> DeviceTimed;
	bool bFlushing = false;
	/** How many events the flush sends at once: MaxBatch, halved after a 413. */
	int32 BatchSize = MaxBatch;
	/** Moves on every Reload: an answer to a batch sent before it is not applied to what was loaded after. */
	int32 Generation = 0;
};

/** The queue with the subsystem's HTTP and the player's file: UGamingPanelSubsystem::GetAnalytics(). */
class GAMINGPANEL_API FGamingPanelAnalytics : public TSharedFromThis<FGamingPanelAnalytics>
{
public:
	/** Also hooks the application's deactivate, enter-background and terminate notifications (FCoreDelegates) to SaveNow. */
	explicit FGamingPanelAnalytics(UGamingPanelSubsystem* InSubsystem);
	/** Writes what is not on disk yet (SaveNow). */
	~FGamingPanelAnalytics();

	/** Queues one event for the logged-in player; false (nothing kept) for a bad name or with nobody logged in. */
	bool Track(const FString& Name, TSharedPtr<FJsonObject> Properties = nullptr);
	/** Sends what is queued; call it now and then (e.g. every minute) and when the game goes to the background. */
	void Flush(FGamingPanelAnalyticsQueue::FOnFlushed OnComplete);
	/** Writes the events not on disk yet (at most the last 2 s' or 50) and waits for the write: call it when the game
	 *  pauses or quits. Called on its own when the application deactivates, goes to the background or terminates,
	 *  when the subsystem deinitializes and when this object is destroyed. */
	void SaveNow();
	int32 QueuedCount();

private:
	/** Reads the player's file again when the player changed (writing the previous player's first). */
	void Load();
	/** Gives the queue the panel's clock offset learned from any panel answer (FGamingPanelHttp). */
	void SyncClock();
	/** The queue's timed write: WriteDue in DelaySeconds (core ticker), if this object still exists. */
	void ScheduleWrite(float DelaySeconds);

	TWeakObjectPtr<UGamingPanelSubsystem> Subsystem;
	FGamingPanelAnalyticsQueue Queue;
	FString LoadedFor;
	FDelegateHandle DeactivateHandle;
	FDelegateHandle BackgroundHandle;
	FDelegateHandle TerminateHandle;
};
