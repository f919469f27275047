// Gaming Panel Unreal example: the analytics queue's decisions (see GamingPanelAnalytics.h). Core containers only,
// so scripts/check_examples.sh builds and runs this file with Tests/AnalyticsQueueTest.cpp.
#include "GamingPanelAnalytics.h"

namespace
{
	/** UTF-8 bytes of Text as a JSON string's contents ('"' and '\\' escaped, a control character as \\u00XX at most). */
	int64 JsonStringBytes(const FString& Text)
	{
		int64 Count = 0;
		const TCHAR* Chars = *Text;
		const int32 Length = Text.Len();
		for (int32 Index = 0; Index < Length; ++Index)
		{
			const uint32 Code = static_cast<uint32>(Chars[Index]);
			if (Code == '"' || Code == '\\') Count += 2;
			else if (Code < 0x20) Count += 6;
			else if (Code < 0x80) Count += 1;
			else if (Code < 0x800) Count += 2;
			else if (Code >= 0xD800 && Code <= 0xDBFF) Count += 4; // a UTF-16 surrogate pair: 4 bytes for both halves
			else if (Code >= 0xDC00 && Code <= 0xDFFF) Count += 0;
			else if (Code < 0x10000) Count += 3;
			else Count += 4;
		}
		return Count;
	}

	int64 DecimalDigits(int64 Value)
	{
		int64 Count = Value < 0 ? 2 : 1;
		for (int64 Left = Value < 0 ? -(Value / 10) : Value / 10; Left > 0; Left /= 10) ++Count;
		return Count;
	}
}

FGamingPanelAnalyticsQueue::FGamingPanelAnalyticsQueue(TSharedRef<IGamingPanelAnalyticsStore> InStore,
	TFunction<FString()> InNewEventId, TFunction<int64()> InNowUnixSeconds, FScheduleWrite InScheduleWrite)
	: Store(InStore)
	, NewEventId(MoveTemp(InNewEventId))
	, NowUnixSeconds(MoveTemp(InNowUnixSeconds))
	, ScheduleWrite(MoveTemp(InScheduleWrite))
{
}

int64 FGamingPanelAnalyticsQueue::SizeOf(const FGamingPanelAnalyticsEvent& Event)
{
	// {"event_id":"","name":"","occurred_at_unix":,"properties_json":""} is 66 bytes, and 1 for the comma.
	return 67 + JsonStringBytes(Event.EventId) + JsonStringBytes(Event.Name) + DecimalDigits(Event.OccurredAt)
		+ JsonStringBytes(Event.PropertiesJson);
}

void FGamingPanelAnalyticsQueue::Reload()
{
	++Generation; // a flush out now belongs to what was loaded before
	bFlushing = false;
	bDirty = false; // what was not written belonged to what was loaded before
	Unsaved = 0;
	TArray<FGamingPanelAnalyticsEvent> Loaded;
	Queued = Store->Read(Loaded) ? Loaded : TArray<FGamingPanelAnalyticsEvent>();
	Bytes = 0;
	for (const FGamingPanelAnalyticsEvent& Event : Queued) Bytes += SizeOf(Event);
	if (Trim()) Changed(0);
}

void FGamingPanelAnalyticsQueue::Changed(int32 Events)
{
	bDirty = true;
	Unsaved += Events;
	if (Unsaved >= PersistEveryEvents)
	{
		Persist();
		return;
	}
	if (!bWriteScheduled && ScheduleWrite)
	{
		bWriteScheduled = true;
		ScheduleWrite(PersistDelaySeconds);
	}
}

void FGamingPanelAnalyticsQueue::Persist()
{
	if (!bDirty) return;
	bDirty = false;
	Unsaved = 0;
	Store->Write(Queued);
}

void FGamingPanelAnalyticsQueue::WriteDue()
{
	bWriteScheduled = false;
	Persist();
}

void FGamingPanelAnalyticsQueue::SaveNow()
{
	Persist();
	Store->WaitForWrites();
}

bool FGamingPanelAnalyticsQueue::IsValidName(const FString& Name)
{
	const int32 Length = Name.Len();
	if (Length < 1 || Length > 64) return false;
	const TCHAR* Chars = *Name;
	if (Chars[0] < 'a' || Chars[0] > 'z') return false;
	for (int32 Index = 1; Index < Length; ++Index)
	{
		const TCHAR Char = Chars[Index];
		const bool bAllowed = (Char >= 'a' && Char <= 'z') || (Char >= '0' && Char <= '9') || Char == '_';
		if (!bAllowed) return false;
	}
	return true;
}

