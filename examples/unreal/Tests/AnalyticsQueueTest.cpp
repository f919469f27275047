// Runs the Unreal kit's analytics queue outside the engine: FGamingPanelAnalyticsQueue
// (Private/GamingPanelAnalyticsQueue.cpp), the code FGamingPanelAnalytics runs for every decision, against a fake
// panel that takes POST analytics/events as apps/analytics does (at most 100 events per call, each event id stored
// once, 202 or 207 with the refused ones) and an in-memory store standing in for
// Saved/GamingPanel/<player>/analytics_queue.json (counting its writes) and a timer the test fires by hand. What stays
// in the engine (the HTTP call, the JSON, the file and its worker thread, the core ticker) is only compiled by the
// syntax checks. Built and run by scripts/check_examples.sh with g++; exits 1 when a check fails.
#include "GamingPanelAnalytics.h"

#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

// ---------------------------------------------------------------- the engine's UTF-8 conversion the queue uses

namespace
{
std::map<const FTCHARToUTF8*, std::string>& Utf8Buffers()
{
	static std::map<const FTCHARToUTF8*, std::string> Buffers;
	return Buffers;
}
}

FTCHARToUTF8::FTCHARToUTF8(const TCHAR* Source)
{
	std::string Text;
	for (const TCHAR* C = Source; *C; ++C)
	{
		const std::uint32_t Code = static_cast<std::uint32_t>(*C); // TCHAR is wchar_t: a whole code point here
		if (Code < 0x80) Text.push_back(static_cast<char>(Code));
		else if (Code < 0x800) Text += {static_cast<char>(0xC0 | (Code >> 6)), static_cast<char>(0x80 | (Code & 0x3F))};
		else if (Code < 0x10000)
			Text += {static_cast<char>(0xE0 | (Code >> 12)), static_cast<char>(0x80 | ((Code >> 6) & 0x3F)),
				static_cast<char>(0x80 | (Code & 0x3F))};
		else
			Text += {static_cast<char>(0xF0 | (Code >> 18)), static_cast<char>(0x80 | ((Code >> 12) & 0x3F)),
				static_cast<char>(0x80 | ((Code >> 6) & 0x3F)), static_cast<char>(0x80 | (Code & 0x3F))};
	}
	Utf8Buffers()[this] = Text;
}
const ANSICHAR* FTCHARToUTF8::Get() const { return Utf8Buffers()[this].c_str(); }
int32 FTCHARToUTF8::Length() const { return static_cast<int32>(Utf8Buffers()[this].size()); }

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

struct FMemoryStore : IGamingPanelAnalyticsStore
{
	bool bHasEvents = false;
	TArray<FGamingPanelAnalyticsEvent> Stored;
	/** Times the whole queue was written (the plugin: the file replaced). */
	int32 Writes = 0;

	bool Read(TArray<FGamingPanelAnalyticsEvent>& OutEvents) override
	{
		if (!bHasEvents) return false;
		OutEvents = Stored;
		return true;
	}

	void Write(const TArray<FGamingPanelAnalyticsEvent>& Events) override
	{
		Stored = Events;
		bHasEvents = true;
		++Writes;
	}
};

/** The panel's ingestion rules, in memory. */
struct FFakePanel
{
	bool bOnline = true;
	int32 AnswerStatus = 202;            // 202, or an error status every batch gets (503, 400...)
	float RetryAfter = -1.f;             // with an error status: its Retry-After header, in seconds (-1: none)
	int32 MaxEventsPerBody = 1000;       // more than this in one batch: 413 payload_too_large
	std::set<std::wstring> RefusedNames; // refused one by one in a 207 (e.g. a reserved name)
	std::set<std::wstring> StoredIds;
	std::vector<int> BatchSizes;
	int32 Duplicates = 0;
	/** Set: the panel's clock is the device's (this) minus BehindSeconds; every answer carries it (its Date header),
	 *  and an event more than 5 minutes ahead of it or more than 7 days old is refused (event_out_of_range, 207). */
	const int64* DeviceNow = nullptr;
	int64 BehindSeconds = 0;
	/** The times of the events taken, by name. */
	std::map<std::wstring, int64> TakenAt;
	/** Answers held back (to answer later, as a slow network would). */
	std::vector<std::function<void()>> Held;
	bool bHold = false;

