// Gaming Panel Unreal example: the game's analytics events, with the subsystem's HTTP and the player's file (see
// GamingPanelAnalytics.h; the decisions are FGamingPanelAnalyticsQueue's, in GamingPanelAnalyticsQueue.cpp).
#include "GamingPanelAnalytics.h"

#include "GamingPanelHttp.h"
#include "GamingPanelModule.h"
#include "GamingPanelSubsystem.h"
#include "Async/Async.h"
#include "Containers/Ticker.h"
#include "Misc/CoreDelegates.h"
#include "Misc/Guid.h"
#include "Misc/Paths.h"

namespace
{
	FString QueuePath(const FString& Player)
	{
		return FPaths::Combine(FPaths::ProjectSavedDir(), TEXT("GamingPanel"),
			Player.IsEmpty() ? FString(TEXT("nobody")) : Player, TEXT("analytics_queue.json"));
	}

	/** Writes Events as the queue file at Path, replaced whole in one step (any thread). */
	void WriteQueueFile(const FString& Path, const TArray<FGamingPanelAnalyticsEvent>& Events)
	{
		TArray<TSharedPtr<FJsonValue>> Items;
		for (const FGamingPanelAnalyticsEvent& Event : Events)
		{
			TSharedPtr<FJsonObject> Json = MakeShared<FJsonObject>();
			Json->SetStringField(TEXT("event_id"), Event.EventId);
			Json->SetStringField(TEXT("name"), Event.Name);
			Json->SetNumberField(TEXT("occurred_at_unix"), static_cast<double>(Event.OccurredAt));
			Json->SetStringField(TEXT("properties_json"), Event.PropertiesJson);
			Items.Add(MakeShared<FJsonValueObject>(Json));
		}
		TSharedRef<FJsonObject> Saved = MakeShared<FJsonObject>();
		Saved->SetArrayField(TEXT("events"), Items);
		if (!GamingPanelFiles::SaveText(FGamingPanelHttp::ToJsonString(Saved), Path))
		{
			UE_LOG(LogGamingPanel, Warning, TEXT("Could not save the analytics queue."));
		}
	}

	/**
	 * The queue file's writes, off the game thread: one at a time and in order. A snapshot that waits while one is
	 * written is replaced by a newer one (only the newest matters). Touched on the game thread only; the worker gets
	 * its own copy of the path and the events.
	 */
	struct FQueueWriter
	{
		bool bWaiting = false;
		FString WaitingPath;
		TArray<FGamingPanelAnalyticsEvent> Waiting;
		TFuture<void> Running;
		/** A ticker is waiting for Running to end, to start the snapshot waiting. */
		bool bTicking = false;

		bool IsBusy() const { return Running.IsValid() && !Running.IsReady(); }

		void StartWaiting()
		{
			bWaiting = false;
			Running = Async(EAsyncExecution::ThreadPool, [Path = MoveTemp(WaitingPath), Events = MoveTemp(Waiting)]()
				{
					WriteQueueFile(Path, Events);
				});
			WaitingPath.Reset();
			Waiting.Reset();
		}

		/** Everything handed over so far written, the last one on this thread. */
		void Finish()
		{
			if (Running.IsValid()) Running.Wait();
			if (!bWaiting) return;
			bWaiting = false;
			WriteQueueFile(WaitingPath, Waiting);
			WaitingPath.Reset();
			Waiting.Reset();
		}
	};

	/** Starts the snapshot waiting, now or (core ticker) once the write under way has ended. */
	void Pump(const TSharedRef<FQueueWriter>& Writer)
	{
		if (!Writer->IsBusy())
		{
			if (Writer->bWaiting) Writer->StartWaiting();
			return;
		}
		if (Writer->bTicking) return;
		Writer->bTicking = true;
		FTSTicker::GetCoreTicker().AddTicker(FTickerDelegate::CreateLambda([Writer](float /*DeltaTime*/)
			{
				if (Writer->IsBusy()) return true;
				if (Writer->bWaiting)
				{
					Writer->StartWaiting();
					return true;
				}
				Writer->bTicking = false;
				return false;
			}), 0.1f);
	}

	/** The queue in Saved/GamingPanel/<player>/analytics_queue.json, replaced whole in one step (GamingPanelFiles),
	 *  written on a worker thread (FQueueWriter). */
	class FGamingPanelAnalyticsFile : public IGamingPanelAnalyticsStore
	{
	public:
		/** InPlayer: the player whose queue is loaded (FGamingPanelAnalytics::LoadedFor), not whoever is logged in
		 *  when a write happens. */
		explicit FGamingPanelAnalyticsFile(const FString* InPlayer) : Player(InPlayer) {}