bool FGamingPanelAnalyticsQueue::Track(const FString& Name, const FString& PropertiesJson)
{
	// The panel refuses properties over MaxPropertiesBytes of UTF-8 (in a 207, after which the event
	// leaves the queue): refused here at once instead.
	if (!IsValidName(Name) || FTCHARToUTF8(*PropertiesJson).Length() > MaxPropertiesBytes) return false;
	FGamingPanelAnalyticsEvent Event;
	Event.EventId = NewEventId();
	Event.Name = Name;
	Event.OccurredAt = CorrectedNow();
	Event.PropertiesJson = PropertiesJson.IsEmpty() ? FString(TEXT("{}")) : PropertiesJson;
	if (!bClockKnown) DeviceTimed.Add(Event.EventId);
	Bytes += SizeOf(Event);
	Queued.Add(Event);
	Trim();
	// In memory: written within PersistDelaySeconds, or now once PersistEveryEvents wait (not the whole file per Track).
	Changed(1);
	return true;
}

void FGamingPanelAnalyticsQueue::LearnPanelClock(int64 PanelUnixSeconds)
{
	SetClockOffset(PanelUnixSeconds - NowUnixSeconds());
}

void FGamingPanelAnalyticsQueue::SetClockOffset(int64 OffsetSeconds)
{
	ClockOffset = OffsetSeconds;
	bClockKnown = true;
	if (DeviceTimed.Num() == 0) return;
	// Tracked this run before the offset was known: the device's time then, corrected now (same run, same clock).
	bool bChanged = false;
	for (FGamingPanelAnalyticsEvent& Event : Queued)
	{
		for (int32 Index = 0; Index < DeviceTimed.Num(); ++Index)
		{
			if (DeviceTimed[Index] != Event.EventId) continue;
			Bytes -= SizeOf(Event);
			Event.OccurredAt += OffsetSeconds;
			Bytes += SizeOf(Event);
			DeviceTimed.RemoveAt(Index);
			bChanged = true;
			break;
		}
	}
	if (bChanged) Changed(0);
}

bool FGamingPanelAnalyticsQueue::Trim()
{
	const int32 Before = Queued.Num();
	const int64 Oldest = CorrectedNow() - MaxAgeSeconds;
	for (int32 Index = Queued.Num() - 1; Index >= 0; --Index)
	{
		if (Queued[Index].OccurredAt >= Oldest) continue;
		Bytes -= SizeOf(Queued[Index]);
		Queued.RemoveAt(Index);
	}
	// The oldest first, past the count and then past the bytes; the newest event always stays.
	int32 Drop = FMath::Max(0, Queued.Num() - MaxQueued);
	int64 Left = Bytes;
	for (int32 Index = 0; Index < Drop; ++Index) Left -= SizeOf(Queued[Index]);
	while (Left > MaxQueuedBytes && Drop < Queued.Num() - 1) Left -= SizeOf(Queued[Drop++]);
	if (Drop > 0)
	{
		Queued.RemoveAt(0, Drop);
		Bytes = Left;
	}
	return Queued.Num() != Before;
}

void FGamingPanelAnalyticsQueue::RemoveSent(const TArray<FString>& SentIds)
{
	for (int32 Index = Queued.Num() - 1; Index >= 0; --Index)
	{
		for (const FString& Id : SentIds)
		{
			if (Queued[Index].EventId == Id)
			{
				Bytes -= SizeOf(Queued[Index]);
				Queued.RemoveAt(Index);
				break;
			}
		}
	}
}

void FGamingPanelAnalyticsQueue::Flush(FSend Send, FOnFlushed OnComplete)
{
	TSharedRef<FGamingPanelAnalyticsReport> Report = MakeShared<FGamingPanelAnalyticsReport>();
	if (bFlushing)
	{
		// One flush at a time: the other one is sending this very queue.
		Report->StillQueued = Queued.Num();
		OnComplete(*Report);
		return;
	}
	if (Trim()) Changed(0);
	if (RetryAfterUntil > 0)
	{
		// The panel asked for Retry-After seconds of quiet (429, 503): nothing goes before then. A wait longer than
		// the one asked means the device's clock went back: it ends.
		const int64 Left = RetryAfterUntil - NowUnixSeconds();
		if (Left > 0 && Left <= RetryAfterWait && Queued.Num() > 0)
		{
			Report->Error = RetryAfterError;
			Report->Error.RetryAfterSeconds = static_cast<float>(Left);
			Report->StillQueued = Queued.Num();
			FinishFlush(*Report, OnComplete);
			return;
		}
		if (Left <= 0 || Left > RetryAfterWait) RetryAfterUntil = 0;
	}
	bFlushing = true;
	BatchSize = MaxBatch;
	SendNext(Report, MoveTemp(Send), MoveTemp(OnComplete));
}