	FGamingPanelAnalyticsQueue::FSend Send()
	{
		return [this](const TArray<FGamingPanelAnalyticsEvent>& Batch, FGamingPanelAnalyticsQueue::FOnAnswer OnAnswer)
		{
			std::function<void()> Answer = [this, Batch, OnAnswer]() { OnAnswer(Receive(Batch)); };
			if (bHold) Held.push_back(Answer);
			else Answer();
			return true;
		};
	}

	FGamingPanelAnalyticsAnswer Receive(const TArray<FGamingPanelAnalyticsEvent>& Batch)
	{
		FGamingPanelAnalyticsAnswer Answer;
		if (!bOnline)
		{
			Answer.Error.Status = 0;
			Answer.Error.Code = TEXT("network_error");
			return Answer;
		}
		const int64 PanelNow = DeviceNow ? *DeviceNow - BehindSeconds : 0;
		Answer.PanelDate = PanelNow;
		if (Batch.Num() > MaxEventsPerBody)
		{
			Answer.Error.Status = 413;
			Answer.Error.Code = TEXT("payload_too_large");
			return Answer;
		}
		if (AnswerStatus != 202)
		{
			Answer.Error.Status = AnswerStatus;
			Answer.Error.Code = AnswerStatus == 400 ? TEXT("validation_error")
				: AnswerStatus == 429 ? TEXT("rate_limited") : TEXT("service_unavailable");
			Answer.Error.RetryAfterSeconds = RetryAfter;
			Answer.bProblemDocument = true; // the panel answers its refusals as application/problem+json
			return Answer;
		}
		BatchSizes.push_back(Batch.Num());
		Answer.bOk = true;
		Answer.bAccepted = true; // {"accepted": n, "duplicates": n, "rejected": [...]}
		for (const FGamingPanelAnalyticsEvent& Event : Batch)
		{
			if (RefusedNames.count(*Event.Name)) { ++Answer.Rejected; continue; }
			if (DeviceNow && (Event.OccurredAt > PanelNow + 300 || Event.OccurredAt < PanelNow - 7 * 86400))
			{
				++Answer.Rejected; // event_out_of_range
				continue;
			}
			TakenAt[*Event.Name] = Event.OccurredAt;
			if (!StoredIds.insert(*Event.EventId).second) ++Duplicates;
		}
		Answer.Status = Answer.Rejected > 0 ? 207 : 202;
		return Answer;
	}
};

struct FWorld
{
	int64 Now = 1'800'000'000;
	int32 NextId = 0;
	TSharedRef<FMemoryStore> Store = MakeShared<FMemoryStore>();
	/** The delays the queue asked its write timer for (the plugin: the core ticker); the test calls WriteDue. */
	std::vector<float> TimersAsked;

	FGamingPanelAnalyticsQueue MakeQueue()
	{
		FGamingPanelAnalyticsQueue Queue(Store, [this] { return FString(L"e" + std::to_wstring(++NextId)); },
			[this] { return Now; }, [this](float DelaySeconds) { TimersAsked.push_back(DelaySeconds); });
		Queue.Reload();
		return Queue;
	}
};