		virtual bool Read(TArray<FGamingPanelAnalyticsEvent>& OutEvents) override
		{
			Writer->Finish(); // never read a file a write is still replacing
			bMemoryOnly = false;
			FString Text;
			TSharedPtr<FJsonObject> Saved;
			const TArray<TSharedPtr<FJsonValue>>* Events = nullptr;
			// A queue file that cannot be read is never written over by the next Track (its events would be lost):
			// moved aside, and the queue starts empty, or, when it cannot be moved, the queue stays in memory.
			switch (GamingPanelFiles::LoadState(Text, QueuePath(*Player), [&Saved, &Events](const FString& Loaded)
				{
					const TSharedPtr<FJsonValue> Parsed = FGamingPanelHttp::ParseJson(Loaded);
					Saved = Parsed.IsValid() ? Parsed->AsObject() : nullptr;
					Events = Saved.IsValid() ? GamingPanelJson::GetArray(*Saved, TEXT("events")) : nullptr;
					return Events != nullptr;
				}, TEXT("Analytics")))
			{
			case GamingPanelFiles::EStateFile::Read:
				break;
			case GamingPanelFiles::EStateFile::MemoryOnly:
				bMemoryOnly = true;
				return false;
			default:
				return false;
			}
			for (const TSharedPtr<FJsonValue>& Item : *Events)
			{
				const TSharedPtr<FJsonObject> Json = Item.IsValid() ? Item->AsObject() : nullptr;
				if (!Json.IsValid()) continue;
				FGamingPanelAnalyticsEvent Event;
				Event.EventId = GamingPanelJson::GetString(*Json, TEXT("event_id"));
				Event.Name = GamingPanelJson::GetString(*Json, TEXT("name"));
				Event.OccurredAt = GamingPanelJson::GetInt(*Json, TEXT("occurred_at_unix"));
				Event.PropertiesJson = GamingPanelJson::GetString(*Json, TEXT("properties_json"), TEXT("{}"));
				if (!Event.EventId.IsEmpty() && FGamingPanelAnalyticsQueue::IsValidName(Event.Name)) OutEvents.Add(Event);
			}
			return true;
		}

		virtual void Write(const TArray<FGamingPanelAnalyticsEvent>& Events) override
		{
			if (bMemoryOnly) return; // an unreadable file is not written over (GamingPanelFiles::LoadState)
			const FString Path = QueuePath(*Player);
			// A snapshot of another player's queue still waiting is that player's last: written first.
			if (Writer->bWaiting && Writer->WaitingPath != Path) Writer->Finish();
			Writer->bWaiting = true;
			Writer->WaitingPath = Path;
			Writer->Waiting = Events;
			Pump(Writer);
		}

		virtual void WaitForWrites() override
		{
			Writer->Finish();
		}

	private:
		const FString* Player;
		bool bMemoryOnly = false;
		/** Shared with the ticker that starts the next write. */
		TSharedRef<FQueueWriter> Writer = MakeShared<FQueueWriter>();
	};

	/** One event as POST analytics/events takes it. */
	TSharedPtr<FJsonValue> EventJson(const FGamingPanelAnalyticsEvent& Event)
	{
		TSharedPtr<FJsonObject> Json = MakeShared<FJsonObject>();
		Json->SetStringField(TEXT("event_id"), Event.EventId);
		Json->SetStringField(TEXT("name"), Event.Name);
		Json->SetStringField(TEXT("occurred_at"), FDateTime::FromUnixTimestamp(Event.OccurredAt).ToIso8601());
		const TSharedPtr<FJsonValue> Properties = FGamingPanelHttp::ParseJson(Event.PropertiesJson);
		const TSharedPtr<FJsonObject> PropertiesObject = Properties.IsValid() ? Properties->AsObject() : nullptr;
		Json->SetObjectField(TEXT("properties"), PropertiesObject.IsValid() ? PropertiesObject : MakeShared<FJsonObject>());
		return MakeShared<FJsonValueObject>(Json);
	}
}

FGamingPanelAnalytics::FGamingPanelAnalytics(UGamingPanelSubsystem* InSubsystem)
	: Subsystem(InSubsystem)
	, Queue(MakeShared<FGamingPanelAnalyticsFile>(&LoadedFor),
		[] { return FGuid::NewGuid().ToString(EGuidFormats::Digits); },
		[] { return FDateTime::UtcNow().ToUnixTimestamp(); },
		[this](float DelaySeconds) { ScheduleWrite(DelaySeconds); })
{
	// The OS may end a deactivated or backgrounded game without another word: what is tracked goes to disk first.
	DeactivateHandle = FCoreDelegates::ApplicationWillDeactivateDelegate.AddRaw(this, &FGamingPanelAnalytics::SaveNow);
	BackgroundHandle = FCoreDelegates::ApplicationWillEnterBackgroundDelegate.AddRaw(this, &FGamingPanelAnalytics::SaveNow);
	TerminateHandle = FCoreDelegates::ApplicationWillTerminateDelegate.AddRaw(this, &FGamingPanelAnalytics::SaveNow);
}

FGamingPanelAnalytics::~FGamingPanelAnalytics()
{
	FCoreDelegates::ApplicationWillDeactivateDelegate.Remove(DeactivateHandle);
	FCoreDelegates::ApplicationWillEnterBackgroundDelegate.Remove(BackgroundHandle);
	FCoreDelegates::ApplicationWillTerminateDelegate.Remove(TerminateHandle);
	SaveNow();
}

void FGamingPanelAnalytics::SaveNow()
{
	Queue.SaveNow();
}