void FGamingPanelAnalyticsQueue::SendNext(TSharedRef<FGamingPanelAnalyticsReport> Report, FSend Send, FOnFlushed OnComplete)
{
	if (Queued.Num() == 0)
	{
		bFlushing = false;
		FinishFlush(*Report, OnComplete);
		return;
	}
	TArray<FGamingPanelAnalyticsEvent> Batch;
	for (int32 Index = 0; Index < Queued.Num() && Index < BatchSize; ++Index) Batch.Add(Queued[Index]);
	// A time past the panel's now (a device clock set forward, uncorrected): sent as now, which the panel takes.
	const int64 Now = CorrectedNow();
	for (FGamingPanelAnalyticsEvent& Event : Batch)
	{
		if (Event.OccurredAt > Now + MaxAheadSeconds) Event.OccurredAt = Now;
	}
	const int32 Sent = Batch.Num();
	TArray<FString> SentIds;
	for (const FGamingPanelAnalyticsEvent& Event : Batch) SentIds.Add(Event.EventId);
	const int32 SentInGeneration = Generation;
	const bool bSending = Send(Batch,
		[this, Report, Send, OnComplete, Sent, SentIds, SentInGeneration](const FGamingPanelAnalyticsAnswer& Answer)
		{
			if (Answer.PanelDate > 0) LearnPanelClock(Answer.PanelDate);
			if (Generation != SentInGeneration)
			{
				// Reloaded meanwhile (another player logged in): the batch stays in its player's file, and its
				// event ids make a resend count once.
				Report->StillQueued = Queued.Num();
				OnComplete(*Report);
				return;
			}
			if (!Answer.bOk && Answer.Error.Status == 413 && Sent > 1)
			{
				// Too big together (the panel's body limit): the same events again, in halves.
				BatchSize = Sent / 2;
				SendNext(Report, Send, OnComplete);
				return;
			}
			// Only the panel's receipt (202/207 carrying `accepted`) says the events arrived, and only its problem
			// document says a 400 is about them: a proxy's or a captive portal's answer says neither.
			const bool bDelivered = Answer.bOk && (Answer.Status == 202 || Answer.Status == 207) && Answer.bAccepted;
			const bool bRefusedWhole = !Answer.bOk && !Answer.Error.IsTransient()
				&& ((Answer.Error.Status == 400 && Answer.bProblemDocument) || Answer.Error.Status == 413);
			if (!bDelivered && !bRefusedWhole)
			{
				// No answer, 429, 5xx, a session not renewed, an answer that is not the panel's: everything stays for
				// the next Flush.
				Report->Error = Answer.Error;
				if (Answer.bOk)
				{
					Report->Error.Status = Answer.Status;
					Report->Error.Code = TEXT("invalid_response");
					Report->Error.Detail = TEXT("The answer to POST analytics/events is not the panel's; the batch is kept.");
				}
				if (!Answer.bOk && Answer.Error.RetryAfterSeconds > 0.f)
				{
					// 429 / 503 with Retry-After: no flush sends before it has passed.
					int64 Wait = static_cast<int64>(Answer.Error.RetryAfterSeconds);
					if (static_cast<float>(Wait) < Answer.Error.RetryAfterSeconds) ++Wait;
					RetryAfterWait = Wait;
					RetryAfterUntil = NowUnixSeconds() + Wait;
					RetryAfterError = Answer.Error;
				}
				Report->StillQueued = Queued.Num();
				bFlushing = false;
				FinishFlush(*Report, OnComplete);
				return;
			}
			const int32 Refused = bRefusedWhole ? Sent : Answer.Rejected;
			Report->Taken += Sent - Refused;
			Report->Rejected += Refused;
			// By id: events tracked meanwhile (or trimmed) do not shift what this batch was. Settled events leave the
			// file at once, so a restart does not send them again.
			RemoveSent(SentIds);
			bDirty = true;
			Persist();
			SendNext(Report, Send, OnComplete);
		});
	if (!bSending)
	{
		Report->StillQueued = Queued.Num();
		bFlushing = false;
		FinishFlush(*Report, OnComplete);
	}
}

void FGamingPanelAnalyticsQueue::FinishFlush(const FGamingPanelAnalyticsReport& Report, const FOnFlushed& OnComplete)
{
	// What is tracked, trimmed or corrected by now is written when a flush ends, whatever its outcome.
	Persist();
	OnComplete(Report);
}