/** The queue file's text as the plugin writes it ({"events":[{"event_id",..,"properties_json"},..]}, condensed). */
std::string QueueFileJson(const TArray<FGamingPanelAnalyticsEvent>& Events)
{
	auto Quoted = [](const FString& Text)
	{
		std::string Out = "\"";
		for (const TCHAR* C = *Text; *C; ++C)
		{
			const std::uint32_t Code = static_cast<std::uint32_t>(*C);
			if (Code == '"' || Code == '\\') Out += {'\\', static_cast<char>(Code)};
			else if (Code < 0x80) Out.push_back(static_cast<char>(Code));
			else
			{
				const TCHAR One[2] = {*C, 0};
				Out += FTCHARToUTF8(One).Get();
			}
		}
		return Out + "\"";
	};
	std::string Json = "{\"events\":[";
	for (int32 Index = 0; Index < Events.Num(); ++Index)
	{
		const FGamingPanelAnalyticsEvent& Event = Events[Index];
		if (Index > 0) Json += ",";
		Json += "{\"event_id\":" + Quoted(Event.EventId) + ",\"name\":" + Quoted(Event.Name)
			+ ",\"occurred_at_unix\":" + std::to_string(Event.OccurredAt) + ",\"properties_json\":" + Quoted(Event.PropertiesJson) + "}";
	}
	return Json + "]}";
}

/** {"n":N,"blob":"xxx..."}: about 4 KB of properties. */
FString BigProperties(int N)
{
	return FString(L"{\"n\":" + std::to_wstring(N) + L",\"blob\":\"" + std::wstring(4000, L'x') + L"\"}");
}

/** The n of BigProperties. */
int NumberIn(const FGamingPanelAnalyticsEvent& Event)
{
	return std::stoi(std::wstring(*Event.PropertiesJson).substr(5));
}

FGamingPanelAnalyticsReport FlushNow(FGamingPanelAnalyticsQueue& Queue, FFakePanel& Panel)
{
	FGamingPanelAnalyticsReport Got;
	bool bDone = false;
	Queue.Flush(Panel.Send(), [&](const FGamingPanelAnalyticsReport& Report) { Got = Report; bDone = true; });
	Check(bDone || Panel.bHold, "the flush to finish");
	return Got;
}

void OfflineThenBatched()
{
	FWorld World;
	FFakePanel Panel;
	Panel.bOnline = false;
	{
		FGamingPanelAnalyticsQueue Queue = World.MakeQueue();
		for (int Index = 0; Index < 250; ++Index) Check(Queue.Track(TEXT("level_complete"), TEXT("{\"level\":3}")), "an event queued");
		FGamingPanelAnalyticsReport Offline = FlushNow(Queue, Panel);
		Check(Offline.Taken == 0 && Offline.StillQueued == 250 && Offline.Error.Status == 0, "offline: everything kept");
	}
	Panel.bOnline = true;
	FGamingPanelAnalyticsQueue Restarted = World.MakeQueue(); // the game was closed meanwhile
	Check(Restarted.QueuedCount() == 250, "the queue survives a restart");
	FGamingPanelAnalyticsReport Report = FlushNow(Restarted, Panel);
	Check(Report.Taken == 250 && Restarted.QueuedCount() == 0, "everything taken once online");
	Check(Panel.BatchSizes.size() == 3 && Panel.BatchSizes[0] == 100 && Panel.BatchSizes[2] == 50, "batches of at most 100");
	Check(Panel.StoredIds.size() == 250 && Panel.Duplicates == 0, "each event once, with its own id");
	Check(World.Store->Stored.Num() == 0, "the stored queue emptied too");
}

void AnswersDecideWhatStays()
{
	FWorld World;
	FFakePanel Panel;
	FGamingPanelAnalyticsQueue Queue = World.MakeQueue();
	Queue.Track(TEXT("tutorial_step"));
	Queue.Track(TEXT("session_start")); // the panel's own fact: refused there
	Panel.AnswerStatus = 503;
	FGamingPanelAnalyticsReport Down = FlushNow(Queue, Panel);
	Check(Down.StillQueued == 2 && Down.Error.Status == 503, "a 5xx keeps the batch");
	Panel.AnswerStatus = 202;
	Panel.RefusedNames.insert(L"session_start");
	FGamingPanelAnalyticsReport Partly = FlushNow(Queue, Panel);
	Check(Partly.Taken == 1 && Partly.Rejected == 1 && Queue.QueuedCount() == 0, "207: sent and refused both leave");
	Queue.Track(TEXT("level_start"));
	Panel.AnswerStatus = 400;
	FGamingPanelAnalyticsReport Refused = FlushNow(Queue, Panel);
	Check(Refused.Rejected == 1 && Queue.QueuedCount() == 0, "a batch refused whole is dropped");
}

