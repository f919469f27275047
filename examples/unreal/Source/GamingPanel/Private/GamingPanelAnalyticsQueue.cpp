// Gaming Panel Unreal example: the analytics queue's decisions (see GamingPanelAnalytics.h). Core containers only,
// so scripts/check_examples.sh builds and runs this file with Tests/AnalyticsQueueTest.cpp.
#include "GamingPanelAnalytics.h"

FGamingPanelAnalyticsQueue::FGamingPanelAnalyticsQueue(TSharedRef<IGamingPanelAnalyticsStore> InStore,
	TFunction<FString()> InNewEventId, TFunction<int64()> InNowUnixSeconds)
	: Store(InStore)
	, NewEventId(MoveTemp(InNewEventId))
	, NowUnixSeconds(MoveTemp(InNowUnixSeconds))
{
}

void FGamingPanelAnalyticsQueue::Reload()
{
	++Generation; // a flush out now belongs to what was loaded before
	bFlushing = false;
	TArray<FGamingPanelAnalyticsEvent> Loaded;
	Queued = Store->Read(Loaded) ? Loaded : TArray<FGamingPanelAnalyticsEvent>();
	if (Trim()) Store->Write(Queued);
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
	Queued.Add(Event);
	Trim();
	Store->Write(Queued);
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
			Event.OccurredAt += OffsetSeconds;
			DeviceTimed.RemoveAt(Index);
			bChanged = true;
			break;
		}
	}
	if (bChanged) Store->Write(Queued);
}

bool FGamingPanelAnalyticsQueue::Trim()
{
	const int32 Before = Queued.Num();
	const int64 Oldest = CorrectedNow() - MaxAgeSeconds;
	for (int32 Index = Queued.Num() - 1; Index >= 0; --Index)
	{
		if (Queued[Index].OccurredAt < Oldest) Queued.RemoveAt(Index);
	}
	if (Queued.Num() > MaxQueued) RemoveFirst(Queued.Num() - MaxQueued);
	return Queued.Num() != Before;
}

void FGamingPanelAnalyticsQueue::RemoveFirst(int32 Count)
{
	TArray<FGamingPanelAnalyticsEvent> Kept;
	for (int32 Index = Count; Index < Queued.Num(); ++Index) Kept.Add(Queued[Index]);
	Queued = Kept;
}

void FGamingPanelAnalyticsQueue::RemoveSent(const TArray<FString>& SentIds)
{
	for (int32 Index = Queued.Num() - 1; Index >= 0; --Index)
	{
		for (const FString& Id : SentIds)
		{
			if (Queued[Index].EventId == Id)
			{
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
	if (Trim()) Store->Write(Queued);
	bFlushing = true;
	BatchSize = MaxBatch;
	SendNext(Report, MoveTemp(Send), MoveTemp(OnComplete));
}

void FGamingPanelAnalyticsQueue::SendNext(TSharedRef<FGamingPanelAnalyticsReport> Report, FSend Send, FOnFlushed OnComplete)
{
	if (Queued.Num() == 0)
	{
		bFlushing = false;
		OnComplete(*Report);
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
				Report->StillQueued = Queued.Num();
				bFlushing = false;
				OnComplete(*Report);
				return;
			}
			const int32 Refused = bRefusedWhole ? Sent : Answer.Rejected;
			Report->Taken += Sent - Refused;
			Report->Rejected += Refused;
			// By id: events tracked meanwhile (or trimmed) do not shift what this batch was.
			RemoveSent(SentIds);
			Store->Write(Queued);
			SendNext(Report, Send, OnComplete);
		});
	if (!bSending)
	{
		Report->StillQueued = Queued.Num();
		bFlushing = false;
		OnComplete(*Report);
	}
}