void FGamingPanelAnalytics::ScheduleWrite(float DelaySeconds)
{
	// Only while this object exists: the timer holds it weakly.
	const TWeakPtr<FGamingPanelAnalytics> Weak = AsShared();
	FGamingPanelHttp::Delay(DelaySeconds, [Weak]()
	{
		if (const TSharedPtr<FGamingPanelAnalytics> Self = Weak.Pin()) Self->Queue.WriteDue();
	});
}

void FGamingPanelAnalytics::SyncClock()
{
	int64 Offset = 0;
	if (FGamingPanelHttp::GetPanelClockOffset(Offset)) Queue.SetClockOffset(Offset);
}

void FGamingPanelAnalytics::Load()
{
	const FString Player = Subsystem.IsValid() ? Subsystem->GetPlayerId() : FString();
	if (LoadedFor == Player && !Player.IsEmpty()) return;
	Queue.Persist(); // the previous player's events not on disk yet, to that player's file (LoadedFor names it)
	LoadedFor = Player;
	Queue.Reload();
}

bool FGamingPanelAnalytics::Track(const FString& Name, TSharedPtr<FJsonObject> Properties)
{
	if (!Subsystem.IsValid() || Subsystem->GetPlayerId().IsEmpty())
	{
		// Events are kept per player: with nobody logged in there is nobody to send them as.
		UE_LOG(LogGamingPanel, Warning, TEXT("Analytics event %s not kept: no player is logged in."), *Name);
		return false;
	}
	Load();
	SyncClock(); // stamped with the panel's clock (the login's answer told it, usually)
	const FString PropertiesJson = Properties.IsValid() ? FGamingPanelHttp::ToJsonString(Properties.ToSharedRef()) : FString();
	if (!Queue.Track(Name, PropertiesJson))
	{
		UE_LOG(LogGamingPanel, Warning, TEXT("Analytics event name %s refused: a lower-case letter, then letters, digits or _."), *Name);
		return false;
	}
	return true;
}

int32 FGamingPanelAnalytics::QueuedCount()
{
	Load();
	return Queue.QueuedCount();
}

void FGamingPanelAnalytics::Flush(FGamingPanelAnalyticsQueue::FOnFlushed OnComplete)
{
	Load();
	SyncClock();
	// Self rides along with every request, so this object (and its queue) outlives the answers.
	TSharedRef<FGamingPanelAnalytics> Self = AsShared();
	Queue.Flush(
		[Self](const TArray<FGamingPanelAnalyticsEvent>& Batch, FGamingPanelAnalyticsQueue::FOnAnswer OnAnswer)
		{
			UGamingPanelSubsystem* Panel = Self->Subsystem.Get();
			// The loaded player's events go with that player's session only: another login meanwhile ends the flush.
			if (!Panel || Panel->GetPlayerId() != Self->LoadedFor) return false;
			TArray<TSharedPtr<FJsonValue>> Events;
			for (const FGamingPanelAnalyticsEvent& Event : Batch) Events.Add(EventJson(Event));
			TSharedPtr<FJsonObject> Body = MakeShared<FJsonObject>();
			Body->SetArrayField(TEXT("events"), Events);
			// Not retried here: the queue is the retry (the next Flush sends it again, with the same ids).
			Panel->SendAuthorized(TEXT("POST"), TEXT("analytics/events"), Body, TMap<FString, FString>(), false,
				[Self, OnAnswer](const FGamingPanelResponse& Response)
				{
					FGamingPanelAnalyticsAnswer Answer;
					Answer.bOk = Response.bOk;
					Answer.Status = Response.Status;
					Answer.Error = Response.Error;
					Answer.PanelDate = FGamingPanelHttp::ParseDateHeader(Response.Date);
					const TSharedPtr<FJsonObject> Json = Response.bOk ? Response.JsonObject() : nullptr;
					// The panel's receipt carries `accepted`; an empty 2xx or another body (a proxy, a portal) does not.
					const TSharedPtr<FJsonValue> Accepted = Json.IsValid() ? Json->TryGetField(TEXT("accepted")) : nullptr;
					Answer.bAccepted = Accepted.IsValid() && Accepted->Type == EJson::Number;
					const TArray<TSharedPtr<FJsonValue>>* Rejected = Json.IsValid() ? GamingPanelJson::GetArray(*Json, TEXT("rejected")) : nullptr;
					Answer.Rejected = Rejected ? Rejected->Num() : 0;
					if (!Response.bOk)
					{
						// The panel's problem document: its Content-Type, or a JSON object with a `code`.
						const TSharedPtr<FJsonValue> Problem = FGamingPanelHttp::ParseJson(Response.Body);
						const TSharedPtr<FJsonObject> ProblemObject = Problem.IsValid() && Problem->Type == EJson::Object ? Problem->AsObject() : nullptr;
						Answer.bProblemDocument = Response.ContentType.StartsWith(TEXT("application/problem+json"))
							|| (ProblemObject.IsValid() && !GamingPanelJson::GetString(*ProblemObject, TEXT("code")).IsEmpty());
					}
					OnAnswer(Answer);
				});
			return true;
		},
		OnComplete);
}