/** What a proxy or a captive portal answers, as FGamingPanelAnalytics reads it out of the HTTP response. */
FGamingPanelAnalyticsAnswer NotThePanels(bool bOk, int32 Status, const TCHAR* Code = TEXT("invalid_response"))
{
	FGamingPanelAnalyticsAnswer Answer;
	Answer.bOk = bOk;
	Answer.Status = Status;
	if (!bOk)
	{
		Answer.Error.Status = Status;
		Answer.Error.Code = Code; // FromResponse's code for a body without one (400: validation_error)
	}
	return Answer;
}

void NotThePanelsAnswerKeepsTheBatch()
{
	struct { const char* What; FGamingPanelAnalyticsAnswer Answer; } Answers[] = {
		{"an empty 202 (a proxy)", NotThePanels(true, 202)},
		{"an empty 204", NotThePanels(true, 204)},
		{"a captive portal's 200 page (not JSON: FGamingPanelHttp answers it invalid_response)", NotThePanels(false, 200)},
		{"a 200 JSON that is not the receipt", NotThePanels(true, 200)},
		{"a proxy's HTML 400", NotThePanels(false, 400, TEXT("validation_error"))},
		{"a 400 JSON without a code", NotThePanels(false, 400, TEXT("validation_error"))},
	};
	for (const auto& Case : Answers)
	{
		FWorld World;
		FFakePanel Panel;
		FGamingPanelAnalyticsQueue Queue = World.MakeQueue();
		Queue.Track(TEXT("level_start"));
		Queue.Track(TEXT("level_complete"));
		const FGamingPanelAnalyticsAnswer Canned = Case.Answer;
		FGamingPanelAnalyticsReport Got;
		bool bDone = false;
		Queue.Flush([Canned](const TArray<FGamingPanelAnalyticsEvent>&, FGamingPanelAnalyticsQueue::FOnAnswer OnAnswer)
			{
				OnAnswer(Canned);
				return true;
			},
			[&](const FGamingPanelAnalyticsReport& Report) { Got = Report; bDone = true; });
		const std::string What = std::string("the batch kept after ") + Case.What;
		Check(bDone && Got.Taken == 0 && Got.Rejected == 0 && Got.StillQueued == 2 && Queue.QueuedCount() == 2
				&& World.Store->Stored.Num() == 2 && Got.Error.IsSet(), What.c_str());
		FGamingPanelAnalyticsReport Later = FlushNow(Queue, Panel);
		const std::string Again = std::string("sent again once the panel answers, after ") + Case.What;
		Check(Later.Taken == 2 && Queue.QueuedCount() == 0 && Panel.StoredIds.size() == 2, Again.c_str());
	}
}

void TooBigTogetherIsSentInHalves()
{
	FWorld World;
	FFakePanel Panel;
	Panel.MaxEventsPerBody = 3;
	FGamingPanelAnalyticsQueue Queue = World.MakeQueue();
	for (int Index = 0; Index < 10; ++Index) Queue.Track(TEXT("chunk"));
	Check(!Queue.Track(TEXT("big"), FString(std::wstring(5000, L'x'))), "properties over 4096 bytes refused at once");
	FGamingPanelAnalyticsReport Report = FlushNow(Queue, Panel);
	Check(Report.Taken == 10 && Queue.QueuedCount() == 0, "all taken, in smaller batches after a 413");
	Check(!Panel.BatchSizes.empty() && Panel.BatchSizes[0] <= 3, "halved until a batch fits");
	// UTF-8 bytes, as the panel counts: 2100 "é" are 4200 bytes in 2100 characters.
	Check(!Queue.Track(TEXT("accents"), FString(std::wstring(2100, L'\u00e9'))), "4200 bytes of accents refused");
	Check(Queue.Track(TEXT("accents"), FString(std::wstring(2000, L'\u00e9'))), "4000 bytes of accents taken");
}

void NamesAreCheckedAtOnce()
{
	FWorld World;
	FGamingPanelAnalyticsQueue Queue = World.MakeQueue();
	Check(!Queue.Track(TEXT("Level Complete")) && !Queue.Track(TEXT("")) && !Queue.Track(TEXT("1st")), "bad names refused");
	Check(Queue.Track(TEXT("a")) && Queue.Track(TEXT("boss_2_beaten")), "good names taken");
	Check(Queue.QueuedCount() == 2, "only the good ones queued");
}

void OldAndSurplusEventsAreDropped()
{
	FWorld World;
	FFakePanel Panel;
	FGamingPanelAnalyticsQueue Queue = World.MakeQueue();
	Queue.Track(TEXT("old_one"));
	World.Now += 8 * 86400; // a week and a day offline: the panel would refuse it
	Queue.Track(TEXT("new_one"));
	Check(Queue.QueuedCount() == 1 && Queue.GetQueued()[0].Name == TEXT("new_one"), "an event past 7 days dropped");
	for (int Index = 0; Index < FGamingPanelAnalyticsQueue::MaxQueued + 5; ++Index) Queue.Track(TEXT("spam"));
	Check(Queue.QueuedCount() == FGamingPanelAnalyticsQueue::MaxQueued, "at most MaxQueued kept");
	Check(Queue.GetQueued()[0].Name == TEXT("spam"), "the oldest went first");
}

void TrackedDuringAFlushIsKept()
{
	FWorld World;
	FFakePanel Panel;
	Panel.bHold = true;
	FGamingPanelAnalyticsQueue Queue = World.MakeQueue();
	Queue.Track(TEXT("first"));
	bool bDone = false;
	FGamingPanelAnalyticsReport Got;
	Queue.Flush(Panel.Send(), [&](const FGamingPanelAnalyticsReport& Report) { Got = Report; bDone = true; });
	Queue.Track(TEXT("second")); // while the batch with "first" is out
	FGamingPanelAnalyticsReport Second = FlushNow(Queue, Panel);
	Check(Second.StillQueued == 2 && Second.Taken == 0, "a second flush waits for the first");
	Panel.bHold = false;
	while (!Panel.Held.empty())
	{
		std::function<void()> Answer = Panel.Held.front();
		Panel.Held.erase(Panel.Held.begin());
		Answer();
	}
	Check(bDone && Got.Taken == 2 && Queue.QueuedCount() == 0, "the flush takes the first, then the one tracked meanwhile");
	Check(Panel.StoredIds.size() == 2, "both reached the panel, once each");
}
void StampedWithThePanelsClock()
{
	FWorld World;
	FFakePanel Panel;
	Panel.DeviceNow = &World.Now;
	Panel.BehindSeconds = 600; // the device's clock runs 10 minutes fast (set forward to skip a game timer)
	{
		// An earlier run, offline all along: its event has the device's time (nothing told the panel's clock).
		Panel.bOnline = false;
		FGamingPanelAnalyticsQueue Earlier = World.MakeQueue();
		Earlier.Track(TEXT("from_last_run"));
		Check(FlushNow(Earlier, Panel).StillQueued == 1, "offline: kept");
	}
	Panel.bOnline = true;
	FGamingPanelAnalyticsQueue Queue = World.MakeQueue(); // the next run
	Queue.Track(TEXT("before_any_answer")); // the device's time: the offset is not known yet
	Panel.AnswerStatus = 503;
	FGamingPanelAnalyticsReport Down = FlushNow(Queue, Panel); // its answer still tells the panel's clock
	Check(Down.StillQueued == 2, "a 503 keeps the batch");
	World.Now += 30;
	Queue.Track(TEXT("level_complete"));
	Panel.AnswerStatus = 202;
	FGamingPanelAnalyticsReport Report = FlushNow(Queue, Panel);
	Check(Report.Rejected == 0, "no event refused as event_out_of_range");
	Check(Report.Taken == 3 && Queue.QueuedCount() == 0 && Panel.TakenAt.size() == 3, "all three taken by the panel");
	const int64 PanelNow = World.Now - 600;
	Check(Panel.TakenAt[L"level_complete"] == PanelNow, "an event tracked once the offset is known: the panel's now");
	Check(Panel.TakenAt[L"before_any_answer"] == PanelNow - 30, "tracked before any answer: corrected by the offset");
	Check(Panel.TakenAt[L"from_last_run"] == PanelNow, "uncorrected from an earlier run and ahead: sent as the panel's now");

	// Trimmed by the panel's clock too: within the panel's 7 days, though past them by the device's.
	FGamingPanelAnalyticsEvent Old;
	Old.EventId = TEXT("old");
	Old.Name = TEXT("old_but_not_too_old");
	Old.OccurredAt = PanelNow - FGamingPanelAnalyticsQueue::MaxAgeSeconds + 100;
	Old.PropertiesJson = TEXT("{}");
	TArray<FGamingPanelAnalyticsEvent> Stored;
	Stored.Add(Old);
	World.Store->Write(Stored);
	Queue.Reload();
	Check(Queue.QueuedCount() == 1, "an event within 7 days by the panel's clock kept (trimmed by the corrected clock)");
}
void TracksDoNotRewriteTheFile()
{
	FWorld World;
	FGamingPanelAnalyticsQueue Queue = World.MakeQueue();
	const int32 WritesBefore = World.Store->Writes;
	for (int Index = 0; Index < 2000; ++Index) Queue.Track(TEXT("level_complete"), TEXT("{\"level\":3}"));
	const int32 Writes = World.Store->Writes - WritesBefore;
	char What[160];
	std::snprintf(What, sizeof(What), "2,000 Tracks to write the queue once per %d events, not per Track (%d writes)",
		FGamingPanelAnalyticsQueue::PersistEveryEvents, Writes);
	Check(Writes == 2000 / FGamingPanelAnalyticsQueue::PersistEveryEvents, What);
	Check(World.Store->Stored.Num() == 2000 && Queue.QueuedCount() == 2000, "the 2,000th event on disk with the 40th write");
	Check(World.TimersAsked.size() == 1, "one write timer asked for, not one per Track");
}

void PendingEventsWrittenWithinTwoSeconds()
{
	FWorld World;
	FGamingPanelAnalyticsQueue Queue = World.MakeQueue();
	Queue.Track(TEXT("level_start"));
	Queue.Track(TEXT("level_complete"));
	Queue.Track(TEXT("boss_defeated"));
	Check(World.Store->Writes == 0 && Queue.HasUnsavedChanges(), "three Tracks: kept in memory, nothing written yet");
	Check(World.TimersAsked.size() == 1 && World.TimersAsked[0] == FGamingPanelAnalyticsQueue::PersistDelaySeconds,
		"a write asked for 2 s after the first event not on disk");
	Queue.WriteDue(); // the timer fires
	Check(World.Store->Writes == 1 && World.Store->Stored.Num() == 3 && !Queue.HasUnsavedChanges(), "the timer writes all three, once");
	Queue.WriteDue();
	Check(World.Store->Writes == 1, "nothing changed since: no write");
	Queue.Track(TEXT("level_start"));
	Check(World.TimersAsked.size() == 2 && World.Store->Writes == 1, "the next event asks for the next timed write");
}

void SaveNowWritesWhatIsPending()
{
	FWorld World;
	{
		FGamingPanelAnalyticsQueue Queue = World.MakeQueue();
		for (int Index = 0; Index < 7; ++Index) Queue.Track(TEXT("tutorial_step"), FString(L"{\"step\":" + std::to_wstring(Index) + L"}"));
		Check(World.Store->Stored.Num() == 0, "seven Tracks: pending (less than 50 and no timer yet)");
		Queue.SaveNow(); // the game pauses or quits
		Check(World.Store->Writes == 1 && World.Store->Stored.Num() == 7 && !Queue.HasUnsavedChanges(), "SaveNow writes them at once");
		Queue.SaveNow();
		Check(World.Store->Writes == 1, "a second SaveNow with nothing new writes nothing");
	}
	FGamingPanelAnalyticsQueue Restarted = World.MakeQueue(); // the game started again
	Check(Restarted.QueuedCount() == 7 && Restarted.GetQueued()[0].PropertiesJson == TEXT("{\"step\":0}")
			&& Restarted.GetQueued()[6].PropertiesJson == TEXT("{\"step\":6}"),
		"a restart after SaveNow reloads all seven, in order");
	FFakePanel Panel;
	Check(FlushNow(Restarted, Panel).Taken == 7 && Panel.StoredIds.size() == 7, "and sends them");
	Check(World.MakeQueue().QueuedCount() == 0, "the flush wrote the empty queue: nothing sent again after another restart");
}

void ByteCapDropsTheOldest()
{
	FWorld World;
	FFakePanel Panel;
	Panel.bOnline = false;
	FGamingPanelAnalyticsQueue Queue = World.MakeQueue();
	// About 4.1 KB each: 1,200 of them are 4.9 MB, over the byte cap well before the count cap (2,000).
	for (int N = 0; N < 1200; ++N) Check(Queue.Track(TEXT("level_complete"), BigProperties(N)), "a 4 KB event queued");
	FlushNow(Queue, Panel); // offline: kept, and written
	const int32 Kept = Queue.QueuedCount();
	char What[160];
	std::snprintf(What, sizeof(What), "past 4 MB the queue drops events (%d of 1200 kept)", Kept);
	Check(Kept < 1200 && Kept > 900, What);
	Check(Kept > 0 && NumberIn(Queue.GetQueued()[0]) == 1200 - Kept && NumberIn(Queue.GetQueued()[Kept - 1]) == 1199,
		"the oldest went first, the newest are kept");
	const std::string File = QueueFileJson(World.Store->Stored);
	std::snprintf(What, sizeof(What), "at most 4 MB of events in the file (%zu bytes)", File.size());
	Check(World.Store->Stored.Num() == Kept && File.size() <= static_cast<size_t>(FGamingPanelAnalyticsQueue::MaxQueuedBytes), What);
	Check(static_cast<int64>(File.size()) == 13 + Queue.QueuedBytes() - 1, "QueuedBytes is the file's JSON, byte for byte");
	FGamingPanelAnalyticsQueue Restarted = World.MakeQueue();
	Check(Restarted.QueuedCount() == Kept && Restarted.QueuedBytes() == Queue.QueuedBytes(), "the capped queue survives a restart");

	// A file over the cap (an older kit kept 2,000 events of any size) is cut to it when read.
	TArray<FGamingPanelAnalyticsEvent> Old;
	for (int N = 0; N < 1500; ++N)
	{
		FGamingPanelAnalyticsEvent Event;
		Event.EventId = FString(L"old" + std::to_wstring(N));
		Event.Name = TEXT("level_complete");
		Event.OccurredAt = World.Now;
		Event.PropertiesJson = BigProperties(N);
		Old.Add(Event);
	}
	World.Store->Write(Old);
	FGamingPanelAnalyticsQueue Loaded = World.MakeQueue();
	Check(Loaded.QueuedCount() < 1100 && Loaded.QueuedBytes() <= FGamingPanelAnalyticsQueue::MaxQueuedBytes
			&& NumberIn(Loaded.GetQueued()[Loaded.QueuedCount() - 1]) == 1499,
		"a stored queue over 4 MB is cut to it on loading, the newest kept");
}

void RetryAfterIsWaitedFor()
{
	FWorld World;
	FFakePanel Panel;
	FGamingPanelAnalyticsQueue Queue = World.MakeQueue();
	Queue.Track(TEXT("level_start"));
	Queue.Track(TEXT("level_complete"));
	Panel.AnswerStatus = 429;
	Panel.RetryAfter = 120.f;
	FGamingPanelAnalyticsReport Limited = FlushNow(Queue, Panel);
	Check(Limited.StillQueued == 2 && Limited.Error.Status == 429 && Limited.Error.RetryAfterSeconds == 120.f,
		"429 with Retry-After: 120 keeps the batch, the wait on the report's error");
	Panel.AnswerStatus = 202;
	Panel.RetryAfter = -1.f;
	World.Now += 30; // the game flushes again half a minute later
	const size_t BatchesBefore = Panel.BatchSizes.size();
	FGamingPanelAnalyticsReport Early = FlushNow(Queue, Panel);
	Check(Panel.BatchSizes.size() == BatchesBefore && Early.Taken == 0 && Early.StillQueued == 2,
		"a flush before Retry-After has passed sends nothing");
	Check(Early.Error.Status == 429 && Early.Error.Code == TEXT("rate_limited") && Early.Error.RetryAfterSeconds == 90.f,
		"and answers the 429 again with the 90 s left");
	World.Now += 90;
	FGamingPanelAnalyticsReport Later = FlushNow(Queue, Panel);
	Check(Later.Taken == 2 && Queue.QueuedCount() == 0, "once it has passed, the flush sends them");

	Queue.Track(TEXT("level_start"));
	Panel.AnswerStatus = 503;
	Panel.RetryAfter = 5.f;
	Check(FlushNow(Queue, Panel).Error.RetryAfterSeconds == 5.f, "503 with Retry-After: 5");
	Panel.AnswerStatus = 202;
	World.Now += 4;
	Check(FlushNow(Queue, Panel).Taken == 0, "not sent 4 s later");
	World.Now += 1;
	Check(FlushNow(Queue, Panel).Taken == 1, "sent 5 s later");
	Queue.Track(TEXT("level_start"));
	Panel.AnswerStatus = 503;
	Panel.RetryAfter = -1.f;
	FlushNow(Queue, Panel);
	Panel.AnswerStatus = 202;
	Check(FlushNow(Queue, Panel).Taken == 1, "a 503 without Retry-After: the next flush sends");
}
} // namespace

int main()
{
	struct { const char* Name; void (*Run)(); } Cases[] = {
		{"events tracked offline stay queued (and survive a restart), then go in batches of 100 with their ids", OfflineThenBatched},
		{"207 drops what the panel refused, 5xx keeps, a batch refused whole is dropped", AnswersDecideWhatStays},
		{"answers that are not the panel's (an empty 2xx, a portal's page, a proxy's HTML 400) keep the batch", NotThePanelsAnswerKeepsTheBatch},
		{"a name the panel refuses is refused at once", NamesAreCheckedAtOnce},
		{"a batch too big together (413) is sent again in halves; big properties are refused at once", TooBigTogetherIsSentInHalves},
		{"events past 7 days and past MaxQueued are dropped, the oldest first", OldAndSurplusEventsAreDropped},
		{"an event tracked while a batch is out is kept and sent next", TrackedDuringAFlushIsKept},
		{"events are stamped with the panel's clock (its Date header), not a device clock 10 minutes fast", StampedWithThePanelsClock},
		{"2,000 Tracks do not write the queue 2,000 times: once per 50 events (or per timer)", TracksDoNotRewriteTheFile},
		{"events not on disk yet are written when the 2 s timer fires, once", PendingEventsWrittenWithinTwoSeconds},
		{"SaveNow (pause, quit) writes what is pending; a restart after it reloads the queue", SaveNowWritesWhatIsPending},
		{"the queue keeps at most 4 MB, dropping the oldest events first (also from a file over it)", ByteCapDropsTheOldest},
		{"after a 429 or 503 with Retry-After no flush sends before it has passed; the error says how long is left", RetryAfterIsWaitedFor},
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
	std::printf("unreal analytics queue: %d passed, %d failed (%d checks)\n", CaseCount - CasesFailed, CasesFailed, Checks);
	return Failed == 0 ? 0 : 1;
}
